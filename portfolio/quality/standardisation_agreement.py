"""What standardisation's judgements show, read apart from the commands that record them: each
person's own judgements while the round is blind, and once it is open the agreement per piece of
evidence and criterion (who said what, the share that agreed, where people differed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from portfolio.accounts.models import User
from portfolio.catalogue.models import Criterion
from portfolio.quality.standardisation import StandardisationRefused
from portfolio.quality.standardisation_models import (
    StandardisationActivity,
    StandardisationCriterion,
    StandardisationEvidence,
    StandardisationJudgement,
)

BLIND = ("The judgements stay hidden until every participant has judged every piece of evidence "
         "or the lead closes the round.")


def own_judgements(session: Session, activity: StandardisationActivity,
                   judge: User) -> dict[tuple[int, int], StandardisationJudgement]:
    """The judge's own judgements by (evidence, criterion): all anyone sees while it is blind."""
    return {(j.evidence_id, j.criterion_id): j for j in session.scalars(
        _judgements(activity).where(StandardisationJudgement.judge_id == judge.id))}


def _judgements(activity: StandardisationActivity):
    return (sa.select(StandardisationJudgement)
            .join(StandardisationEvidence,
                  StandardisationEvidence.id == StandardisationJudgement.evidence_id)
            .where(StandardisationEvidence.activity_id == activity.id)
            .order_by(StandardisationJudgement.id))


def judged_by(session: Session, activity: StandardisationActivity) -> dict[int, int]:
    """How many judgements each participant has recorded: who has judged, never what."""
    return dict(session.execute(
        sa.select(StandardisationJudgement.judge_id, sa.func.count())
        .join(StandardisationEvidence,
              StandardisationEvidence.id == StandardisationJudgement.evidence_id)
        .where(StandardisationEvidence.activity_id == activity.id)
        .group_by(StandardisationJudgement.judge_id)).all())


def agreement_share(outcomes: list[str]) -> Fraction:
    """The share of the judges who gave the most common outcome (1 when all agree; 0 when
    nobody judged)."""
    if not outcomes:
        return Fraction(0)
    return Fraction(max(Counter(outcomes).values()), len(outcomes))


@dataclass(frozen=True)
class CriterionAgreement:
    criterion: Criterion
    #: Every participant's judgement, in the order recorded.
    judgements: tuple[StandardisationJudgement, ...]
    share: Fraction

    @property
    def differed(self) -> bool:
        return len({j.outcome for j in self.judgements}) > 1

    @property
    def percent(self) -> int:
        return round(self.share * 100)


@dataclass(frozen=True)
class EvidenceAgreement:
    evidence: StandardisationEvidence
    criteria: tuple[CriterionAgreement, ...]


@dataclass(frozen=True)
class Agreement:
    evidence: tuple[EvidenceAgreement, ...]

    @property
    def criteria(self) -> list[CriterionAgreement]:
        return [c for e in self.evidence for c in e.criteria]

    @property
    def unanimous(self) -> int:
        return sum(1 for c in self.criteria if c.judgements and not c.differed)


def agreement(session: Session, activity: StandardisationActivity) -> Agreement:
    """Everyone's judgements side by side, refused while the round is blind. The same few
    queries however many participants and pieces of evidence."""
    if not activity.is_open:
        raise StandardisationRefused(BLIND)
    evidence = list(session.scalars(
        sa.select(StandardisationEvidence)
        .where(StandardisationEvidence.activity_id == activity.id)
        .options(selectinload(StandardisationEvidence.criteria)
                 .selectinload(StandardisationCriterion.criterion)
                 .selectinload(Criterion.unit))
        .order_by(StandardisationEvidence.id)))
    found: dict[tuple[int, int], list[StandardisationJudgement]] = {}
    for judgement in session.scalars(_judgements(activity)
                                     .options(selectinload(StandardisationJudgement.judge))):
        found.setdefault((judgement.evidence_id, judgement.criterion_id), []).append(judgement)
    return Agreement(tuple(
        EvidenceAgreement(e, tuple(
            CriterionAgreement(c.criterion, tuple(found.get((e.id, c.criterion_id), ())),
                               agreement_share([j.outcome for j in
                                                found.get((e.id, c.criterion_id), ())]))
            for c in e.criteria))
        for e in evidence))
