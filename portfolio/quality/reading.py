"""What an IQA sees when opening a sample of a learner's unit: the evidence claiming the unit's
criteria and, per criterion, the assessor's current decision with its history, each decision
marked with why the IQA may not sample it (their own, or countersigned by them)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from portfolio.accounts.models import Enrolment, User
from portfolio.assessment.models import Countersignature, Decision, ItemFeedback
from portfolio.assessment.progress import signed_off_unit_ids
from portfolio.catalogue.tree import CriterionNode, UnitNode, version_tree
from portfolio.evidence.models import CriterionClaim, EvidenceItem
from portfolio.quality.models import PlannedSample, Sample, SampledDecision, SampledItem

OWN_DECISION = "your own decision: an IQA never samples their own assessments"
COUNTERSIGNED = "you countersigned it: an IQA never samples a decision they vouched for"


@dataclass
class CriterionHistory:
    criterion: CriterionNode
    #: Every decision on the criterion, newest first; the first is the current one.
    decisions: list[Decision] = field(default_factory=list)

    @property
    def current(self) -> Decision | None:
        return self.decisions[0] if self.decisions else None


@dataclass
class SampleContext:
    enrolment: Enrolment
    unit: UnitNode
    #: ``summative`` once the unit is signed off, else ``interim``.
    stage: str
    criteria: list[CriterionHistory]
    #: Live evidence items claiming the unit's criteria, oldest first, with their files.
    items: list[EvidenceItem]
    #: The assessors' feedback on each item as a whole, oldest first.
    item_feedback: dict[int, list[ItemFeedback]]
    #: Why the IQA may not sample a decision, by decision id (absent: they may).
    refusals: dict[int, str]
    planned: PlannedSample | None = None

    @property
    def decisions(self) -> dict[int, Decision]:
        return {d.id: d for row in self.criteria for d in row.decisions}

    @property
    def selectable_decision_ids(self) -> list[int]:
        """The current decisions the IQA may sample: the default selection."""
        return [row.current.id for row in self.criteria
                if row.current is not None and row.current.id not in self.refusals]

    @property
    def item_ids(self) -> list[int]:
        return [item.id for item in self.items]


def sample_context(session: Session, enrolment: Enrolment, unit_id: int, iqa: User,
                   planned: PlannedSample | None = None) -> SampleContext | None:
    """The unit's evidence and decisions as the IQA sees them; None for a unit that is not part
    of the learner's qualification. A fixed number of queries whatever the portfolio's size."""
    tree = version_tree(session, enrolment.version_id)
    unit = tree.units_by_id.get(unit_id)
    if unit is None:
        return None
    rows = {c.id: CriterionHistory(c) for c in unit.criteria}
    decisions = list(session.scalars(
        sa.select(Decision).where(Decision.enrolment_id == enrolment.id,
                                  Decision.unit_id == unit.id)
        .options(joinedload(Decision.assessor), joinedload(Decision.item))
        .order_by(Decision.decided_at.desc(), Decision.id.desc())))
    for decision in decisions:
        rows[decision.criterion_id].decisions.append(decision)
    items = list(session.scalars(
        sa.select(EvidenceItem).where(
            EvidenceItem.enrolment_id == enrolment.id, EvidenceItem.withdrawn_at.is_(None),
            EvidenceItem.id.in_(sa.select(CriterionClaim.item_id).where(
                CriterionClaim.criterion_id.in_(list(rows)))))
        .options(selectinload(EvidenceItem.files))
        .order_by(EvidenceItem.created_at, EvidenceItem.id)))
    feedback: dict[int, list[ItemFeedback]] = defaultdict(list)
    if items:
        for given in session.scalars(
                sa.select(ItemFeedback).where(ItemFeedback.item_id.in_([i.id for i in items]))
                .options(joinedload(ItemFeedback.assessor)).order_by(ItemFeedback.id)):
            feedback[given.item_id].append(given)
    stage = "summative" if unit.id in signed_off_unit_ids(session, enrolment.id) else "interim"
    return SampleContext(enrolment=enrolment, unit=unit, stage=stage, criteria=list(rows.values()),
                         items=items, item_feedback=feedback,
                         refusals=refusals(session, iqa, decisions), planned=planned)


def refusals(session: Session, iqa: User, decisions: list[Decision]) -> dict[int, str]:
    """Why ``iqa`` may not sample each of ``decisions`` that they may not."""
    refused = {d.id: OWN_DECISION for d in decisions if d.assessor_id == iqa.id}
    others = [d.id for d in decisions if d.id not in refused]
    if others:
        refused.update((decision_id, COUNTERSIGNED) for decision_id in session.scalars(
            sa.select(Countersignature.decision_id).where(
                Countersignature.decision_id.in_(others), Countersignature.by_id == iqa.id)))
    return refused


@dataclass
class SampledRecord:
    #: The decisions sampled, in the unit's order, with their criteria's codes.
    decisions: list[tuple[str, Decision]]
    #: The items sampled, with the files' hashes when sampled.
    items: list[tuple[EvidenceItem, list[str]]]


def sampled_record(session: Session, sample: Sample) -> SampledRecord:
    """What a recorded sample looked at, for its page."""
    tree = version_tree(session, sample.enrolment.version_id)
    decisions = session.scalars(
        sa.select(Decision).join(SampledDecision, SampledDecision.decision_id == Decision.id)
        .where(SampledDecision.sample_id == sample.id)
        .options(joinedload(Decision.assessor), joinedload(Decision.item))
        .order_by(Decision.criterion_id, Decision.id))
    items = session.execute(
        sa.select(EvidenceItem, SampledItem.file_hashes)
        .join(SampledItem, SampledItem.item_id == EvidenceItem.id)
        .where(SampledItem.sample_id == sample.id).order_by(EvidenceItem.id))
    return SampledRecord(decisions=[(tree.label(d.criterion_id), d) for d in decisions],
                         items=[(item, hashes) for item, hashes in items])
