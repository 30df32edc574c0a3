"""Standardisation's domain events, each with its sentence for the audit trail."""

from __future__ import annotations

from portfolio.core.events import Event


def _criteria(data) -> str:
    count = data.get("criteria", 0)
    return f"{count} criterion" if count == 1 else f"{count} criteria"


activity_planned = Event(
    "standardisation.planned",
    lambda data: (f"planned the standardisation “{data.get('title', '')}” on "
                  f"{data.get('held_on', '?')}, led by {data.get('lead', '?')}, with "
                  f"{len(data.get('participants', []))} participants"))
evidence_added = Event(
    "standardisation.evidence_added",
    lambda data: (f"added {'the exemplar' if data.get('exemplar') else 'the evidence'} "
                  f"“{data.get('title', '')}” ({_criteria(data)}) to the standardisation "
                  f"“{data.get('activity', '')}”"))
evidence_judged = Event(
    "standardisation.judged",
    lambda data: (f"recorded a judgement of “{data.get('title', '')}” ({_criteria(data)}) in the "
                  f"standardisation “{data.get('activity', '')}”"))
round_opened = Event(
    "standardisation.round_opened",
    lambda data: (f"{'closed' if data.get('closed_by_lead') else 'completed'} the round of the "
                  f"standardisation “{data.get('activity', '')}”: the judgements are open to "
                  "every participant"))
minutes_recorded = Event("standardisation.minutes_recorded",
                         "recorded minutes of the standardisation “{activity}”")
action_agreed = Event(
    "standardisation.action_agreed",
    "recorded the action “{text}” for {owner} by {due_on}, agreed at the standardisation "
    "“{activity}”")
