"""Recording assessors' judgements: append-only decisions on the criteria an item claims."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portfolio.accounts.models import User
from portfolio.accounts.services import lock_enrolment
from portfolio.assessment.caseload import refresh_awaiting
from portfolio.assessment.errors import AssessmentError, DecisionConflict
from portfolio.assessment.events import decision_recorded
from portfolio.assessment.models import OUTCOMES, Decision
from portfolio.assessment.progress import current_decisions, signed_off_unit_ids
from portfolio.catalogue.tree import version_tree
from portfolio.core.db import utcnow
from portfolio.evidence import services as evidence
from portfolio.evidence.models import EvidenceItem


@dataclass(frozen=True)
class Judgement:
    criterion_id: int
    outcome: str
    feedback: str = ""
    #: The current decision the assessor saw when the page was drawn (None: there was none).
    expected_current_id: int | None = None
    reason: str = ""


def record_decisions(session: Session, item: EvidenceItem, assessor: User,
                     judgements: Iterable[Judgement], map_criteria: Iterable[int] = ()
                     ) -> list[Decision]:
    """Map further criteria to the item and record decisions on its claims.

    Raises :class:`DecisionConflict` when a criterion's current decision is no longer the one the
    assessor saw; the database's unique indexes refuse the same race when it happens between this
    check and the commit (the web edge turns the ``IntegrityError`` into the same message).
    """
    enrolment = item.enrolment
    lock_enrolment(session, enrolment)
    session.refresh(item)
    if item.is_withdrawn:
        raise AssessmentError("This evidence was withdrawn by the learner.")
    file_hashes = [f.sha256 for f in item.files]
    if not file_hashes:
        raise AssessmentError("This evidence has no files: there is nothing to judge. Ask the "
                              "learner to add the evidence again with its files.")
    tree = version_tree(session, enrolment.version_id)
    claimed = evidence.map_criteria(session, item, assessor, map_criteria)

    judgements = list(judgements)
    locked = signed_off_unit_ids(session, enrolment.id)
    current = {d.criterion_id: d for d in session.scalars(
        current_decisions([enrolment.id]).where(
            Decision.criterion_id.in_([j.criterion_id for j in judgements])))}
    recorded = []
    for judgement in judgements:
        unit = tree.unit_of_criterion.get(judgement.criterion_id)
        code = tree.label(judgement.criterion_id)
        if judgement.criterion_id not in claimed or unit is None:
            raise AssessmentError(f"{code} is not claimed by this evidence.")
        if judgement.outcome not in OUTCOMES:
            raise AssessmentError(f"Choose met or not yet met for {code}.")
        if judgement.outcome == "not_yet_met" and not judgement.feedback.strip():
            raise AssessmentError(f"Give the learner feedback they can act on for {code}.")
        if unit.id in locked:
            raise AssessmentError(f"Unit {unit.number} is signed off: its decisions cannot be "
                                  f"superseded until a centre admin unlocks it.")
        previous = current.get(judgement.criterion_id)
        if (previous.id if previous else None) != judgement.expected_current_id:
            raise DecisionConflict(
                f"{code} was decided by someone else since you opened this page. Nothing was "
                f"saved: reload to see their decision.")
        reason = judgement.reason.strip()
        if previous is not None and not reason:
            if previous.item_id == item.id or previous.outcome == "met":
                raise AssessmentError(f"Give a reason for replacing the decision on {code}.")
            reason = f"Judged further evidence: {item.title}"
        decision = Decision(
            enrolment_id=enrolment.id, criterion_id=judgement.criterion_id, unit_id=unit.id,
            item_id=item.id, assessor_id=assessor.id, outcome=judgement.outcome,
            feedback=judgement.feedback.strip(), file_hashes=file_hashes,
            supersedes_id=previous.id if previous else None, reason=reason)
        session.add(decision)
        recorded.append(decision)
    if recorded and item.judged_at is None:
        item.judged_at = utcnow()
    session.flush()
    refresh_awaiting(session, enrolment.id, [item.id])
    for decision in recorded:
        decision_recorded.emit(
            session, actor=assessor, centre_id=enrolment.centre_id,
            learner_id=enrolment.learner_id, subject=decision,
            criterion=tree.label(decision.criterion_id), item_id=item.id,
            outcome=decision.outcome, supersedes_id=decision.supersedes_id,
            reason=decision.reason, file_hashes=file_hashes)
    return recorded
