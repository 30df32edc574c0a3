"""Recording assessors' judgements: append-only decisions on the criteria an item claims, and
feedback on the item as a whole."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portfolio.accounts.models import User
from portfolio.accounts.services import lock_enrolment
from portfolio.assessment.caseload import refresh_awaiting
from portfolio.assessment.countersigning import assessor_authority
from portfolio.assessment.criterion_states import current_decisions
from portfolio.assessment.errors import AssessmentError, DecisionConflict
from portfolio.assessment.events import decision_recorded, item_feedback_given
from portfolio.assessment.models import OUTCOMES, Decision, ItemFeedback
from portfolio.assessment.progress import signed_off_unit_ids
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


NOTHING_RECORDED = ("Nothing was recorded: choose Met or Not yet met for a criterion, write "
                    "feedback on the whole item, or map it to further criteria.")


class JudgementsRefused(AssessmentError):
    """Judgements of a batch that cannot be recorded, each with its reason, by criterion; nothing
    of the batch is recorded."""

    def __init__(self, problems: dict[int, str]):
        self.problems = problems
        super().__init__(" ".join(problems.values()))


def record_decisions(session: Session, item: EvidenceItem, assessor: User,
                     judgements: Iterable[Judgement], map_criteria: Iterable[int] = (),
                     item_feedback: str = "") -> list[Decision]:
    """Map further criteria to the item, record decisions on its claims and the feedback on the
    item as a whole.

    Every judgement is checked before any is recorded: :class:`JudgementsRefused` names each one
    that cannot be, so the assessor can correct them all at once. An assessor past the time
    their qualification allows to qualify is refused; one still working towards it records
    decisions that need countersignature where it asks for it (:mod:`.countersigning`). Raises
    :class:`DecisionConflict` when a criterion's current decision is no longer the one the
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
    claimed_before = {c.criterion_id for c in item.claims}
    claimed = evidence.map_criteria(session, item, assessor, map_criteria)
    judgements = list(judgements)
    item_feedback = item_feedback.strip()
    if not judgements and not item_feedback and claimed == claimed_before:
        raise AssessmentError(NOTHING_RECORDED)
    # Feedback and mapping are no decisions: only judging needs the authority to decide.
    provisional = assessor_authority(session, assessor, enrolment) if judgements else False

    locked = signed_off_unit_ids(session, enrolment.id)
    current = {d.criterion_id: d for d in session.scalars(
        current_decisions([enrolment.id]).where(
            Decision.criterion_id.in_([j.criterion_id for j in judgements])))}
    problems: dict[int, str] = {}
    recorded = []
    for judgement in judgements:
        previous = current.get(judgement.criterion_id)
        # Someone else's decision since the page was drawn outranks any other refusal: what
        # the assessor saw is no longer so.
        if (previous.id if previous else None) != judgement.expected_current_id:
            raise DecisionConflict(
                f"{tree.label(judgement.criterion_id)} was decided by someone else since you "
                f"opened this page. Nothing was saved: reload to see their decision.")
        problem = _problem(tree, judgement, previous, item, claimed, locked)
        if problem:
            problems[judgement.criterion_id] = problem
            continue
        reason = judgement.reason.strip()
        if previous is not None and not reason:
            reason = f"Judged further evidence: {item.title}"
        decision = Decision(
            enrolment_id=enrolment.id, criterion_id=judgement.criterion_id,
            unit_id=tree.unit_of_criterion[judgement.criterion_id].id, item_id=item.id,
            assessor_id=assessor.id, outcome=judgement.outcome,
            feedback=judgement.feedback.strip(), file_hashes=file_hashes,
            supersedes_id=previous.id if previous else None, reason=reason,
            needs_countersignature=provisional)
        recorded.append(decision)
    if problems:
        raise JudgementsRefused(problems)
    session.add_all(recorded)
    if item_feedback:
        _give_item_feedback(session, item, assessor, item_feedback)
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


def _problem(tree, judgement: Judgement, previous: Decision | None, item: EvidenceItem,
             claimed: set[int], locked: set[int]) -> str | None:
    """Why a judgement cannot be recorded, or None."""
    unit = tree.unit_of_criterion.get(judgement.criterion_id)
    if unit is None:
        return ("A criterion that is not part of this learner's qualification is not claimed by "
                "this evidence.")
    code = tree.label(judgement.criterion_id)
    if judgement.criterion_id not in claimed:
        return f"{code} is not claimed by this evidence: map it to the evidence first."
    if judgement.outcome not in OUTCOMES:
        return f"Choose met or not yet met for {code}."
    if judgement.outcome == "not_yet_met" and not judgement.feedback.strip():
        return f"Give the learner feedback they can act on for {code}."
    if unit.id in locked:
        return (f"Unit {unit.number} is signed off: its decisions cannot be superseded until a "
                f"centre admin unlocks it.")
    if (previous is not None and not judgement.reason.strip()
            and (previous.item_id == item.id or previous.outcome == "met")):
        return f"Give a reason for replacing the decision on {code}."
    return None


def _give_item_feedback(session: Session, item: EvidenceItem, assessor: User, text: str
                        ) -> ItemFeedback:
    feedback = ItemFeedback(enrolment_id=item.enrolment_id, item_id=item.id,
                            assessor_id=assessor.id, text=text)
    session.add(feedback)
    session.flush()
    item_feedback_given.emit(session, actor=assessor, centre_id=item.enrolment.centre_id,
                             learner_id=item.enrolment.learner_id, subject=feedback,
                             item_id=item.id, title=item.title)
    return feedback
