"""Read queries behind the criterion history, the judge page and the evidence pages."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portfolio.accounts.models import User
from portfolio.assessment.models import Decision, ItemFeedback
from portfolio.evidence.hooks import item_decisions
from portfolio.evidence.models import CriterionClaim, EvidenceItem


def history(session: Session, enrolment_id: int, criterion_id: int) -> list[Decision]:
    """Every decision on a criterion, newest first, with the item each judged."""
    return list(session.scalars(
        sa.select(Decision).where(Decision.enrolment_id == enrolment_id,
                                  Decision.criterion_id == criterion_id)
        .options(joinedload(Decision.item), joinedload(Decision.assessor))
        .order_by(Decision.decided_at.desc(), Decision.id.desc())))


def items_claiming(session: Session, enrolment_id: int, criterion_id: int) -> list[EvidenceItem]:
    return list(session.scalars(
        sa.select(EvidenceItem).join(CriterionClaim, CriterionClaim.item_id == EvidenceItem.id)
        .where(EvidenceItem.enrolment_id == enrolment_id,
               CriterionClaim.criterion_id == criterion_id)
        .order_by(EvidenceItem.created_at)))


@item_decisions.register
def decisions_on_item(session: Session, item: EvidenceItem) -> dict[int, list[Decision]]:
    """Every decision on the item's claims, by criterion, oldest first."""
    result: dict[int, list[Decision]] = defaultdict(list)
    for decision in session.scalars(sa.select(Decision).where(Decision.item_id == item.id)
                                    .order_by(Decision.id)):
        result[decision.criterion_id].append(decision)
    return result


def feedback_on_item(session: Session, item_id: int) -> list[ItemFeedback]:
    """The assessors' feedback on an item as a whole, oldest first."""
    return list(session.scalars(
        sa.select(ItemFeedback).where(ItemFeedback.item_id == item_id)
        .options(joinedload(ItemFeedback.assessor)).order_by(ItemFeedback.id)))


def names_of(session: Session, user_ids: set[int]) -> dict[int, str]:
    """People's names by id, as they are now."""
    if not user_ids:
        return {}
    return {user_id: name for user_id, name in session.execute(
        sa.select(User.id, User.name).where(User.id.in_(user_ids)))}
