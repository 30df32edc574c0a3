"""Who may decide: ``staff.authority`` per built-in qualification, for each standing, on the
boundary day of the time allowed to qualify."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.accounts import staff
from portfolio.catalogue import services as catalogue
from tests.helpers.countersigning import record_staff

STARTED = dt.date(2024, 9, 3)
WITHIN = dt.date(2025, 6, 1)
LAST_DAY = dt.date(2026, 3, 3)  # 18 months from 3 September 2024
AFTER = dt.date(2026, 3, 4)

FULL = (True, False)
COUNTERSIGNED = (True, True)
REFUSED = (False, False)

# (qualification, standing, day) -> (may decide, needs countersignature)
TABLE = [
    ("600/9662/7", "qualified", AFTER, FULL),
    ("600/9662/7", "working_towards", WITHIN, COUNTERSIGNED),
    ("600/9662/7", "working_towards", LAST_DAY, COUNTERSIGNED),
    ("600/9662/7", "working_towards", AFTER, REFUSED),
    ("600/9662/7", None, AFTER, FULL),
    # City & Guilds: "hold, or be working towards", no limit and no countersignature.
    ("600/1137/3", "working_towards", dt.date(2030, 1, 1), FULL),
    ("600/1138/5", "working_towards", AFTER, FULL),
    ("600/1138/5", "qualified", AFTER, FULL),
    # The documents that set no condition limit nobody.
    ("600/1257/2", "working_towards", dt.date(2030, 1, 1), FULL),
    ("600/1636/X", "working_towards", AFTER, FULL),
    ("601/5358/1", "working_towards", AFTER, FULL),
    ("601/5359/3", "working_towards", AFTER, FULL),
]


@pytest.mark.parametrize("role", ["assessor", "iqa"])
@pytest.mark.parametrize(("qualification_number", "status", "on", "expected"), TABLE)
def test_authority_per_built_in_qualification(people, session, role, qualification_number,
                                              status, on, expected):
    person = people.iqa2  # holds both roles
    if status is not None:
        record_staff(session, person, status, STARTED, qualification_number, role=role)
    version = catalogue.find_version(session, qualification_number)
    found = staff.authority(session, person, version, role, on)
    assert (found.may_decide, found.needs_countersignature) == expected
    assert found.reason


def test_past_the_time_allowed_the_reason_says_why_and_what_to_do(people, session):
    record_staff(session, people.assessor1, "working_towards", STARTED)
    version = catalogue.find_version(session, "600/9662/7")
    refused = staff.authority(session, people.assessor1, version, "assessor", AFTER)
    assert refused.reason == (
        "Your 18 months to qualify as an assessor for 600/9662/7 ended on 3 March 2026: a "
        "qualified assessor must decide, or record your qualification first.")
    as_iqa = record_staff(session, people.iqa1, "working_towards", STARTED, role="iqa")
    assert as_iqa.started_on == STARTED
    assert staff.authority(session, people.iqa1, version, "iqa", AFTER).reason == (
        "Your 18 months to qualify as an IQA for 600/9662/7 ended on 3 March 2026: a qualified "
        "IQA must decide, or record your qualification first.")


def test_a_working_towards_reason_names_the_last_day(people, session):
    record_staff(session, people.assessor1, "working_towards", STARTED)
    version = catalogue.find_version(session, "600/9662/7")
    found = staff.authority(session, people.assessor1, version, "assessor", WITHIN)
    assert "until 3 March 2026" in found.reason and "countersigns" in found.reason


def test_the_record_in_force_on_the_day_decides(people, session):
    """Qualifying later restores full authority from that day; the days before keep theirs."""
    record_staff(session, people.assessor1, "working_towards", STARTED)
    version = catalogue.find_version(session, "600/9662/7")
    record_staff(session, people.assessor1, "qualified", dt.date(2026, 5, 1))
    on = {day: staff.authority(session, people.assessor1, version, "assessor", day)
          for day in (WITHIN, AFTER, dt.date(2026, 5, 1))}
    assert [(a.may_decide, a.needs_countersignature) for a in on.values()] == [
        COUNTERSIGNED, REFUSED, FULL]


def test_another_role_or_person_s_record_does_not_count(people, session):
    record_staff(session, people.assessor1, "working_towards", STARTED, role="iqa")
    record_staff(session, people.assessor2, "working_towards", STARTED)
    version = catalogue.find_version(session, "600/9662/7")
    found = staff.authority(session, people.assessor1, version, "assessor", AFTER)
    assert (found.may_decide, found.needs_countersignature) == FULL


@pytest.mark.parametrize(("start", "months", "expected"), [
    (dt.date(2024, 9, 3), 18, dt.date(2026, 3, 3)),
    (dt.date(2024, 8, 31), 18, dt.date(2026, 2, 28)),
    (dt.date(2022, 8, 31), 18, dt.date(2024, 2, 29)),
    (dt.date(2025, 1, 31), 1, dt.date(2025, 2, 28)),
    (dt.date(2025, 12, 15), 1, dt.date(2026, 1, 15)),
    (dt.date(2025, 3, 1), 120, dt.date(2035, 3, 1)),
])
def test_months_are_calendar_months_clamped_to_the_month_s_end(start, months, expected):
    assert staff.add_months(start, months) == expected
