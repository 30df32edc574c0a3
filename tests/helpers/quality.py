"""Quality records made directly, for tests of what reads them (the sampling trail): plans with
planned samples, samples of decisions with their checks and actions, countersignatures. The rows
are written as the services would leave them, without their events; nothing commits."""

from __future__ import annotations

import datetime as dt

from portfolio.assessment.models import Countersignature, Decision, UnitSignOff
from portfolio.core.db import utcnow
from portfolio.quality.models import (
    CHECKS,
    ActionEntry,
    PlannedSample,
    PlanRevision,
    Sample,
    SampleAction,
    SampleCheck,
    SampleCountersignature,
    SampledDecision,
    SampledItem,
    SamplingPlan,
)


def make_plan(session, iqa, assessor, enrolment, cycle_starts_on=dt.date(2026, 1, 1),
              cycle_ends_on=dt.date(2028, 1, 1)) -> SamplingPlan:
    plan = SamplingPlan(centre_id=enrolment.centre_id, iqa_id=iqa.id, assessor_id=assessor.id,
                        qualification_id=enrolment.qualification_id,
                        cycle_starts_on=cycle_starts_on, cycle_ends_on=cycle_ends_on,
                        created_by_id=iqa.id)
    session.add(plan)
    session.flush()
    return plan


def _revision(session, plan, note) -> PlanRevision:
    revision = PlanRevision(plan_id=plan.id, made_by_id=plan.iqa_id, note=note)
    session.add(revision)
    session.flush()
    return revision


def plan_sample(session, plan, enrolment, unit_id, due_on, stage="interim") -> PlannedSample:
    """A planned sample added to ``plan`` by a revision of its own."""
    planned = PlannedSample(plan_id=plan.id, enrolment_id=enrolment.id, unit_id=unit_id,
                            stage=stage, due_on=due_on,
                            added_in_id=_revision(session, plan, "Added").id)
    session.add(planned)
    session.flush()
    return planned


def unplan(session, plan, planned) -> None:
    planned.removed_in_id = _revision(session, plan, "Removed").id
    session.flush()


def make_sample(session, iqa, decisions: list[Decision], outcome="agree", planned=None,
                recorded_at=None, needs_countersignature=False, stage="interim") -> Sample:
    """A sample of ``decisions`` (one unit of one learner, one assessor), with their items, the
    five checks satisfied and feedback."""
    first = decisions[0]
    enrolment = first.item.enrolment
    sample = Sample(
        centre_id=enrolment.centre_id, enrolment_id=enrolment.id, unit_id=first.unit_id,
        qualification_id=enrolment.qualification_id, iqa_id=iqa.id,
        assessor_id=first.assessor_id, stage=stage,
        planned_sample_id=planned.id if planned else None,
        recorded_at=recorded_at or utcnow(), outcome=outcome,
        feedback="Clear, well-referenced decisions.",
        needs_countersignature=needs_countersignature)
    session.add(sample)
    session.flush()
    session.add_all(SampledDecision(sample_id=sample.id, decision_id=d.id,
                                    decision_assessor_id=d.assessor_id, iqa_id=iqa.id)
                    for d in decisions)
    items = {d.item_id: d.file_hashes for d in decisions}
    session.add_all(SampledItem(sample_id=sample.id, item_id=item_id, file_hashes=hashes)
                    for item_id, hashes in items.items())
    session.add_all(SampleCheck(sample_id=sample.id, check=check, satisfied=True)
                    for check in CHECKS)
    session.flush()
    return sample


def raise_action(session, sample, owner, due_on, text="Re-assess 1.2 with a witness statement.",
                 closed=False) -> SampleAction:
    action = SampleAction(sample_id=sample.id, owner_id=owner.id, text=text, due_on=due_on,
                          closed=closed)
    session.add(action)
    session.flush()
    if closed:
        session.add(ActionEntry(action_id=action.id, kind="closed", by_id=sample.iqa_id))
        session.flush()
    return action


def countersign_sample(session, sample, by) -> SampleCountersignature:
    signature = SampleCountersignature(sample_id=sample.id, by_id=by.id)
    session.add(signature)
    session.flush()
    return signature


def countersign(session, by, decision: Decision | None = None,
                sign_off: UnitSignOff | None = None) -> Countersignature:
    signature = Countersignature(decision_id=decision and decision.id,
                                 sign_off_id=sign_off and sign_off.id, by_id=by.id)
    session.add(signature)
    session.flush()
    return signature
