"""Staff records: an assessor's or IQA's standing per qualification, checked field by field,
appended (never changed), and the standing in force on a given day."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.accounts import staff
from portfolio.accounts.people import FieldRefused
from portfolio.accounts.services import AccountError
from portfolio.catalogue import services as catalogue
from portfolio.core.audit import AuditEvent

TODAY = dt.date(2026, 12, 2)


def _qualification_id(session, number="600/1636/X"):
    return catalogue.find_version(session, number).qualification_id


def _record(session, people, person=None, actor=None, **changes):
    standing = staff.Standing(**{
        "qualification_id": _qualification_id(session), "role": "assessor",
        "status": "working_towards", "started_on": dt.date(2025, 1, 6), **changes})
    return staff.record_standing(session, person or people.assessor1, standing,
                                 actor or people.admin, today=TODAY)


def test_a_change_appends_a_row_and_the_latest_is_current(people, session):
    first = _record(session, people)
    second = _record(session, people, status="qualified", held_qualification=" TAQA ",
                     qualified_on=dt.date(2026, 3, 2))
    history = staff.history_of(session, people.assessor1.id)
    assert history == [second, first]
    assert staff.current_records(history) == [second]
    assert (second.held_qualification, second.recorded_by_id) == ("TAQA", people.admin.id)
    assert (first.status, first.qualified_on) == ("working_towards", None)  # unchanged
    events = list(session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "staff_record.made").order_by(AuditEvent.id)))
    assert [e.data["status"] for e in events] == ["working_towards", "qualified"]
    assert events[1].sentence == ("recorded Assessor1 as assessor on 600/1636/X: qualified "
                                  "since 6 January 2025")


def test_the_standing_on_a_day_is_the_one_then_in_force(people, session):
    qualification_id = _qualification_id(session)
    working = _record(session, people)
    qualified = _record(session, people, status="qualified", held_qualification="TAQA",
                        qualified_on=dt.date(2026, 3, 2))

    def on(day):
        return staff.current_standing(session, people.assessor1.id, qualification_id,
                                      "assessor", day)

    assert on(dt.date(2025, 1, 5)) is None  # before they started
    assert on(dt.date(2025, 1, 6)) == working
    assert on(dt.date(2026, 3, 1)) == working  # the day before they qualified
    assert on(dt.date(2026, 3, 2)) == qualified
    assert on(TODAY) == qualified
    assert staff.current_standing(session, people.assessor1.id, qualification_id, "iqa",
                                  TODAY) is None
    assert staff.current_standing(session, people.assessor1.id,
                                  _qualification_id(session, "600/1257/2"), "assessor",
                                  TODAY) is None
    # Someone qualified before starting here is qualified from their first day.
    iqa = _record(session, people, person=people.iqa1, role="iqa", status="qualified",
                  qualified_on=dt.date(2019, 5, 1), started_on=dt.date(2026, 1, 5))
    assert staff.current_standing(session, people.iqa1.id, qualification_id, "iqa",
                                  dt.date(2026, 1, 5)) == iqa


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"started_on": TODAY + dt.timedelta(days=1)}, "started_on", "still to come"),
    ({"role": "iqa"}, "role", "does not hold the internal quality assurer role here"),
    ({"role": "centre_admin"}, "role", "Choose assessor or IQA"),
    ({"status": "expert"}, "status", "Choose qualified or working towards"),
    ({"qualification_id": 999_999}, "qualification_id", "from the catalogue"),
    ({"held_qualification": "TAQA"}, "held_qualification", "Only for someone qualified"),
    ({"qualified_on": dt.date(2025, 1, 1)}, "qualified_on", "Only for someone qualified"),
    ({"status": "qualified", "qualified_on": TODAY + dt.timedelta(days=1)}, "qualified_on",
     "still to come"),
])
def test_each_answer_is_checked_and_refused_next_to_its_field(people, session, changes, field,
                                                                 message):
    with pytest.raises(FieldRefused, match=message) as refused:
        _record(session, people, **changes)
    assert refused.value.field == field
    assert staff.history_of(session, people.assessor1.id) == []


def test_the_same_record_twice_changes_nothing_and_only_own_admins_record(people, session):
    _record(session, people)
    with pytest.raises(FieldRefused, match="already their record"):
        _record(session, people)
    with pytest.raises(FieldRefused, match="does not hold the assessor role"):
        _record(session, people, person=people.learner1)
    with pytest.raises(AccountError, match="Only an admin of the person's centre"):
        _record(session, people, actor=people.other_admin)
    with pytest.raises(AccountError, match="Only an admin of the person's centre"):
        _record(session, people, actor=people.assessor2)
    assert len(staff.history_of(session, people.assessor1.id)) == 1


def test_the_qualifications_offered_are_the_centres_catalogue(people, session):
    numbers = [q.qualification_number for q in staff.qualifications_for(session, people.centre.id)]
    assert "600/1636/X" in numbers and numbers == sorted(set(numbers))
