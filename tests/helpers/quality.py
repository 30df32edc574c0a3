"""Quality records made directly, for tests of what reads them (the sampling trail): plans with
planned samples, samples of decisions with their checks and actions, countersignatures. The rows
are written as the services would leave them, without their events; nothing commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
from portfolio.quality.trail import Period
from tests.helpers.assessment import add_item, criteria_of, decide, unit_node


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


TODAY = dt.date(2027, 3, 15)
PERIOD = Period(dt.date(2026, 9, 1), dt.date(2027, 8, 31))
IN_PERIOD = dt.datetime(2027, 1, 10, 12, tzinfo=dt.UTC)


@dataclass
class Scene:
    unit_204: list[Decision]
    unit_301: list[Decision]
    unit_01: list[Decision]


def at(session, decisions, when):
    for decision in decisions:
        decision.decided_at = when
    session.flush()


def build_scene(session, people) -> Scene:
    """Assessor 1 (600/1636/X, learner 1): unit 204 judged on a product in the workplace, unit
    301 on an observation in a simulation, and a decision before the period. Assessor 2
    (600/1257/2, learner 2): unit 01. Samples, plans, actions and countersignatures around
    them (see the expectations in the tests)."""
    e1, e2 = people.enrolment1, people.enrolment2
    item_204 = add_item(session, e1, criteria_of(session, e1, "204"))
    unit_204 = decide(session, item_204, people.assessor1, criteria_of(session, e1, "204"))
    item_301 = add_item(session, e1, criteria_of(session, e1, "301", 2))
    item_301.method, item_301.setting = "observation", "simulated"
    unit_301 = decide(session, item_301, people.assessor1, criteria_of(session, e1, "301", 2))
    old = add_item(session, e1, criteria_of(session, e1, "205", 1))
    at(session, decide(session, old, people.assessor1, criteria_of(session, e1, "205", 1)),
       dt.datetime(2026, 8, 31, 22, 59, tzinfo=dt.UTC))  # 23:59 in London: before the period
    item_01 = add_item(session, e2, criteria_of(session, e2, "01", 2))
    unit_01 = decide(session, item_01, people.assessor2, criteria_of(session, e2, "01", 2))
    at(session, unit_204 + unit_301 + unit_01, IN_PERIOD)

    plan = make_plan(session, people.iqa1, people.assessor1, e1)
    done = plan_sample(session, plan, e1, unit_node(session, e1, "204").id, dt.date(2027, 2, 1))
    plan_sample(session, plan, e1, unit_node(session, e1, "301").id, dt.date(2027, 3, 1))
    unplan(session, plan, plan_sample(session, plan, e1, unit_node(session, e1, "206").id,
                                      dt.date(2027, 3, 1)))
    plan_sample(session, plan, e1, unit_node(session, e1, "207").id, dt.date(2026, 8, 31))
    make_sample(session, people.iqa1, unit_204, planned=done, recorded_at=IN_PERIOD)
    ad_hoc = make_sample(session, people.iqa2, unit_301[:1], outcome="action_required",
                         recorded_at=IN_PERIOD)
    raise_action(session, ad_hoc, people.assessor1, TODAY - dt.timedelta(days=1))
    raise_action(session, ad_hoc, people.assessor1, TODAY - dt.timedelta(days=9), closed=True)
    waiting = make_sample(session, people.iqa1, unit_01, outcome="agree_with_feedback",
                          recorded_at=IN_PERIOD, needs_countersignature=True)
    raise_action(session, waiting, people.assessor2, TODAY + dt.timedelta(days=7))
    raise_action(session, waiting, people.assessor2, TODAY)  # due today: not yet overdue
    make_sample(session, people.iqa1, unit_204[:1],  # before the period: not counted
                recorded_at=dt.datetime(2026, 8, 1, tzinfo=dt.UTC))

    unit_204[0].needs_countersignature = unit_204[1].needs_countersignature = True
    countersign(session, people.iqa2, decision=unit_204[1])
    signed = UnitSignOff(enrolment_id=e2.id, unit_id=unit_node(session, e2, "01").id,
                         method="assessment", assessor_id=people.assessor2.id,
                         signed_at=IN_PERIOD, needs_countersignature=True)
    session.add(signed)
    session.flush()
    return Scene(unit_204, unit_301, unit_01)
