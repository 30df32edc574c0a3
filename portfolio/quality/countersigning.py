"""Countersigning samples: where a qualification's document asks for it, the samples of an IQA
working towards their IQA qualification count only once a qualified IQA of the centre
countersigns them (the same rule as assessors' decisions, :mod:`portfolio.assessment.countersigning`).
A sample is countersigned at most once: the service refuses a second, and the unique index on
``sample_countersignatures`` refuses the same race between the check and the commit."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portfolio.accounts.models import Enrolment, User
from portfolio.assessment.countersigning import london_today, qualified_for
from portfolio.catalogue.models import Qualification
from portfolio.quality.errors import QualityError
from portfolio.quality.events import sample_countersigned
from portfolio.quality.models import Sample, SampleCountersignature

NOTHING_CHOSEN = "Choose at least one sample to countersign."


def awaiting_countersignature() -> sa.ColumnElement[bool]:
    """A sample made where it must be countersigned and not yet countersigned."""
    return sa.and_(Sample.needs_countersignature, ~sa.exists().where(
        SampleCountersignature.sample_id == Sample.id))


def samples_awaiting(session: Session, user: User) -> list[Sample]:
    """The samples of ``user``'s centre awaiting countersignature on the qualifications they are a
    qualified IQA for today, never their own, oldest first; in a fixed number of queries."""
    qualifications = qualified_for(session, user, london_today(), role="iqa")
    if not qualifications or not user.holds("iqa", user.centre_id):
        return []
    return list(session.scalars(
        sa.select(Sample).where(Sample.centre_id == user.centre_id, Sample.iqa_id != user.id,
                                Sample.qualification_id.in_(qualifications),
                                awaiting_countersignature())
        .options(joinedload(Sample.iqa), joinedload(Sample.assessor), joinedload(Sample.unit),
                 joinedload(Sample.enrolment).joinedload(Enrolment.learner))
        .order_by(Sample.recorded_at, Sample.id)))


def countersign_samples(session: Session, countersigner: User, samples: Sequence[Sample]
                        ) -> list[SampleCountersignature]:
    """Countersign samples, all or none: each must await countersignature, be someone else's and
    be on a qualification ``countersigner`` is a qualified IQA for today. Raises
    :class:`QualityError` naming every refusal."""
    if not samples:
        raise QualityError(NOTHING_CHOSEN)
    qualifications = qualified_for(session, countersigner, london_today(), role="iqa")
    problems = [problem for sample in samples
                if (problem := _problem(session, countersigner, sample, qualifications))]
    if problems:
        raise QualityError(" ".join(problems))
    made = [SampleCountersignature(sample_id=sample.id, by_id=countersigner.id)
            for sample in samples]
    session.add_all(made)
    session.flush()
    for sample, signature in zip(samples, made, strict=True):
        sample_countersigned.emit(
            session, actor=countersigner, centre_id=sample.centre_id,
            learner_id=sample.enrolment.learner_id, subject=signature, sample_id=sample.id,
            unit=sample.unit.number, iqa=sample.iqa.name, iqa_id=sample.iqa_id)
    return made


def _problem(session: Session, countersigner: User, sample: Sample,
             qualifications: set[int]) -> str | None:
    what = f"The sample of unit {sample.unit.number} by {sample.iqa.name}"
    if sample.centre_id != countersigner.centre_id:
        return f"{what} is not of your centre."
    if not sample.needs_countersignature:
        return f"{what} needs no countersignature."
    existing = session.scalar(sa.select(SampleCountersignature)
                              .where(SampleCountersignature.sample_id == sample.id))
    if existing is not None:
        return f"{what} is already countersigned, by {existing.by.name}."
    if sample.iqa_id == countersigner.id:
        return f"{what} is your own: a qualified colleague must countersign it."
    if sample.qualification_id not in qualifications:
        number = session.get(Qualification, sample.qualification_id).qualification_number
        return (f"Only an IQA your centre records as qualified for {number} may countersign "
                f"the sample of unit {sample.unit.number}.")
    return None
