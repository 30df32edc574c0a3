"""Recording samples: what an IQA may sample (never their own decision nor one they
countersigned, per decision, in the service and in the database), the form's rules, recording
whole with hashes, events and notifications, planned samples carried out once, and the stage."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError

from portfolio.assessment.models import Countersignature
from portfolio.assessment.units import declare_unit, sign_off_unit
from portfolio.core.audit import AuditEvent
from portfolio.notifications.models import Notification
from portfolio.quality.errors import QualityError, SampleRefused
from portfolio.quality.home import first_of_next_month
from portfolio.quality.models import (
    ActionEntry,
    Sample,
    SampleAction,
    SampleCheck,
    SampledDecision,
    SampledItem,
)
from portfolio.quality.reading import COUNTERSIGNED, OWN_DECISION, sample_context
from portfolio.quality.sampling import ActionRequest, CheckAnswer, record_sample
from tests.helpers.assessment import criteria_of, decide, unit_node
from tests.helpers.queries import count_rows
from tests.helpers.sampling import (
    ACTION,
    FEEDBACK,
    UNIT,
    action,
    answers,
    judged_unit,
    planned_sample,
)


@pytest.fixture()
def unit_with_own_decision(session, people):
    """Unit 204 of learner1: seven criteria judged by assessor1, the eighth by iqa2 (who also
    assesses); returns (unit id, item, assessor1's decisions, iqa2's decision)."""
    enrolment = people.enrolment1
    item, by_assessor = judged_unit(session, enrolment, people.assessor1, decided=7)
    [own] = decide(session, item, people.iqa2, criteria_of(session, enrolment, UNIT)[7:])
    return unit_node(session, enrolment, UNIT).id, item, by_assessor, own


def test_the_context_marks_own_decisions_not_selectable(session, people, unit_with_own_decision):
    unit_id, item, by_assessor, own = unit_with_own_decision
    context = sample_context(session, people.enrolment1, unit_id, people.iqa2)
    assert context.refusals == {own.id: OWN_DECISION}
    assert context.selectable_decision_ids == [d.id for d in by_assessor]
    assert context.item_ids == [item.id]
    assert context.stage == "interim"
    # Another IQA may sample every decision.
    other = sample_context(session, people.enrolment1, unit_id, people.iqa1)
    assert other.refusals == {}


def test_the_service_refuses_an_own_decision_by_name(session, people, unit_with_own_decision):
    unit_id, item, by_assessor, own = unit_with_own_decision
    with pytest.raises(SampleRefused) as refused:
        record_sample(session, people.iqa2, people.enrolment1, unit_id,
                      answers([by_assessor[0].id, own.id], [item.id]))
    assert refused.value.problems == {"decisions": f"You may not sample 204 2.4, {OWN_DECISION}."}
    assert count_rows(session, Sample) == 0
    # The same IQA samples the rest of the unit: the check is per decision, not per enrolment.
    sample = record_sample(session, people.iqa2, people.enrolment1, unit_id,
                           answers([d.id for d in by_assessor], [item.id]))
    assert sample.assessor_id == people.assessor1.id


def test_the_service_refuses_a_decision_the_iqa_countersigned(session, people,
                                                            unit_with_own_decision):
    unit_id, item, by_assessor, _ = unit_with_own_decision
    session.add(Countersignature(decision_id=by_assessor[2].id, by_id=people.iqa1.id))
    session.flush()
    with pytest.raises(SampleRefused) as refused:
        record_sample(session, people.iqa1, people.enrolment1, unit_id,
                      answers([d.id for d in by_assessor], [item.id]))
    assert COUNTERSIGNED in refused.value.problems["decisions"]
    assert sample_context(session, people.enrolment1, unit_id,
                          people.iqa1).refusals == {by_assessor[2].id: COUNTERSIGNED}


def test_the_database_refuses_a_sampled_own_decision(session, people, unit_with_own_decision):
    unit_id, item, by_assessor, own = unit_with_own_decision
    sample = record_sample(session, people.iqa2, people.enrolment1, unit_id,
                           answers([by_assessor[0].id], [item.id]))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(SampledDecision(sample_id=sample.id, decision_id=own.id, iqa_id=people.iqa2.id,
                                    decision_assessor_id=people.iqa2.id))
        session.flush()
    # Nor can a row lie about the decision's assessor: the foreign key ties it to the decision.
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(SampledDecision(sample_id=sample.id, decision_id=own.id, iqa_id=people.iqa2.id,
                                    decision_assessor_id=people.assessor1.id))
        session.flush()


def test_the_answers_are_checked_together(session, people):
    item, decisions = judged_unit(session, people.enrolment1, people.assessor1)
    unit_id = unit_node(session, people.enrolment1, UNIT).id
    record = answers([d.id for d in decisions], [item.id], "action_required",
                     unsatisfied=("valid",),
                     actions=[action(days=-1), action(text="", days=3)])
    record.checks["current"] = CheckAnswer(None)
    with pytest.raises(SampleRefused) as refused:
        record_sample(session, people.iqa1, people.enrolment1, unit_id, record)
    assert refused.value.problems == {
        "current": "Say whether the sample is current.",
        "feedback": "Give the assessor feedback: the outcome is not a plain agree.",
        "actions-0-due_on": "The day it is due cannot be in the past.",
        "actions-1-text": "Say what must be done.",
    }
    with pytest.raises(SampleRefused) as refused:
        record_sample(session, people.iqa1, people.enrolment1, unit_id, answers(
            [], [item.id, 999_999], "action_required", FEEDBACK, unsatisfied=("valid",)))
    assert refused.value.problems == {
        "decisions": "Choose at least one of the assessor's decisions to sample.",
        "items": "Choose evidence that claims this unit's criteria only.",
        "actions": "Raise at least one action: the outcome is action required."}
    record = answers([decisions[0].id], [], "bogus")
    record.checks["valid"] = CheckAnswer(False, " ")
    with pytest.raises(SampleRefused) as refused:
        record_sample(session, people.iqa1, people.enrolment1, unit_id, record)
    assert refused.value.problems == {"valid_note": "Say why the sample is not valid.",
                                      "outcome": "Choose the outcome."}
    with pytest.raises(SampleRefused) as refused:
        record_sample(session, people.iqa1, people.enrolment1, unit_id, answers(
            [decisions[0].id], [], actions=[action(owner_id=people.learner1.id)]))
    assert refused.value.problems == {
        "actions-0-owner_id": "Choose an assessor or IQA of the learner's centre."}
    assert count_rows(session, Sample) == 0


def test_a_sample_is_recorded_whole(session, people):
    item, decisions = judged_unit(session, people.enrolment1, people.assessor1)
    unit_id = unit_node(session, people.enrolment1, UNIT).id
    sample = record_sample(session, people.iqa1, people.enrolment1, unit_id, answers(
        [d.id for d in decisions[:3]], [item.id], "action_required", FEEDBACK,
        [action(), action(days=30, text="Observe a call.", owner_id=people.iqa1.id),
         ActionRequest("", None)], unsatisfied=("sufficient",)))
    assert (sample.outcome, sample.stage, sample.feedback) == ("action_required", "interim",
                                                                FEEDBACK)
    assert sample.qualification_id == people.enrolment1.qualification_id
    assert sorted(session.scalars(sa.select(SampledDecision.decision_id).where(
        SampledDecision.sample_id == sample.id))) == [d.id for d in decisions[:3]]
    [sampled_item] = session.scalars(sa.select(SampledItem).where(
        SampledItem.sample_id == sample.id))
    assert sampled_item.file_hashes == [f.sha256 for f in item.files]
    checks = {c.check: (c.satisfied, c.note) for c in sample.checks}
    assert checks["sufficient"] == (False, "Not enough.") and checks["valid"] == (True, "")
    assert len(checks) == 5
    assert [(a.owner_id, a.text, a.closed) for a in sample.actions] == [
        (people.assessor1.id, ACTION, False), (people.iqa1.id, "Observe a call.", False)]
    [audit] = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "sample.recorded"))
    assert audit.object_id == sample.id and audit.data["decision_ids"] == [
        d.id for d in decisions[:3]]
    [told] = session.scalars(sa.select(Notification).where(Notification.kind == "sample_recorded"))
    assert told.recipient_id == people.assessor1.id
    assert f"/quality/samples/{sample.id}" == told.link


def test_a_sample_of_a_signed_off_unit_is_summative(session, people):
    item, decisions = judged_unit(session, people.enrolment1, people.assessor1)
    unit_id = unit_node(session, people.enrolment1, UNIT).id
    declare_unit(session, people.enrolment1, unit_id, people.learner1)
    sign_off_unit(session, people.enrolment1, unit_id, people.assessor1)
    sample = record_sample(session, people.iqa1, people.enrolment1, unit_id,
                           answers([d.id for d in decisions], [item.id]))
    assert sample.stage == "summative"


def test_a_planned_sample_is_carried_out_once(session, people):
    item, decisions = judged_unit(session, people.enrolment1, people.assessor1)
    planned = planned_sample(session, people.iqa1, people.assessor1, people.enrolment1,
                             stage="summative")
    record = answers([d.id for d in decisions], [item.id])
    sample = record_sample(session, people.iqa1, people.enrolment1, planned.unit_id, record,
                           planned)
    # The stage recorded is the unit's as it is (not signed off); the plan's is kept on it.
    assert (sample.planned_sample_id, sample.stage) == (planned.id, "interim")
    with pytest.raises(QualityError, match="carried out by Iqa1 on"):
        record_sample(session, people.iqa1, people.enrolment1, planned.unit_id, record, planned)
    other_unit = unit_node(session, people.enrolment1, "301").id
    with pytest.raises(QualityError, match="another learner's unit"):
        record_sample(session, people.iqa1, people.enrolment1, other_unit, record, planned)
    # The database keeps it to one even past the service's check.
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Sample(centre_id=sample.centre_id, enrolment_id=sample.enrolment_id,
                           unit_id=sample.unit_id, qualification_id=sample.qualification_id,
                           iqa_id=sample.iqa_id, assessor_id=sample.assessor_id,
                           stage="interim", planned_sample_id=planned.id, outcome="agree"))
        session.flush()


def test_one_assessor_per_sample(session, people):
    enrolment = people.enrolment1
    item, decisions = judged_unit(session, enrolment, people.assessor1, decided=4)
    others = decide(session, item, people.assessor2, criteria_of(session, enrolment, UNIT)[4:])
    unit_id = unit_node(session, enrolment, UNIT).id
    with pytest.raises(SampleRefused) as refused:
        record_sample(session, people.iqa1, enrolment, unit_id,
                      answers([decisions[0].id, others[0].id], [item.id]))
    assert "Assessor1 and Assessor2" in refused.value.problems["decisions"]


def test_a_sample_records_no_entries_until_acted_on(session, people):
    item, decisions = judged_unit(session, people.enrolment1, people.assessor1)
    record_sample(session, people.iqa1, people.enrolment1, decisions[0].unit_id, answers(
        [decisions[0].id], [item.id], "action_required", FEEDBACK, [action()]))
    assert count_rows(session, SampleAction) == 1 and count_rows(session, ActionEntry) == 0
    assert count_rows(session, SampleCheck) == 5
    assert dt.date.today() < session.scalar(sa.select(SampleAction.due_on))


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9998, 11, 30)))
def test_this_month_ends_where_walking_day_by_day_says(day):
    """"Due this month" is due before the first of next month: against walking a day at a time."""
    walked = day + dt.timedelta(days=1)
    while walked.day != 1:
        walked += dt.timedelta(days=1)
    assert first_of_next_month(day) == walked
