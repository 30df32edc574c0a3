"""The samples a sampling trail lists, one entry each, for its CSV and PDF downloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from portfolio.accounts.models import Enrolment, User
from portfolio.catalogue.models import Qualification, Unit
from portfolio.quality.models import (
    SAMPLE_OUTCOMES,
    STAGES,
    PlannedSample,
    SampleAction,
    SampleCountersignature,
)
from portfolio.quality.models import Sample as SampleRecord
from portfolio.quality.trail import TrailQuery, sample_scope


@dataclass(frozen=True)
class SampleEntry:
    """A sample recorded in the period, as the trail lists it."""

    recorded_at: dt.datetime
    learner: str
    registration_number: str
    qualification: str
    unit: str
    assessor: str
    iqa: str
    stage: str
    planned_due_on: dt.date | None
    outcome: str
    open_actions: int
    countersignature: str


def trail_samples(session: Session, query: TrailQuery) -> Iterator[SampleEntry]:
    """The samples recorded in the period, oldest first, each with its learner, unit, people,
    plan, open actions and countersignature."""
    learner, assessor, iqa = aliased(User), aliased(User), aliased(User)
    open_actions = (sa.select(SampleAction.sample_id, sa.func.count().label("count"))
                    .where(SampleAction.closed.is_(False)).group_by(SampleAction.sample_id)
                    .subquery())
    statement = (
        sa.select(SampleRecord.recorded_at, learner.name, Enrolment.registration_number,
                  Qualification.qualification_number, Unit.number, Unit.title, assessor.name,
                  iqa.name, SampleRecord.stage, PlannedSample.due_on, SampleRecord.outcome,
                  sa.func.coalesce(open_actions.c.count, 0),
                  SampleRecord.needs_countersignature, SampleCountersignature.id)
        .join(Enrolment, Enrolment.id == SampleRecord.enrolment_id)
        .join(learner, learner.id == Enrolment.learner_id)
        .join(Qualification, Qualification.id == SampleRecord.qualification_id)
        .join(Unit, Unit.id == SampleRecord.unit_id)
        .join(assessor, assessor.id == SampleRecord.assessor_id)
        .join(iqa, iqa.id == SampleRecord.iqa_id)
        .outerjoin(PlannedSample, PlannedSample.id == SampleRecord.planned_sample_id)
        .outerjoin(open_actions, open_actions.c.sample_id == SampleRecord.id)
        .outerjoin(SampleCountersignature,
                   SampleCountersignature.sample_id == SampleRecord.id)
        .where(*sample_scope(query))
        .order_by(SampleRecord.recorded_at, SampleRecord.id))
    for (at, learner_name, registration, number, unit_number, unit_title, assessor_name,
         iqa_name, stage, due_on, outcome, actions, needs, signed) in session.execute(statement):
        yield SampleEntry(
            recorded_at=at, learner=learner_name, registration_number=registration,
            qualification=number, unit=f"{unit_number} {unit_title}", assessor=assessor_name,
            iqa=iqa_name, stage=STAGES[stage], planned_due_on=due_on,
            outcome=SAMPLE_OUTCOMES[outcome], open_actions=actions,
            countersignature=("Countersigned" if signed else "Pending") if needs else
            "Not needed")
