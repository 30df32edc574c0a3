"""An enrolment's life: editing, moving (with the history of holders), breaks, withdrawal and
completion; refusals; ended enrolments are read-only for every service that changes a record."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from portfolio.accounts import enrolments as lifecycle
from portfolio.accounts.history import EnrolmentAssignment, EnrolmentBreak
from portfolio.accounts.models import Enrolment
from portfolio.accounts.services import AccountError, EnrolmentEnded, NewEnrolment, enrol
from portfolio.assessment import units
from portfolio.assessment.errors import AssessmentError
from portfolio.core.audit import AuditEvent
from portfolio.core.errors import DomainError
from portfolio.core.events import describe
from portfolio.evidence import services as evidence
from portfolio.evidence import uploads
from portfolio.evidence.models import EvidenceFile
from portfolio.extensions import object_store
from tests.helpers.assessment import add_item, criteria_of, decide, meet_unit, unit_node
from tests.helpers.factories import make_user
from tests.helpers.queries import count_rows
from tests.helpers.samples import PDF

TODAY = dt.date(2026, 12, 2)


def _events(session, action):
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)))


def _holders(session, enrolment):
    return [(h.role, h.user_id, h.to_at is None)
            for h in lifecycle.holders_of(session, enrolment)]


def test_editing_checks_the_details_as_enrolling_does(people, session):
    e = people.enrolment1
    lifecycle.edit_enrolment(session, e, lifecycle.EnrolmentDetails(
        " NEW-1 ", dt.date(2026, 9, 2), dt.date(2027, 12, 31)), people.admin)
    assert (e.registration_number, e.planned_end_date) == ("NEW-1", dt.date(2027, 12, 31))
    [event] = _events(session, "enrolment.edited")
    assert event.data["before"]["registration_number"].startswith("REG-")
    for details, message in [
        (("NEW-1", dt.date(2026, 9, 2), dt.date(2026, 1, 1)), "planned end date is before"),
        (("  ", dt.date(2026, 9, 2), dt.date(2027, 1, 1)), "Give the learner's registration"),
        ((people.enrolment2.registration_number, dt.date(2026, 9, 2), dt.date(2027, 1, 1)),
         "already in use"),
        (("NEW-1", dt.date(2026, 9, 2), dt.date(2027, 12, 31)), "Nothing changed"),
    ]:
        with pytest.raises(AccountError, match=message):
            lifecycle.edit_enrolment(session, e, lifecycle.EnrolmentDetails(*details),
                                     people.admin)
    assert e.registration_number == "NEW-1"


def test_moving_keeps_who_held_it_when_and_names_both_assessors(people, session):
    e = people.enrolment1
    lifecycle.move_enrolment(session, e, people.admin, assessor_id=people.assessor2.id,
                             iqa_id=e.iqa_id)
    lifecycle.move_enrolment(session, e, people.admin, assessor_id=people.assessor1.id,
                             iqa_id=people.iqa2.id)
    assert (e.assessor_id, e.iqa_id) == (people.assessor1.id, people.iqa2.id)
    assert _holders(session, e) == [
        ("assessor", people.assessor1.id, False), ("iqa", people.iqa1.id, False),
        ("assessor", people.assessor2.id, False), ("assessor", people.assessor1.id, True),
        ("iqa", people.iqa2.id, True)]
    assert lifecycle.holders_of(session, e)[2].assigned_by_id == people.admin.id
    first, second = _events(session, "enrolment.moved")
    assert (first.data["old_assessor_id"], first.data["new_assessor_id"]) == (
        people.assessor1.id, people.assessor2.id)
    assert "old_iqa_id" not in first.data
    assert second.data["new_iqa_id"] == people.iqa2.id
    assert "assessor Assessor2 to Assessor1" in describe(second.action, second.data)


def test_an_enrolment_made_by_enrol_records_its_first_holders(people, session):
    learner = make_user(session, people.centre, "new@north.test", "learner")
    version_id = people.enrolment1.version_id
    e = enrol(session, people.centre, NewEnrolment(
        learner.id, version_id, "R-NEW", TODAY, TODAY + dt.timedelta(days=300),
        people.assessor1.id, people.iqa1.id), people.admin, today=TODAY)
    assert _holders(session, e) == [("assessor", people.assessor1.id, True),
                                    ("iqa", people.iqa1.id, True)]


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: {"assessor_id": p.iqa1.id}, "Choose a assessor from this centre"),
    (lambda p: {"iqa_id": p.assessor1.id}, "Choose a internal quality assurer"),
    # iqa2 also assesses: as the IQA of an enrolment they assess, they would sample themselves.
    (lambda p: {"assessor_id": p.iqa2.id, "iqa_id": p.iqa2.id}, "IQA cannot be"),
    (lambda p: {"assessor_id": p.other_enrolment.assessor_id}, "from this centre"),
    (lambda p: {"assessor_id": p.assessor1.id}, "Nothing to move"),
])
def test_moves_are_refused_to_whoever_cannot_hold_the_enrolment(people, session, change,
                                                                  message):
    e = people.enrolment1
    before = _holders(session, e)
    target = {"assessor_id": e.assessor_id, "iqa_id": e.iqa_id, **change(people)}
    with pytest.raises(AccountError, match=message):
        lifecycle.move_enrolment(session, e, people.admin, **target)
    session.refresh(e)
    assert _holders(session, e) == before
    assert (e.assessor_id, e.iqa_id) == (people.assessor1.id, people.iqa1.id)


def test_a_deactivated_assessor_cannot_take_an_enrolment_and_theirs_are_listed(people, session):
    people.assessor2.is_enabled = False
    session.flush()
    with pytest.raises(AccountError, match="Assessor2 is deactivated"):
        lifecycle.move_enrolment(session, people.enrolment1, people.admin,
                                 assessor_id=people.assessor2.id, iqa_id=people.iqa1.id)
    assert lifecycle.needing_holders(session, people.centre.id) == [people.enrolment2]
    # Only the assessor moves: the IQA, still able to hold it, stays as they are.
    lifecycle.move_enrolment(session, people.enrolment2, people.admin,
                             assessor_id=people.assessor1.id, iqa_id=people.iqa2.id)
    assert lifecycle.needing_holders(session, people.centre.id) == []


def test_only_an_admin_of_the_learners_centre_changes_an_enrolment(people, session):
    for actor in (people.assessor1, people.iqa1, people.learner1, people.other_admin):
        with pytest.raises(AccountError, match="Only an admin"):
            lifecycle.withdraw_enrolment(session, people.enrolment1, actor, on=TODAY,
                                         reason="left", today=TODAY)
    assert people.enrolment1.is_open


def test_a_break_shows_and_can_extend_the_planned_end(people, session):
    e = people.enrolment1
    pause = lifecycle.record_break(session, e, people.admin, starts_on=dt.date(2026, 11, 1),
                                   ends_on=None, reason="Illness",
                                   planned_end_date=dt.date(2027, 11, 30))
    assert e.planned_end_date == dt.date(2027, 11, 30)
    breaks = lifecycle.breaks_of(session, e)
    assert lifecycle.current_break(breaks, TODAY) == pause
    with pytest.raises(AccountError, match="overlaps the break from 01 November 2026"):
        lifecycle.record_break(session, e, people.admin, starts_on=dt.date(2027, 1, 1),
                               ends_on=None, reason="Again")
    lifecycle.end_break(session, pause, people.admin, dt.date(2026, 11, 30))
    with pytest.raises(AccountError, match="not bring it forward"):
        lifecycle.record_break(session, e, people.admin, starts_on=dt.date(2027, 6, 1),
                               ends_on=dt.date(2027, 6, 5), reason="Holiday",
                               planned_end_date=dt.date(2027, 1, 1))
    assert lifecycle.current_break(lifecycle.breaks_of(session, e), TODAY) is None
    with pytest.raises(AccountError, match="already ended"):
        lifecycle.end_break(session, pause, people.admin, dt.date(2026, 12, 1))
    assert [x.action for x in session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.like("enrolment.break%")))] == [
        "enrolment.break_recorded", "enrolment.break_ended"]


def test_a_break_needs_a_reason_and_days_in_order(people, session):
    e = people.enrolment1
    for starts, ends, reason, message in [
        (dt.date(2026, 10, 1), None, "  ", "Say why"),
        (dt.date(2026, 10, 5), dt.date(2026, 10, 1), "Ill", "ends before it starts"),
        (dt.date(2026, 8, 1), None, "Ill", "starts before the enrolment did"),
    ]:
        with pytest.raises(AccountError, match=message):
            lifecycle.record_break(session, e, people.admin, starts_on=starts, ends_on=ends,
                                   reason=reason)
    assert count_rows(session, EnrolmentBreak) == 0


def test_withdrawal_ends_the_enrolment_and_keeps_everything(people, session):
    e = people.enrolment1
    item = add_item(session, e, criteria_of(session, e, "301", 1))
    with pytest.raises(AccountError, match="reason"):
        lifecycle.withdraw_enrolment(session, e, people.admin, on=TODAY, reason=" ",
                                     today=TODAY)
    with pytest.raises(AccountError, match="still to come"):
        lifecycle.withdraw_enrolment(session, e, people.admin, on=TODAY + dt.timedelta(days=1),
                                     reason="Moved away", today=TODAY)
    lifecycle.withdraw_enrolment(session, e, people.admin, on=TODAY, reason="Moved away",
                                 today=TODAY)
    assert (e.status, e.ended_on, e.ended_reason, e.is_open) == (
        "withdrawn", TODAY, "Moved away", False)
    assert all(not still_held for *_, still_held in _holders(session, e))
    assert session.get(type(item), item.id) is not None
    [event] = _events(session, "enrolment.withdrawn")
    assert event.learner_id == e.learner_id
    assert "Moved away" in describe(event.action, event.data)


def test_completion_waits_for_every_decision(people, session):
    e = people.enrolment1
    criteria = criteria_of(session, e, "301", 2)
    item = add_item(session, e, criteria)
    with pytest.raises(AssessmentError, match=r"awaits a decision \(1 item\)"):
        lifecycle.complete_enrolment(session, e, people.admin, on=TODAY, today=TODAY)
    assert e.is_open
    decide(session, item, people.assessor1, criteria)
    lifecycle.complete_enrolment(session, e, people.admin, on=TODAY, today=TODAY)
    assert (e.status, e.ended_on) == ("completed", TODAY)
    assert _events(session, "enrolment.completed")


def _ended(people, session):
    e = people.enrolment1
    lifecycle.withdraw_enrolment(session, e, people.admin, on=TODAY, reason="Left",
                                 today=TODAY)
    return e


def test_an_ended_enrolment_refuses_every_change_with_a_message(people, session):
    e = people.enrolment1
    criteria = criteria_of(session, e, "301", 2)
    item = add_item(session, e, criteria)
    meet_unit(session, e, "302", people.assessor1)
    _ended(people, session)
    unit = unit_node(session, e, "301")
    changes = [
        lambda: add_item(session, e, criteria),
        lambda: evidence.change_claims(session, item, people.learner1, criteria[:1]),
        lambda: evidence.withdraw(session, item, people.learner1),
        lambda: decide(session, item, people.assessor1, criteria),
        lambda: units.declare_unit(session, e, unit.id, people.learner1),
        lambda: units.sign_off_unit(session, e, unit_node(session, e, "302").id,
                                    people.assessor1),
        lambda: lifecycle.edit_enrolment(session, e, lifecycle.EnrolmentDetails(
            "X", e.start_date, e.planned_end_date), people.admin),
        lambda: lifecycle.move_enrolment(session, e, people.admin,
                                         assessor_id=people.assessor2.id, iqa_id=e.iqa_id),
        lambda: lifecycle.record_break(session, e, people.admin, starts_on=TODAY,
                                       ends_on=None, reason="x"),
        lambda: lifecycle.complete_enrolment(session, e, people.admin, on=TODAY, today=TODAY),
        lambda: lifecycle.withdraw_enrolment(session, e, people.admin, on=TODAY,
                                             reason="again", today=TODAY),
    ]
    for change in changes:
        with pytest.raises(EnrolmentEnded, match="This enrolment is withdrawn: its record is "
                                                 "read-only"):
            change()
    assert (e.registration_number, e.assessor_id) != ("X", people.assessor2.id)


def test_an_upload_finishing_after_the_withdrawal_is_refused_and_nothing_stays(
        people, session, app):
    """The enrolment ends while a file streams (the permission was checked before): the row is
    refused under the enrolment lock and the objects already written go with the rollback."""
    e = people.enrolment1
    limits = uploads.UploadLimits.from_settings(app.config["PORTFOLIO_SETTINGS"],
                                                with_quota=True)
    session.commit()
    stored = uploads.store_upload(object_store(), e.id, io.BytesIO(PDF), "late.pdf", limits)
    assert list(object_store().iter_objects(stored.key))
    _ended(people, session)
    session.commit()
    files = count_rows(session, EvidenceFile)
    with pytest.raises(EnrolmentEnded, match="read-only"):
        uploads.record_uploads(session, object_store(), [stored], e.id, people.learner1.id,
                               limits.quota)
    session.rollback()
    assert count_rows(session, EvidenceFile) == files
    assert list(object_store().iter_objects(stored.key)) == []


def test_nothing_is_deleted_by_any_change(people, session):
    e = people.enrolment1
    lifecycle.move_enrolment(session, e, people.admin, assessor_id=people.assessor2.id,
                             iqa_id=e.iqa_id)
    lifecycle.record_break(session, e, people.admin, starts_on=dt.date(2026, 10, 1),
                           ends_on=dt.date(2026, 10, 10), reason="Ill")
    _ended(people, session)
    assert session.get(Enrolment, e.id) is not None
    assert count_rows(session, EnrolmentAssignment,
                      EnrolmentAssignment.enrolment_id == e.id) == 3
    assert count_rows(session, EnrolmentBreak, EnrolmentBreak.enrolment_id == e.id) == 1
    assert issubclass(EnrolmentEnded, DomainError)


def test_an_iqa_who_no_longer_holds_the_role_leaves_their_enrolments_to_reassign(people,
                                                                                 session):
    [grant] = people.iqa1.grants
    grant.expires_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    session.flush()
    assert lifecycle.needing_holders(session, people.centre.id) == [people.enrolment1]
    _ended(people, session)
    assert lifecycle.needing_holders(session, people.centre.id) == []
