"""Sampling plans: made from the generator's proposal, changed only by revisions that add and
remove planned samples (moving a due date or changing a stage removes the sample and adds its
replacement), so the plan on any day, and who changed what when, can be read back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from portfolio.accounts.models import Enrolment, User
from portfolio.catalogue.models import Qualification
from portfolio.core.dates import long_date
from portfolio.core.errors import DomainError
from portfolio.quality.generator import OWN_WORK, gather_pairs, propose_plan
from portfolio.quality.models import STAGES, PlannedSample, PlanRevision, SamplingPlan
from portfolio.quality.plan_events import plan_created, plan_revised
from portfolio.quality.selection import Gap, Pair, gaps_of
from portfolio.quality.strategy import Strategy

GENERATOR_NOTE = "Proposed by the generator."


class PlanRefused(DomainError):
    """A refused change to a plan; ``field`` names the form's answer it is about, if one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Cell:
    """What a revision wants planned for one learner's unit."""

    stage: str
    due_on: dt.date


def _check_people(session: Session, iqa: User, assessor: User) -> None:
    if not iqa.holds("iqa", iqa.centre_id):
        raise PlanRefused("Only an IQA of the centre makes sampling plans.")
    if assessor.id == iqa.id:
        raise PlanRefused("An IQA never samples their own decisions: choose another assessor.",
                          "assessor_id")
    if assessor.centre_id != iqa.centre_id or not assessor.holds("assessor", iqa.centre_id):
        raise PlanRefused("Choose an assessor of the centre.", "assessor_id")


def create_plan(session: Session, strategy: Strategy, iqa: User, assessor: User,
                qualification: Qualification, cycle_start: dt.date) -> SamplingPlan:
    """A plan holding the generator's proposal, as its first revision."""
    _check_people(session, iqa, assessor)
    if not strategy.is_cycle_start(cycle_start):
        raise PlanRefused("Choose the first day of a cycle of the centre's strategy.",
                          "cycle_starts_on")
    if session.scalar(sa.select(SamplingPlan.id).where(
            SamplingPlan.iqa_id == iqa.id, SamplingPlan.assessor_id == assessor.id,
            SamplingPlan.qualification_id == qualification.id,
            SamplingPlan.cycle_starts_on == cycle_start)):
        raise PlanRefused(f"You already have a plan of {assessor.name}'s work on "
                          f"{qualification.qualification_number} for that cycle: open it from "
                          f"your plans.", "assessor_id")
    proposal = propose_plan(session, strategy, iqa, assessor, qualification, cycle_start)
    plan = SamplingPlan(centre_id=iqa.centre_id, iqa_id=iqa.id, assessor_id=assessor.id,
                        qualification_id=qualification.id, cycle_starts_on=cycle_start,
                        cycle_ends_on=proposal.cycle_ends_on, created_by_id=iqa.id)
    session.add(plan)
    session.flush()
    revision = PlanRevision(plan_id=plan.id, made_by_id=iqa.id, note=GENERATOR_NOTE)
    session.add(revision)
    session.flush()
    session.add_all(PlannedSample(plan_id=plan.id, enrolment_id=p.enrolment_id,
                                  unit_id=p.unit_id, stage=p.stage, due_on=p.due_on,
                                  added_in_id=revision.id)
                    for p in proposal.selection.planned)
    session.flush()
    plan_created.emit(session, actor=iqa, centre_id=plan.centre_id, subject=plan,
                      assessor=assessor.name, qualification=qualification.qualification_number,
                      cycle_starts_on=cycle_start.isoformat(),
                      planned=len(proposal.selection.planned))
    return plan


def active_samples(session: Session, plan: SamplingPlan) -> list[PlannedSample]:
    """The plan's samples now, by learner then unit."""
    return active_planned_samples(session, plan_ids=[plan.id])


def active_planned_samples(session: Session, *, plan_ids: Iterable[int] | None = None,
                           centre_id: int | None = None, due_from: dt.date | None = None,
                           due_before: dt.date | None = None) -> list[PlannedSample]:
    """The samples planned now (not removed by a later revision) of the given plans or of a
    centre's plans, due in ``[due_from, due_before)`` when given; in one query."""
    query = sa.select(PlannedSample).where(PlannedSample.removed_in_id.is_(None))
    if plan_ids is not None:
        query = query.where(PlannedSample.plan_id.in_(list(plan_ids)))
    if centre_id is not None:
        query = query.where(PlannedSample.plan_id.in_(
            sa.select(SamplingPlan.id).where(SamplingPlan.centre_id == centre_id)))
    if due_from is not None:
        query = query.where(PlannedSample.due_on >= due_from)
    if due_before is not None:
        query = query.where(PlannedSample.due_on < due_before)
    return list(session.scalars(query.order_by(
        PlannedSample.plan_id, PlannedSample.enrolment_id, PlannedSample.unit_id)))


def plan_pairs(session: Session, plan: SamplingPlan) -> list[Pair]:
    """The learner x unit pairs the plan may hold, with their facts as the generator reads them."""
    return gather_pairs(session, plan.centre_id, plan.iqa_id, plan.assessor_id,
                        plan.qualification_id, plan.cycle_starts_on)


def plan_gaps(pairs: list[Pair], samples: list[PlannedSample]) -> list[Gap]:
    """What of CAMERA the plan's samples leave uncovered, and why."""
    return gaps_of(pairs, {(s.enrolment_id, s.unit_id) for s in samples})


def revise_plan(session: Session, plan: SamplingPlan, actor: User,
                wanted: Mapping[tuple[int, int], Cell], note: str,
                pairs: list[Pair] | None = None) -> PlanRevision:
    """Make the plan hold exactly ``wanted`` (learner's enrolment and unit -> stage and due
    date), as one revision: samples no longer wanted, or wanted differently, are removed and
    their replacements added."""
    if actor.id != plan.iqa_id or not actor.holds("iqa", plan.centre_id):
        raise PlanRefused("Only the plan's IQA changes it.")
    note = note.strip()
    if not note:
        raise PlanRefused("Say why you change the plan: the note is kept in its history.", "note")
    by_key = {pair.key: pair for pair in (pairs if pairs is not None
                                          else plan_pairs(session, plan))}
    for key, cell in wanted.items():
        pair = by_key.get(key)
        if pair is None:
            raise PlanRefused("That learner's unit is not part of this assessor's work on the "
                              "qualification.")
        if cell.stage not in STAGES:
            raise PlanRefused("Choose interim or summative.")
        if not plan.cycle_starts_on <= cell.due_on < plan.cycle_ends_on:
            last = plan.cycle_ends_on - dt.timedelta(days=1)
            raise PlanRefused(f"Choose due dates within the cycle, from "
                              f"{long_date(plan.cycle_starts_on)} to {long_date(last)}.")
        if pair.blocked == OWN_WORK:
            raise PlanRefused("You judged or signed off some of that learner's unit: an IQA "
                              "never samples their own decisions.")
        if cell.stage == "summative" and not (pair.signed_off or pair.likely_signed_off):
            raise PlanRefused("A summative sample is for a unit signed off or likely to be: "
                              "plan this one at the interim stage.")
    current = {(s.enrolment_id, s.unit_id): s for s in active_samples(session, plan)}
    removed = [s for key, s in current.items()
               if key not in wanted or Cell(s.stage, s.due_on) != wanted[key]]
    added = [(key, cell) for key, cell in wanted.items()
             if key not in current or current[key] in removed]
    if not removed and not added:
        raise PlanRefused("Nothing changed: the plan already holds exactly that.")
    revision = PlanRevision(plan_id=plan.id, made_by_id=actor.id, note=note)
    session.add(revision)
    session.flush()
    for sample in removed:
        sample.removed_in_id = revision.id
    session.add_all(PlannedSample(plan_id=plan.id, enrolment_id=key[0], unit_id=key[1],
                                  stage=cell.stage, due_on=cell.due_on, added_in_id=revision.id)
                    for key, cell in added)
    session.flush()
    plan_revised.emit(session, actor=actor, centre_id=plan.centre_id, subject=plan,
                      assessor=plan.assessor.name,
                      qualification=_number(session, plan.qualification_id),
                      added=len(added), removed=len(removed), note=note)
    return revision


def _number(session: Session, qualification_id: int) -> str:
    return session.get(Qualification, qualification_id).qualification_number


@dataclass(frozen=True)
class RevisionChanges:
    revision: PlanRevision
    added: list[PlannedSample]
    removed: list[PlannedSample]


def plan_history(session: Session, plan: SamplingPlan) -> list[RevisionChanges]:
    """Each revision, latest first, with the samples it added and removed (two queries)."""
    revisions = list(session.scalars(
        sa.select(PlanRevision).where(PlanRevision.plan_id == plan.id)
        .options(selectinload(PlanRevision.made_by)).order_by(PlanRevision.id.desc())))
    samples = list(session.scalars(sa.select(PlannedSample).where(
        PlannedSample.plan_id == plan.id).order_by(PlannedSample.enrolment_id,
                                                   PlannedSample.unit_id)))
    return [RevisionChanges(r, [s for s in samples if s.added_in_id == r.id],
                            [s for s in samples if s.removed_in_id == r.id]) for r in revisions]


def plans_of(session: Session, user: User) -> list[SamplingPlan]:
    """The plans an IQA made, or for a centre admin every plan of the centre; latest cycle
    first."""
    query = sa.select(SamplingPlan).options(selectinload(SamplingPlan.assessor),
                                            selectinload(SamplingPlan.iqa))
    if user.holds("centre_admin", user.centre_id):
        query = query.where(SamplingPlan.centre_id == user.centre_id)
    else:
        query = query.where(SamplingPlan.iqa_id == user.id)
    return list(session.scalars(query.order_by(SamplingPlan.cycle_starts_on.desc(),
                                               SamplingPlan.id.desc())))


def learner_names(session: Session, enrolment_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Per enrolment, the learner's name and registration number."""
    return {e: (name, reg) for e, name, reg in session.execute(
        sa.select(Enrolment.id, User.name, Enrolment.registration_number)
        .join(User, User.id == Enrolment.learner_id)
        .where(Enrolment.id.in_(list(enrolment_ids))))}

