"""What the evidence pages ask of assessment: each item's state of judgement (for the learner's
list, as a SQL expression so that the list can filter and page on it) and which criteria are
already met or awaiting a decision (for the criteria picker). Both come from the decisions, the
same records progress is derived from."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from portfolio.accounts.models import Enrolment
from portfolio.assessment.models import Decision
from portfolio.assessment.progress import _pending_claims, current_decisions
from portfolio.evidence.hooks import criterion_statuses, item_status
from portfolio.evidence.models import CriterionClaim, EvidenceItem


def _undecided_claim() -> sa.Exists:
    """A claim of the item with no decision recorded on it for this item."""
    claim, decision = aliased(CriterionClaim), aliased(Decision)
    return sa.exists().where(
        claim.item_id == EvidenceItem.id,
        ~sa.exists().where(decision.enrolment_id == EvidenceItem.enrolment_id,
                           decision.item_id == EvidenceItem.id,
                           decision.criterion_id == claim.criterion_id))


def _standing_outcome(outcome: str) -> sa.Exists:
    """A criterion whose latest decision on this item has ``outcome``."""
    decision, later = aliased(Decision), aliased(Decision)
    return sa.exists().where(
        decision.enrolment_id == EvidenceItem.enrolment_id, decision.item_id == EvidenceItem.id,
        decision.outcome == outcome,
        ~sa.exists().where(later.enrolment_id == decision.enrolment_id,
                           later.item_id == decision.item_id,
                           later.criterion_id == decision.criterion_id, later.id > decision.id))


@item_status.register
def item_status_expression() -> sa.ColumnElement[str]:
    """Awaiting while any claim has no decision; then met when no criterion stands not yet met,
    partly met when some are met and some not, and otherwise feedback to act on."""
    return sa.case((_undecided_claim(), "awaiting"),
                   (~_standing_outcome("not_yet_met"), "met"),
                   (_standing_outcome("met"), "partly_met"),
                   else_="feedback")


@criterion_statuses.register
def met_or_awaiting(session: Session, enrolment: Enrolment) -> dict[int, str]:
    """Met by the current decision, else awaiting while a live claim has no decision."""
    awaiting = _pending_claims([enrolment.id]).subquery()
    found = {criterion_id: "awaiting"
             for criterion_id in session.scalars(sa.select(awaiting.c.criterion_id).distinct())}
    current = current_decisions([enrolment.id]).subquery()
    found.update((criterion_id, "met") for criterion_id in session.scalars(
        sa.select(current.c.criterion_id).where(current.c.outcome == "met")))
    return found
