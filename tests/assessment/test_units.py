"""Units: sign-off once every criterion is met (with the learner's declaration where the
qualification asks for one), RPL and credit transfer, locking, unlocking, and the qualification's
progress from the rules engine."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.assessment.decisions import Judgement, record_decisions
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.models import Decision, UnitSignOff, UnitUnlock
from portfolio.assessment.progress import current_sign_offs
from portfolio.assessment.units import (
    declare_unit,
    record_prior_achievement,
    sign_off_unit,
    unlock_unit,
)
from portfolio.catalogue.tree import version_tree
from portfolio.core.audit import AuditEvent
from portfolio.evidence import services as evidence
from portfolio.evidence.models import EvidenceItem
from tests.helpers.assessment import (
    FEEDBACK,
    add_item,
    criteria_of,
    current,
    decide,
    meet_unit,
    progress,
    unit_node,
)
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token


def unit_progress(session, enrolment, number):
    return next(u for u in progress(session, enrolment).units if u.unit.number == number)


def sign_off(session, enrolment, number, assessor):
    return sign_off_unit(session, enrolment, unit_node(session, enrolment, number).id,
                                  assessor)


def test_sign_off_is_refused_until_every_criterion_is_met(session, people):
    enrolment = people.enrolment1
    criteria = criteria_of(session, enrolment, "301")
    item = add_item(session, enrolment, criteria)
    decide(session, item, people.assessor1, criteria[:-2])
    decide(session, item, people.assessor1, criteria[-2:-1], "not_yet_met")

    with pytest.raises(AssessmentError, match="Unit 301 has 2 criteria not yet met"):
        sign_off(session, enrolment, "301", people.assessor1)
    assert unit_progress(session, enrolment, "301").status == "in_progress"

    decide(session, item, people.assessor1, criteria[-1:])
    with pytest.raises(AssessmentError, match="Unit 301 has 1 criteria not yet met"):
        sign_off(session, enrolment, "301", people.assessor1)

    resubmitted = add_item(session, enrolment, criteria[-2:-1], resubmission_of=item)
    decide(session, resubmitted, people.assessor1, criteria[-2:-1])
    assert unit_progress(session, enrolment, "301").status == "ready"
    signed = sign_off(session, enrolment, "301", people.assessor1)

    assert (signed.method, signed.assessor_id, signed.declaration_id) == (
        "assessment", people.assessor1.id, None)
    unit = unit_progress(session, enrolment, "301")
    assert unit.is_achieved and unit.status == "achieved" and unit.sign_off.id == signed.id
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "unit.signed_off"))
    assert (event.object_id, event.actor_id, event.learner_id) == (
        signed.id, people.assessor1.id, people.learner1.id)
    assert event.data["unit"] == "301" and event.data["method"] == "assessment"


def test_a_unit_with_no_evidence_cannot_be_signed_off(session, people):
    with pytest.raises(AssessmentError, match="Unit 302 has 11 criteria not yet met"):
        sign_off(session, people.enrolment1, "302", people.assessor1)
    assert count_rows(session, UnitSignOff) == 0


def test_signed_off_units_count_in_the_qualification_progress(session, people):
    enrolment = people.enrolment1
    before = progress(session, enrolment)
    assert before.evaluation.total_credits == 0 and not before.evaluation.achieved
    assert {"301", "302", "303"} <= set(before.plan.units)
    assert before.plan.additional_credits == 16
    assert any(s.rule == "mandatory" for s in before.evaluation.shortfalls)

    for number in ("301", "302", "303"):
        meet_unit(session, enrolment, number, people.assessor1)
    ready = progress(session, enrolment)
    assert ready.evaluation.total_credits == 0  # met criteria alone do not count: sign-off does
    assert [u.unit.number for u in ready.units if u.ready_for_sign_off] == ["301", "302", "303"]

    for number in ("301", "302", "303"):
        sign_off(session, enrolment, number, people.assessor1)
    after = progress(session, enrolment)
    evaluation = after.evaluation
    assert evaluation.total_credits == 2 + 3 + 4
    assert set(evaluation.counted_units) == {"301", "302", "303"}
    assert evaluation.group_credits["A"] == 9
    assert not evaluation.achieved
    assert {s.rule: s.amount for s in evaluation.shortfalls} == {"total": 7, "level": 1}
    assert not any(s.rule == "mandatory" for s in evaluation.shortfalls)
    # The least remaining work: 7 more credits, one of them at level 3, fewest criteria.
    assert set(after.plan.units) == {"204", "309"}
    assert (after.plan.additional_credits, after.plan.open_criteria) == (7, 8 + 9)
    assert after.criteria_met == 11 + 11 + 21

    for number in ("204", "309"):
        meet_unit(session, enrolment, number, people.assessor1)
        sign_off(session, enrolment, number, people.assessor1)
    done = progress(session, enrolment)
    assert done.evaluation.achieved and done.evaluation.total_credits == 16
    assert done.evaluation.shortfalls == ()
    assert not done.plan.units


def test_ncfe_sign_off_needs_the_learners_declaration(session, people):
    enrolment = people.enrolment2  # 600/1257/2: unit_declarations is true
    assert version_tree(session, enrolment.version_id).unit_declarations
    meet_unit(session, enrolment, "01", people.assessor2)
    assert unit_progress(session, enrolment, "01").ready_for_sign_off

    with pytest.raises(AssessmentError, match="not yet declared that the work for unit 01"):
        sign_off(session, enrolment, "01", people.assessor2)
    assert count_rows(session, UnitSignOff) == 0

    declaration = declare_unit(session, enrolment, unit_node(session, enrolment, "01").id,
                                        people.learner2)
    assert declaration.learner_id == people.learner2.id
    assert unit_progress(session, enrolment, "01").declared
    signed = sign_off(session, enrolment, "01", people.assessor2)
    assert signed.declaration_id == declaration.id
    assert session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "unit.declared", AuditEvent.object_id == declaration.id))
    # A signed-off unit cannot be declared again.
    with pytest.raises(AssessmentError, match="already signed off"):
        declare_unit(session, enrolment, unit_node(session, enrolment, "01").id,
                              people.learner2)


def test_a_declaration_for_another_unit_does_not_count(session, people):
    enrolment = people.enrolment2
    meet_unit(session, enrolment, "01", people.assessor2)
    meet_unit(session, enrolment, "02", people.assessor2)
    declare_unit(session, enrolment, unit_node(session, enrolment, "02").id,
                          people.learner2)
    with pytest.raises(AssessmentError, match="not yet declared"):
        sign_off(session, enrolment, "01", people.assessor2)


def test_without_the_setting_no_declaration_is_needed(session, people):
    enrolment = people.enrolment1
    meet_unit(session, enrolment, "301", people.assessor1)
    assert sign_off(session, enrolment, "301", people.assessor1).declaration_id is None


@pytest.mark.parametrize("method", ["rpl", "credit_transfer"])
def test_prior_achievement_needs_details_and_counts_as_achieved(session, people, method):
    enrolment = people.enrolment1
    unit = unit_node(session, enrolment, "303")
    for details in ("", "  \n"):
        with pytest.raises(AssessmentError, match="supporting evidence or the certificate"):
            record_prior_achievement(session, enrolment, unit.id, people.assessor1,
                                              method, details)
    with pytest.raises(AssessmentError, match="Choose RPL or credit transfer"):
        record_prior_achievement(session, enrolment, unit.id, people.assessor1,
                                          "assessment", "Certificate 1234")
    assert count_rows(session, UnitSignOff) == 0

    supporting = add_item(session, enrolment, criteria_of(session, enrolment, "303", 1))
    signed = record_prior_achievement(
        session, enrolment, unit.id, people.assessor1, method,
        "  City & Guilds certificate 4471, 12 May 2024  ", item_id=supporting.id)
    assert (signed.method, signed.details, signed.item_id) == (
        method, "City & Guilds certificate 4471, 12 May 2024", supporting.id)
    result = progress(session, enrolment)
    assert result.evaluation.total_credits == 4
    assert "303" in result.evaluation.counted_units
    assert next(u for u in result.units if u.unit.number == "303").is_achieved
    assert result.criteria_met == len(unit.criteria)  # all of its criteria count as met
    with pytest.raises(AssessmentError, match="already signed off"):
        record_prior_achievement(session, enrolment, unit.id, people.assessor1,
                                          method, "Again")
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.object_id == signed.id,
                                                       AuditEvent.action == "unit.signed_off"))
    assert event.data["method"] == method and event.data["item_id"] == supporting.id


def test_barred_units_achieved_by_prior_learning_count_once(session, people):
    enrolment = people.enrolment1
    for number, method in (("304", "rpl"), ("204", "credit_transfer")):
        record_prior_achievement(session, enrolment, unit_node(session, enrolment,
                                                                        number).id,
                                          people.assessor1, method, "Certificate")
    evaluation = progress(session, enrolment).evaluation
    assert evaluation.total_credits == 4
    assert [e.unit for e in evaluation.excluded_units] == ["204"]


def test_a_signed_off_unit_is_locked(session, people):
    enrolment = people.enrolment1
    item = meet_unit(session, enrolment, "301", people.assessor1)
    sign_off(session, enrolment, "301", people.assessor1)
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    met = current(session, enrolment, criterion)
    session.commit()

    with pytest.raises(AssessmentError, match="Unit 301 is signed off: its decisions cannot"):
        record_decisions(session, item, people.assessor1, [Judgement(
            criterion, "not_yet_met", feedback=FEEDBACK, expected_current_id=met.id,
            reason="Second thoughts")])
    session.rollback()
    # Mapping other evidence to the unit is refused too, by the same rule as a learner's claim.
    other = add_item(session, enrolment, criteria_of(session, enrolment, "302", 1))
    locked = "Unit 301 is already signed off: it takes no more evidence"
    with pytest.raises(AssessmentError, match=locked):
        record_decisions(session, other, people.assessor1, [], map_criteria=[criterion])
    session.rollback()
    # So is a learner's new claim, and its judged evidence stays put.
    with pytest.raises(AssessmentError, match=locked):
        add_item(session, enrolment, [criterion])
    session.rollback()
    with pytest.raises(evidence.EvidenceError, match="judged"):
        evidence.withdraw(session, item, people.learner1)
    session.rollback()
    assert current(session, enrolment, criterion).id == met.id
    assert count_rows(session, EvidenceItem, EvidenceItem.enrolment_id == enrolment.id) == 1


def test_unlocking_needs_a_reason_then_decisions_can_be_superseded(session, people):
    enrolment = people.enrolment1
    item = meet_unit(session, enrolment, "301", people.assessor1)
    signed = sign_off(session, enrolment, "301", people.assessor1)
    criterion = criteria_of(session, enrolment, "301", 1)[0]

    with pytest.raises(AssessmentError, match="Give the reason for unlocking"):
        unlock_unit(session, signed, people.admin, "   ")
    assert count_rows(session, UnitUnlock) == 0

    unlock = unlock_unit(session, signed, people.admin, " EQA found a gap in 1.1 ")
    assert unlock.reason == "EQA found a gap in 1.1" and unlock.admin_id == people.admin.id
    session.expire_all()  # as the next request would see it
    with pytest.raises(AssessmentError, match="already unlocked"):
        unlock_unit(session, signed, people.admin, "Again")
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "unit.unlocked"))
    assert event.data["sign_off_id"] == signed.id and event.actor_id == people.admin.id

    assert not unit_progress(session, enrolment, "301").is_achieved
    assert progress(session, enrolment).evaluation.total_credits == 0
    [replaced] = decide(session, item, people.assessor1, [criterion], "not_yet_met",
                        reason="EQA: the evidence is not the learner's own call")
    assert replaced.supersedes_id is not None
    assert unit_progress(session, enrolment, "301").status == "in_progress"

    # The old sign-off stays in the record; a new one is needed after the criterion is met.
    session.expire_all()
    kept = session.get(UnitSignOff, signed.id)
    assert kept is not None and kept.unlock.reason == "EQA found a gap in 1.1"
    again = add_item(session, enrolment, [criterion], resubmission_of=item)
    decide(session, again, people.assessor1, [criterion])
    resigned = sign_off(session, enrolment, "301", people.assessor1)
    assert resigned.id != signed.id
    assert count_rows(session, UnitSignOff) == 2
    assert [s.id for s in current_sign_offs(session, [enrolment.id])] == [resigned.id]


def test_a_unit_is_signed_off_once(session, people):
    enrolment = people.enrolment1
    meet_unit(session, enrolment, "301", people.assessor1)
    sign_off(session, enrolment, "301", people.assessor1)
    with pytest.raises(AssessmentError, match="Unit 301 is already signed off"):
        sign_off(session, enrolment, "301", people.assessor1)
    with pytest.raises(AssessmentError, match="already signed off"):
        record_prior_achievement(session, enrolment,
                                          unit_node(session, enrolment, "301").id,
                                          people.assessor1, "rpl", "Certificate")
    assert count_rows(session, UnitSignOff) == 1
    assert count_rows(session, Decision) == 11


def test_unlocking_the_same_sign_off_twice_is_refused_with_a_message(session, people):
    enrolment = people.enrolment1
    meet_unit(session, enrolment, "301", people.assessor1)
    signed = sign_off(session, enrolment, "301", people.assessor1)
    unlock_unit(session, signed, people.admin, "EQA found a gap")
    with pytest.raises(AssessmentError, match="already unlocked"):
        unlock_unit(session, signed, people.admin, "Again")


def test_the_supporting_evidence_of_a_locked_rpl_unit_cannot_be_withdrawn(
        session, people, login):
    enrolment = people.enrolment1
    supporting = add_item(session, enrolment, criteria_of(session, enrolment, "303", 1),
                          title="Certificate scan")
    record_prior_achievement(session, enrolment, unit_node(session, enrolment, "303").id,
                                      people.assessor1, "rpl", "Level 3 certificate, 2023",
                                      item_id=supporting.id)
    session.commit()
    client = login(people.learner1)
    client.post(f"/evidence/{supporting.id}/withdraw",
                data={"csrf_token": csrf_token(client, "/catalogue/")})
    session.expire_all()
    assert not session.get(EvidenceItem, supporting.id).is_withdrawn
