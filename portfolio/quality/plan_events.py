"""The events of sampling strategies and plans, each with its sentence for the audit trail."""

from __future__ import annotations

import calendar
import datetime as dt

from portfolio.core.dates import long_date
from portfolio.core.events import Event


def _strategy(data) -> str:
    month = calendar.month_name[data.get("cycle_start_month") or 0] or "?"
    return (f"set the sampling strategy: {data.get('cycle_months', '?')}-month cycles from "
            f"{data.get('cycle_start_day', '?')} {month}; working towards "
            f"{data.get('working_towards_percent', '?')} %, new "
            f"{data.get('new_percent', '?')} %, experienced "
            f"{data.get('experienced_percent', '?')} %; interim "
            f"{data.get('interim_percent', '?')} %")


strategy_revised = Event("sampling_strategy.revised", _strategy)
def _created(data) -> str:
    try:
        starts = long_date(dt.date.fromisoformat(data.get("cycle_starts_on", "")))
    except ValueError:
        starts = "?"
    return (f"made the sampling plan of {data.get('assessor', '?')}'s work on "
            f"{data.get('qualification', '?')} for the cycle from {starts}: "
            f"{data.get('planned', '?')} samples proposed by the generator")


plan_created = Event("sampling_plan.created", _created)
plan_revised = Event("sampling_plan.revised",
                     "changed the sampling plan of {assessor}'s work on {qualification}: "
                     "{added} added, {removed} removed ({note})")
