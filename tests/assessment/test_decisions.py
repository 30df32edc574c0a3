"""Decisions on criteria: recorded with the hashes of the files judged, superseded (never edited)
with a reason, refused when stale, and the statuses derived from them."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portfolio.assessment.caseload import caseload
from portfolio.assessment.criterion_states import pending_claims
from portfolio.assessment.decisions import Judgement, record_decisions
from portfolio.assessment.errors import AssessmentError, DecisionConflict
from portfolio.assessment.models import Decision
from portfolio.assessment.queries import history
from portfolio.core.audit import AuditEvent
from portfolio.evidence import services as evidence
from portfolio.evidence.models import EvidenceFile, EvidenceItem
from tests.helpers.assessment import (
    FEEDBACK,
    add_item,
    criteria_of,
    current,
    decide,
    progress,
    status,
    unit_node,
)
from tests.helpers.queries import count_rows


def test_met_and_not_yet_met_are_recorded_with_the_hashes_of_the_files_judged(session, people):
    enrolment = people.enrolment1
    met, not_met = criteria_of(session, enrolment, "301", 2)
    item = add_item(session, enrolment, [met, not_met], files=2)
    hashes = [f.sha256 for f in item.files]
    assert len(set(hashes)) == 2 and item.judged_at is None

    recorded = record_decisions(session, item, people.assessor1, [
        Judgement(met, "met"),
        Judgement(not_met, "not_yet_met", feedback="  Show how you closed the call.  "),
    ])

    rows = {d.criterion_id: d for d in session.scalars(
        sa.select(Decision).where(Decision.item_id == item.id))}
    assert {d.id for d in recorded} == {d.id for d in rows.values()}
    assert rows[met].outcome == "met" and rows[met].feedback == ""
    assert rows[not_met].outcome == "not_yet_met"
    assert rows[not_met].feedback == "Show how you closed the call."
    unit_id = unit_node(session, enrolment, "301").id
    for decision in rows.values():
        assert decision.file_hashes == hashes
        assert decision.assessor_id == people.assessor1.id
        assert decision.enrolment_id == enrolment.id
        assert decision.unit_id == unit_id
        assert decision.supersedes_id is None and decision.reason == ""
        assert decision.decided_at is not None
    assert item.judged_at is not None
    assert status(session, enrolment, met) == "met"
    assert status(session, enrolment, not_met) == "not_yet_met"


@pytest.mark.parametrize("feedback", ["", "   \n "])
def test_not_yet_met_without_feedback_is_refused(session, people, feedback):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    item = add_item(session, enrolment, [criterion])
    with pytest.raises(AssessmentError, match="feedback they can act on for unit 301"):
        record_decisions(session, item, people.assessor1,
                                  [Judgement(criterion, "not_yet_met", feedback=feedback)])
    assert count_rows(session, Decision) == 0
    assert item.judged_at is None
    assert status(session, enrolment, criterion) == "claimed"


def test_an_unknown_outcome_is_refused_by_the_service_and_the_database(session, people):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    item = add_item(session, enrolment, [criterion])
    with pytest.raises(AssessmentError, match="Choose met or not yet met"):
        record_decisions(session, item, people.assessor1,
                                  [Judgement(criterion, "pass")])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Decision(enrolment_id=enrolment.id, criterion_id=criterion,
                             unit_id=item.claims[0].criterion.unit_id, item_id=item.id,
                             assessor_id=people.assessor1.id, outcome="pass", file_hashes=[]))
        session.flush()
    assert count_rows(session, Decision) == 0


def test_a_criterion_the_item_does_not_claim_is_refused(session, people):
    enrolment = people.enrolment1
    claimed, unclaimed = criteria_of(session, enrolment, "301", 2)
    item = add_item(session, enrolment, [claimed])
    foreign = criteria_of(session, people.enrolment2, "01", 1)[0]
    session.commit()  # the request's caller rolls back to here on a refusal
    with pytest.raises(AssessmentError, match="unit 301 criterion 1.2 is not claimed by this"):
        record_decisions(session, item, people.assessor1,
                                  [Judgement(claimed, "met"), Judgement(unclaimed, "met")])
    session.rollback()
    # Nor a criterion of another learner's qualification.
    with pytest.raises(AssessmentError, match="not claimed by this evidence"):
        record_decisions(session, item, people.assessor1, [Judgement(foreign, "met")])
    session.rollback()
    assert count_rows(session, Decision) == 0
    assert status(session, enrolment, claimed) == "claimed"
    assert status(session, enrolment, unclaimed) == "not_started"


def test_a_withdrawn_item_cannot_be_judged(session, people):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    item = add_item(session, enrolment, [criterion])
    evidence.withdraw(session, item, people.learner1)
    with pytest.raises(AssessmentError, match="withdrawn"):
        record_decisions(session, item, people.assessor1, [Judgement(criterion, "met")])
    assert count_rows(session, Decision) == 0
    assert status(session, enrolment, criterion) == "not_started"


def test_an_item_without_files_cannot_be_judged(session, people):
    """Such items exist from before uploads were attached atomically: a decision on one would
    record no file hashes, so it proves nothing."""
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    item = add_item(session, enrolment, [criterion])
    session.execute(sa.update(EvidenceFile).where(EvidenceFile.item_id == item.id)
                    .values(item_id=None))
    session.expire(item)
    with pytest.raises(AssessmentError, match="no files"):
        record_decisions(session, item, people.assessor1, [Judgement(criterion, "met")])
    assert count_rows(session, Decision) == 0


def test_mapping_further_criteria_adds_claims_by_the_assessor(session, people):
    enrolment = people.enrolment1
    first, second, third = criteria_of(session, enrolment, "301", 3)
    other_unit = criteria_of(session, enrolment, "302", 1)[0]
    item = add_item(session, enrolment, [first])

    recorded = record_decisions(
        session, item, people.assessor1, [Judgement(second, "met")],
        map_criteria=[first, second, third, other_unit])

    claims = {c.criterion_id: c for c in item.claims}
    assert set(claims) == {first, second, third, other_unit}
    assert claims[first].added_by_id is None  # the learner's own claim is untouched
    assert {claims[c].added_by_id for c in (second, third, other_unit)} == {people.assessor1.id}
    assert [d.criterion_id for d in recorded] == [second]
    assert status(session, enrolment, second) == "met"
    assert status(session, enrolment, third) == "claimed"
    assert status(session, enrolment, other_unit) == "claimed"
    # Mapping the same criterion again adds no second claim: nothing is recorded.
    with pytest.raises(AssessmentError, match="Nothing was recorded"):
        record_decisions(session, item, people.assessor1, [], map_criteria=[third])
    session.expire(item)
    assert sorted(c.criterion_id for c in item.claims) == sorted(claims)


def test_mapping_a_criterion_outside_the_qualification_is_refused(session, people):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    item = add_item(session, enrolment, [criterion])
    foreign = criteria_of(session, people.enrolment2, "01", 1)[0]
    with pytest.raises(evidence.EvidenceError, match="not part of this qualification"):
        record_decisions(session, item, people.assessor1, [], map_criteria=[foreign])
    session.expire(item)
    assert [c.criterion_id for c in item.claims] == [criterion]


def test_superseding_a_met_decision_needs_a_reason(session, people):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    first_item = add_item(session, enrolment, [criterion])
    [met] = decide(session, first_item, people.assessor1, [criterion])
    later_item = add_item(session, enrolment, [criterion])

    for reason in ("", "   "):
        with pytest.raises(AssessmentError, match="Give a reason for replacing"):
            record_decisions(session, later_item, people.assessor1, [Judgement(
                criterion, "not_yet_met", feedback=FEEDBACK, expected_current_id=met.id,
                reason=reason)])
    assert current(session, enrolment, criterion).id == met.id

    [replaced] = record_decisions(session, later_item, people.assessor1, [Judgement(
        criterion, "not_yet_met", feedback=FEEDBACK, expected_current_id=met.id,
        reason=" The witness statement was not signed. ")])
    assert replaced.supersedes_id == met.id
    assert replaced.reason == "The witness statement was not signed."
    assert status(session, enrolment, criterion) == "not_yet_met"


def test_changing_a_decision_on_the_same_item_needs_a_reason(session, people):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    item = add_item(session, enrolment, [criterion])
    [first] = decide(session, item, people.assessor1, [criterion], "not_yet_met")
    with pytest.raises(AssessmentError, match="Give a reason"):
        record_decisions(session, item, people.assessor1, [
            Judgement(criterion, "met", expected_current_id=first.id)])
    [second] = record_decisions(session, item, people.assessor1, [
        Judgement(criterion, "met", expected_current_id=first.id, reason="Misread the log")])
    assert second.supersedes_id == first.id and second.reason == "Misread the log"


def test_superseding_not_yet_met_with_another_item_gives_an_automatic_reason(session, people):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    first_item = add_item(session, enrolment, [criterion])
    [not_met] = decide(session, first_item, people.assessor1, [criterion], "not_yet_met")
    resubmitted = add_item(session, enrolment, [criterion], title="Second call log",
                           resubmission_of=first_item)

    [met] = record_decisions(session, resubmitted, people.assessor1, [
        Judgement(criterion, "met", expected_current_id=not_met.id)])

    assert met.supersedes_id == not_met.id
    assert met.reason == "Judged further evidence: Second call log"
    assert met.file_hashes == [f.sha256 for f in resubmitted.files]
    assert met.file_hashes != not_met.file_hashes
    assert status(session, enrolment, criterion) == "met"


def test_a_stale_expected_decision_is_a_conflict_and_saves_nothing(session, people):
    enrolment = people.enrolment1
    criterion, other = criteria_of(session, enrolment, "301", 2)
    item = add_item(session, enrolment, [criterion, other])
    [seen] = decide(session, item, people.assessor1, [criterion], "not_yet_met")
    # Someone else replaces the decision the assessor is looking at.
    [newer] = decide(session, item, people.assessor2, [criterion], "met", reason="Re-marked")
    session.commit()  # as the other request did (releases the test's savepoint)
    decisions, events = count_rows(session, Decision), count_rows(session, AuditEvent)

    for stale in (None, seen.id):
        with pytest.raises(DecisionConflict, match="decided by someone else"):
            record_decisions(session, item, people.assessor1, [
                Judgement(other, "met"),
                Judgement(criterion, "not_yet_met", feedback=FEEDBACK,
                          expected_current_id=stale, reason="Not convinced")])
        session.rollback()  # as the view does
        assert (count_rows(session, Decision),
                count_rows(session, AuditEvent)) == (decisions, events)
        assert current(session, enrolment, criterion).id == newer.id
        assert current(session, enrolment, other) is None

    # Expecting a decision where there is none is stale too.
    with pytest.raises(DecisionConflict):
        record_decisions(session, item, people.assessor1, [
            Judgement(other, "met", expected_current_id=newer.id)])
    session.rollback()
    assert count_rows(session, Decision) == decisions


def _decision(people, item, criterion_id, supersedes=None):
    return Decision(enrolment_id=item.enrolment_id, criterion_id=criterion_id,
                    unit_id=item.claims[0].criterion.unit_id, item_id=item.id,
                    assessor_id=people.assessor1.id, outcome="met", file_hashes=[],
                    supersedes_id=supersedes.id if supersedes else None)


def test_the_database_refuses_a_second_first_decision(session, people):
    enrolment = people.enrolment1
    criterion, other = criteria_of(session, enrolment, "301", 2)
    item = add_item(session, enrolment, [criterion, other])
    first = _decision(people, item, criterion)
    session.add(first)
    session.flush()

    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(_decision(people, item, criterion))
        session.flush()
    # The index is per criterion and enrolment: other chains start freely.
    session.add(_decision(people, item, other))
    session.flush()
    other_enrolment_item = add_item(session, people.other_enrolment, [criterion])
    session.add(_decision(people, other_enrolment_item, criterion))
    session.flush()
    assert count_rows(session, Decision, Decision.criterion_id == criterion) == 2


def test_the_database_refuses_a_second_decision_superseding_the_same_one(session, people):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    item = add_item(session, enrolment, [criterion])
    first = _decision(people, item, criterion)
    session.add(first)
    session.flush()
    second = _decision(people, item, criterion, supersedes=first)
    session.add(second)
    session.flush()

    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(_decision(people, item, criterion, supersedes=first))
        session.flush()
    # Superseding the newest one extends the chain.
    session.add(_decision(people, item, criterion, supersedes=second))
    session.flush()
    assert count_rows(session, Decision) == 3


def test_statuses_follow_claims_decisions_and_resubmissions(session, people):
    enrolment = people.enrolment1
    untouched, a, b = criteria_of(session, enrolment, "302", 3)
    assert {status(session, enrolment, c) for c in (untouched, a, b)} == {"not_started"}
    assert next(u for u in progress(session, enrolment).units
                if u.unit.number == "302").status == "not_started"

    item = add_item(session, enrolment, [a, b])
    assert (status(session, enrolment, a), status(session, enrolment, b)) == ("claimed",) * 2
    unit = next(u for u in progress(session, enrolment).units if u.unit.number == "302")
    assert unit.status == "in_progress" and unit.met == 0

    decide(session, item, people.assessor1, [a], "met")
    decide(session, item, people.assessor1, [b], "not_yet_met")
    assert status(session, enrolment, untouched) == "not_started"
    assert status(session, enrolment, a) == "met"
    assert status(session, enrolment, b) == "not_yet_met"
    assert progress(session, enrolment).state(b).decision.id == current(session, enrolment, b).id
    assert current(session, enrolment, b).feedback == FEEDBACK

    # The learner resubmits: the criterion is back in the assessor's queue.
    again = add_item(session, enrolment, [b], resubmission_of=item)
    assert again.resubmission_of_id == item.id
    assert status(session, enrolment, b) == "claimed"
    [row] = caseload(session, [enrolment])
    assert (row.awaiting, row.first_awaiting_item_id) == (1, again.id)
    # A pending claim does not hide a met decision.
    add_item(session, enrolment, [a])
    assert status(session, enrolment, a) == "met"

    # Withdrawn, the resubmission no longer counts.
    evidence.withdraw(session, again, people.learner1)
    assert status(session, enrolment, b) == "not_yet_met"

    third = add_item(session, enrolment, [b], resubmission_of=item)
    decide(session, third, people.assessor1, [b], "met")
    assert status(session, enrolment, b) == "met"
    assert progress(session, enrolment).criteria_met == 2


def _row(session, decision_id):
    return session.execute(sa.select(Decision.__table__).where(
        Decision.__table__.c.id == decision_id)).one()._asdict()


def test_decisions_are_never_updated_and_each_is_audited(session, people):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, "301", 1)[0]
    item = add_item(session, enrolment, [criterion])
    [first] = decide(session, item, people.assessor1, [criterion], "not_yet_met")
    before = _row(session, first.id)
    later = add_item(session, enrolment, [criterion])
    [second] = decide(session, later, people.assessor1, [criterion], "met")
    [third] = decide(session, later, people.assessor1, [criterion], "not_yet_met",
                     reason="Second look: the date is wrong")

    assert _row(session, first.id) == before
    assert [d.id for d in history(session, enrolment.id, criterion)] == [
        third.id, second.id, first.id]
    assert (second.supersedes_id, third.supersedes_id) == (first.id, second.id)

    events = {e.object_id: e for e in session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "decision.recorded"))}
    assert set(events) == {first.id, second.id, third.id}
    assert events[first.id].actor_id == people.assessor1.id
    assert events[first.id].learner_id == people.learner1.id
    assert events[first.id].centre_id == people.centre.id
    assert events[second.id].data["supersedes_id"] == first.id
    assert events[second.id].data["file_hashes"] == [f.sha256 for f in later.files]
    assert events[third.id].data["outcome"] == "not_yet_met"
    assert events[third.id].data["reason"] == "Second look: the date is wrong"

    event = events[first.id]
    with pytest.raises(PermissionError), session.begin_nested():
        event.data = {"outcome": "met"}
        session.flush()
    session.expire_all()
    with pytest.raises(PermissionError), session.begin_nested():
        session.delete(session.get(AuditEvent, event.id))
        session.flush()
    session.expire_all()
    assert session.get(AuditEvent, event.id).data["outcome"] == "not_yet_met"


def test_mapping_further_criteria_is_audited(session, people):
    enrolment = people.enrolment1
    claimed, mapped = criteria_of(session, enrolment, "301", 2)
    item = add_item(session, enrolment, [claimed])
    before = session.scalar(sa.select(sa.func.max(AuditEvent.id)))

    record_decisions(session, item, people.assessor1, [], map_criteria=[mapped])

    assert [c.criterion_id for c in item.claims] == [claimed, mapped]
    events = list(session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before)))
    assert events, "no audit event for the claims the assessor added"
    assert {(e.actor_id, e.learner_id) for e in events} == {(people.assessor1.id,
                                                            people.learner1.id)}
    assert any(str(mapped) in json.dumps(e.data) for e in events)


def _queue(session, enrolment):
    """The items awaiting a decision, as the caseload's stored queue has them and as the claims
    and decisions define them."""
    stored = set(session.scalars(sa.select(EvidenceItem.id).where(
        EvidenceItem.enrolment_id == enrolment.id, EvidenceItem.withdrawn_at.is_(None),
        EvidenceItem.awaiting_decision_since.is_not(None))))
    pending = pending_claims([enrolment.id]).subquery()
    derived = set(session.scalars(sa.select(pending.c.item_id).distinct()))
    return stored, derived


def test_the_stored_queue_follows_claims_and_decisions(session, people):
    enrolment = people.enrolment1
    a, b, c = criteria_of(session, enrolment, "302", 3)
    first = add_item(session, enrolment, [a, b])
    second = add_item(session, enrolment, [c])
    stored, derived = _queue(session, enrolment)
    assert stored == derived == {first.id, second.id}

    decide(session, first, people.assessor1, [a], "met")
    assert _queue(session, enrolment) == ({first.id, second.id},) * 2
    decide(session, first, people.assessor1, [b], "not_yet_met")
    assert _queue(session, enrolment) == ({second.id},) * 2

    # Mapping a further criterion puts a judged item back in the queue.
    record_decisions(session, first, people.assessor1, [], map_criteria=[c])
    assert _queue(session, enrolment) == ({first.id, second.id},) * 2
    # ...waiting from now: the second item has waited longer.
    [row] = caseload(session, [enrolment])
    assert row.awaiting == 2 and row.first_awaiting_item_id == second.id

    resubmitted = add_item(session, enrolment, [b], resubmission_of=first)
    evidence.withdraw(session, second, people.learner1)
    assert _queue(session, enrolment) == ({first.id, resubmitted.id},) * 2
