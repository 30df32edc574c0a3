"""The IQA's home: planned samples due this month and overdue, the open actions they raised
(overdue ones first) and their recent samples; and, for an assessor, the samples of their
decisions and the actions they must answer. Each list is one query, whatever the number of
learners."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portfolio.accounts.models import Enrolment, User
from portfolio.quality.models import PlannedSample, Sample, SampleAction, SamplingPlan

RECENT = 10


@dataclass
class Home:
    today: dt.date
    #: Planned samples not yet carried out, due before next month starts (overdue ones first).
    due: list[PlannedSample]
    #: Open actions raised by the IQA, and those the person must answer.
    raised_open: list[SampleAction]
    owned_open: list[SampleAction]
    recent: list[Sample]
    #: Samples of the person's own decisions, as assessor.
    of_mine: list[Sample]

    def overdue(self, dated) -> bool:
        return dated.due_on < self.today


def first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def home_for(session: Session, user: User, today: dt.date | None = None) -> Home:
    today = today or dt.date.today()
    return Home(today=today, due=due_samples(session, user.id, first_of_next_month(today)),
                raised_open=_open_actions(session, Sample.iqa_id == user.id),
                owned_open=_open_actions(session, SampleAction.owner_id == user.id),
                recent=_samples(session, Sample.iqa_id == user.id),
                of_mine=_samples(session, Sample.assessor_id == user.id))


def due_samples(session: Session, iqa_id: int, before: dt.date) -> list[PlannedSample]:
    """The IQA's planned samples still in their plans, not carried out, due before ``before``."""
    return list(session.scalars(
        sa.select(PlannedSample).join(SamplingPlan, SamplingPlan.id == PlannedSample.plan_id)
        .where(SamplingPlan.iqa_id == iqa_id, PlannedSample.removed_in_id.is_(None),
               PlannedSample.due_on < before,
               ~sa.exists().where(Sample.planned_sample_id == PlannedSample.id))
        .options(joinedload(PlannedSample.enrolment).joinedload(Enrolment.learner),
                 joinedload(PlannedSample.unit))
        .order_by(PlannedSample.due_on, PlannedSample.id)))


def _open_actions(session: Session, whose) -> list[SampleAction]:
    return list(session.scalars(
        sa.select(SampleAction).join(Sample, Sample.id == SampleAction.sample_id)
        .where(whose, ~SampleAction.closed)
        .options(joinedload(SampleAction.owner),
                 joinedload(SampleAction.sample).joinedload(Sample.enrolment)
                 .joinedload(Enrolment.learner),
                 joinedload(SampleAction.sample).joinedload(Sample.unit))
        .order_by(SampleAction.due_on, SampleAction.id)))


def _samples(session: Session, whose) -> list[Sample]:
    return list(session.scalars(
        sa.select(Sample).where(whose)
        .options(joinedload(Sample.enrolment).joinedload(Enrolment.learner),
                 joinedload(Sample.unit), joinedload(Sample.iqa), joinedload(Sample.assessor))
        .order_by(Sample.recorded_at.desc(), Sample.id.desc()).limit(RECENT)))


def learners_of(session: Session, iqa: User) -> list[Enrolment]:
    """The open enrolments the person quality-assures, by learner."""
    return list(session.scalars(
        sa.select(Enrolment).join(User, User.id == Enrolment.learner_id)
        .where(Enrolment.iqa_id == iqa.id, Enrolment.ended_at.is_(None))
        .options(joinedload(Enrolment.learner), joinedload(Enrolment.version),
                 joinedload(Enrolment.assessor))
        .order_by(User.name, Enrolment.id)))
