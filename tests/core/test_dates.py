"""Dates and times as shown: UK day-month-year, clock times in Europe/London across the changes
between GMT and BST, and the London day of a UTC time near midnight."""

from __future__ import annotations

import datetime as dt

from portfolio.core.dates import date_time, long_date, short_date

UTC = dt.UTC


def test_days_read_day_month_year_without_a_leading_zero():
    assert long_date(dt.date(2026, 12, 2)) == "2 December 2026"
    assert short_date(dt.date(2026, 3, 9)) == "9 Mar 2026"
    assert long_date(None) == short_date(None) == date_time(None) == ""


def test_clock_times_are_london_time_in_winter_and_in_summer():
    assert date_time(dt.datetime(2026, 1, 15, 9, 30, tzinfo=UTC)) == "15 Jan 2026, 09:30"
    assert date_time(dt.datetime(2026, 7, 15, 9, 30, tzinfo=UTC)) == "15 Jul 2026, 10:30"
    # The clocks go forward at 01:00 UTC on the last Sunday of March 2026 (29 March).
    assert date_time(dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "29 Mar 2026, 00:59"
    assert date_time(dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "29 Mar 2026, 02:00"


def test_a_summer_evening_in_utc_is_the_next_day_in_london():
    late = dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert long_date(late) == "1 July 2026"
    assert short_date(late) == "1 Jul 2026"
    assert long_date(dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "31 December 2026"
