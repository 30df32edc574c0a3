"""Who is told of what: one notification per person who needs to act or know, made in the
transaction of the change (rolled back with it), never to the person who did it."""

from __future__ import annotations

import sqlalchemy as sa

from portfolio.accounts.enrolments import move_enrolment
from portfolio.assessment.units import declare_unit, sign_off_unit, unlock_unit
from portfolio.evidence import services as evidence
from portfolio.notifications.models import Notification
from portfolio.notifications.services import TEXT_LENGTH
from tests.helpers.assessment import add_item, criteria_of, decide, meet_unit, unit_node


def told(session, **where) -> list[tuple[int, str]]:
    """(recipient, kind) of every notification, oldest first."""
    query = sa.select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return [(n.recipient_id, n.kind) for n in session.scalars(query)]


def test_new_evidence_tells_the_learners_assessor_with_a_link_to_judge_it(session, people):
    item = add_item(session, people.enrolment1, criteria_of(session, people.enrolment1, "301", 2),
                    title="Handling a complaint")
    [notification] = session.scalars(sa.select(Notification))
    assert notification.recipient_id == people.assessor1.id
    assert notification.centre_id == people.centre.id
    assert notification.kind == "evidence_awaiting"
    assert notification.text == ("Learner1 submitted evidence “Handling a complaint”: it is "
                                 "waiting for your decision.")
    assert notification.link == f"/evidence/{item.id}/judge"
    assert notification.read_at is None


def test_a_learners_changed_claims_tell_the_assessor_and_an_assessors_mapping_tells_nobody(
        session, people):
    enrolment = people.enrolment1
    criteria = criteria_of(session, enrolment, "301", 3)
    item = add_item(session, enrolment, criteria[:1])
    session.commit()  # each its own request
    evidence.change_claims(session, item, people.learner1, criteria[:2])
    assert told(session) == [(people.assessor1.id, "evidence_awaiting")] * 2
    evidence.map_criteria(session, item, people.assessor1, criteria[2:])
    assert len(told(session)) == 2


def test_a_batch_of_decisions_on_one_item_tells_the_learner_once(session, people):
    enrolment = people.enrolment1
    criteria = criteria_of(session, enrolment, "301", 3)
    item = add_item(session, enrolment, criteria)
    decide(session, item, people.assessor1, criteria[:2])
    session.commit()  # each its own request
    decide(session, item, people.assessor1, criteria[2:], "not_yet_met")
    assert told(session, kind="decision_recorded") == [(people.learner1.id,
                                                        "decision_recorded")] * 2
    [first, _] = session.scalars(sa.select(Notification).where(
        Notification.kind == "decision_recorded"))
    assert first.link == f"/evidence/{item.id}"


def test_a_unit_met_asks_the_learner_to_declare_then_the_assessor_to_sign_off(session, people):
    enrolment = people.enrolment2  # 600/1257/2 asks for the learner's declaration
    meet_unit(session, enrolment, "01", people.assessor2)
    assert told(session, kind="unit_ready_to_declare") == [(people.learner2.id,
                                                            "unit_ready_to_declare")]
    assert told(session, kind="unit_ready_to_sign_off") == []

    unit = unit_node(session, enrolment, "01")
    declare_unit(session, enrolment, unit.id, people.learner2)
    [ready] = session.scalars(sa.select(Notification).where(
        Notification.kind == "unit_ready_to_sign_off"))
    assert ready.recipient_id == people.assessor2.id
    assert ready.text == "Unit 01 of Learner2 is ready to sign off."
    assert ready.link == f"/enrolments/{enrolment.id}/progress"

    sign_off_unit(session, enrolment, unit.id, people.assessor2)
    assert told(session, kind="unit_signed_off") == [(people.learner2.id, "unit_signed_off")]


def test_a_unit_met_by_another_assessors_decisions_tells_the_learners_own(session, people):
    enrolment = people.enrolment1  # no declarations
    meet_unit(session, enrolment, "301", people.iqa2)  # iqa2 also holds the assessor role
    assert told(session, kind="unit_ready_to_sign_off") == [(people.assessor1.id,
                                                             "unit_ready_to_sign_off")]


def test_the_assessor_who_meets_a_unit_is_not_told_of_their_own_work(session, people):
    meet_unit(session, people.enrolment1, "301", people.assessor1)
    assert told(session, kind="unit_ready_to_sign_off") == []
    assert people.assessor1.id not in {r for r, _ in told(session)
                                       if _ != "evidence_awaiting"}


def test_an_unlock_tells_the_learner_and_the_assessor(session, people):
    enrolment = people.enrolment1
    meet_unit(session, enrolment, "301", people.assessor1)
    signed = sign_off_unit(session, enrolment, unit_node(session, enrolment, "301").id,
                           people.assessor1)
    unlock_unit(session, signed, people.admin, "EQA found a gap")
    assert sorted(told(session, kind="unit_unlocked")) == sorted(
        [(people.learner1.id, "unit_unlocked"), (people.assessor1.id, "unit_unlocked")])


def test_a_move_tells_the_old_and_new_holders_but_not_the_admin(session, people):
    enrolment = people.enrolment1
    move_enrolment(session, enrolment, people.admin, assessor_id=people.assessor2.id,
                   iqa_id=people.iqa2.id)
    links = {n.recipient_id: n.link for n in session.scalars(
        sa.select(Notification).where(Notification.kind == "enrolment_moved"))}
    assert links == {people.assessor2.id: f"/enrolments/{enrolment.id}/progress",
                     people.iqa2.id: f"/enrolments/{enrolment.id}/progress",
                     people.assessor1.id: "/", people.iqa1.id: "/"}


def test_a_long_title_is_cut_to_the_sentence_column_with_an_ellipsis(session, people):
    people.learner1.name = "L" * 150
    add_item(session, people.enrolment1, criteria_of(session, people.enrolment1, "301", 1),
             title="A" * 200)
    [notification] = session.scalars(sa.select(Notification))
    assert len(notification.text) == TEXT_LENGTH and notification.text.endswith("A…")


def test_a_disabled_account_is_not_told(session, people):
    people.assessor1.is_enabled = False
    session.flush()
    add_item(session, people.enrolment1, criteria_of(session, people.enrolment1, "301", 1))
    assert told(session) == []


def test_a_change_rolled_back_leaves_no_notification(session, people):
    savepoint = session.begin_nested()
    add_item(session, people.enrolment1, criteria_of(session, people.enrolment1, "301", 1))
    savepoint.rollback()
    assert told(session) == []
