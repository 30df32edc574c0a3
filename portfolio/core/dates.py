"""Dates and times as people in the UK read them: "2 December 2026", and clock times in
Europe/London (GMT or BST, whichever was in force), never UTC or ISO. The database keeps UTC;
only what is shown changes. Registered as template filters by :func:`init_dates`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask

LONDON = ZoneInfo("Europe/London")


def _local_day(value: dt.date | dt.datetime) -> dt.date:
    """The calendar day in London: a UTC time just before midnight in summer is the next day."""
    if isinstance(value, dt.datetime):
        return value.astimezone(LONDON).date()
    return value


def long_date(value: dt.date | dt.datetime | None) -> str:
    """``2 December 2026``."""
    if value is None:
        return ""
    day = _local_day(value)
    return f"{day.day} {day:%B %Y}"


def short_date(value: dt.date | dt.datetime | None) -> str:
    """``2 Dec 2026``."""
    if value is None:
        return ""
    day = _local_day(value)
    return f"{day.day} {day:%b %Y}"


def date_time(value: dt.datetime | None) -> str:
    """``2 Dec 2026, 14:05`` in London time."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%b %Y, %H:%M}"


def init_dates(app: Flask) -> None:
    for name, render in (("long_date", long_date), ("short_date", short_date),
                         ("date_time", date_time)):
        app.add_template_filter(render, name)
