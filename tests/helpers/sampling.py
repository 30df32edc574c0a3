"""Building samples for the sampling tests: a planned sample in a plan, the form's answers, and
a unit with decisions by the learner's assessor."""

from __future__ import annotations

import datetime as dt

from portfolio.quality.models import CHECKS, PlannedSample, PlanRevision, SamplingPlan
from portfolio.quality.sampling import ActionRequest, CheckAnswer, SampleRecord, record_sample
from tests.helpers.assessment import add_item, criteria_of, decide, unit_node

UNIT = "204"
FEEDBACK = "Say in the feedback which part of the call log showed the data kept secure."
ACTION = "Add a witness statement for criterion 1.2 and judge it again."


def judged_unit(session, enrolment, assessor, number=UNIT, decided=None):
    """An item claiming every criterion of the unit, ``decided`` of them (default all) judged
    met by ``assessor``; returns (item, decisions)."""
    criteria = criteria_of(session, enrolment, number)
    item = add_item(session, enrolment, criteria, title=f"Unit {number} portfolio")
    return item, decide(session, item, assessor, criteria[:decided])


def answers(decision_ids, item_ids, outcome="agree", feedback="", actions=(), unsatisfied=()
            ) -> SampleRecord:
    return SampleRecord(
        decision_ids=list(decision_ids), item_ids=list(item_ids),
        checks={name: CheckAnswer(name not in unsatisfied,
                                  "Not enough." if name in unsatisfied else "")
                for name in CHECKS},
        outcome=outcome, feedback=feedback, actions=list(actions))


def action(days=14, text=ACTION, owner_id=None, today=None) -> ActionRequest:
    return ActionRequest(text, (today or dt.date.today()) + dt.timedelta(days=days), owner_id)


def sample_with_action(session, iqa, enrolment, unit_id, decisions, items, **action_args):
    return record_sample(session, iqa, enrolment, unit_id, answers(
        [d.id for d in decisions], [i.id for i in items], "action_required", FEEDBACK,
        [action(**action_args)]))


def make_plan(session, iqa, assessor, enrolment) -> PlanRevision:
    """A plan of ``iqa`` for ``assessor`` on the learner's qualification; returns its first
    revision, which planned samples are added in."""
    plan = SamplingPlan(centre_id=enrolment.centre_id, iqa_id=iqa.id, assessor_id=assessor.id,
                        qualification_id=enrolment.qualification_id,
                        cycle_starts_on=dt.date.today().replace(day=1) - dt.timedelta(days=200),
                        cycle_ends_on=dt.date.today() + dt.timedelta(days=200),
                        created_by_id=iqa.id)
    session.add(plan)
    session.flush()
    revision = PlanRevision(plan_id=plan.id, made_by_id=iqa.id, note="Proposal accepted")
    session.add(revision)
    session.flush()
    return revision


def planned_sample(session, iqa, assessor, enrolment, unit_number=UNIT, stage="interim",
                   due_on=None, revision=None) -> PlannedSample:
    """One planned sample of the learner's unit, in ``revision``'s plan or a new plan of
    ``iqa`` for ``assessor``."""
    revision = revision or make_plan(session, iqa, assessor, enrolment)
    planned = PlannedSample(plan_id=revision.plan_id, enrolment_id=enrolment.id,
                            unit_id=unit_node(session, enrolment, unit_number).id, stage=stage,
                            due_on=due_on or dt.date.today(), added_in_id=revision.id)
    session.add(planned)
    session.flush()
    return planned
