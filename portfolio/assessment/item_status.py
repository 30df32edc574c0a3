"""What the evidence pages ask of assessment: each item's state of judgement (for the learner's
list, as a subquery so that the list can filter and page on it) and which criteria are already
met or awaiting a decision (for the criteria picker). Both come from the decisions, the same
records progress is derived from."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from portfolio.accounts.models import Enrolment
from portfolio.assessment.criterion_states import (
    awaiting_countersignature,
    current_decisions,
    pending_claims,
)
from portfolio.assessment.models import Decision
from portfolio.evidence.hooks import criterion_statuses, item_statuses
from portfolio.evidence.models import CriterionClaim, EvidenceItem


@item_statuses.register
def judged_statuses(enrolment_id: int | sa.BindParameter,
                    item_ids: list[int] | sa.BindParameter | None = None) -> sa.Subquery:
    """Per item of the enrolment, from the latest decision on it for each criterion it claims:
    awaiting while any claim has none; then awaiting countersignature while a met decision needs
    it; then met when none stands not yet met, partly met when
    some are met and some not, and otherwise feedback to act on. Every part is limited to the
    enrolment, so it reads one portfolio's rows (through the enrolment's indexes), not every
    learner's; and to ``item_ids`` when given (a page of the list)."""
    later = aliased(Decision)
    # A met decision awaiting countersignature does not count as met yet.
    outcome = sa.case((sa.and_(Decision.outcome == "met", awaiting_countersignature(Decision)),
                       "provisional"), else_=Decision.outcome).label("outcome")
    latest = (sa.select(Decision.item_id, Decision.criterion_id, outcome)
              .where(Decision.enrolment_id == enrolment_id,
                     ~sa.exists().where(later.enrolment_id == Decision.enrolment_id,
                                        later.item_id == Decision.item_id,
                                        later.criterion_id == Decision.criterion_id,
                                        later.id > Decision.id)))

    claims = (sa.select(CriterionClaim.item_id, CriterionClaim.criterion_id)
              .join(EvidenceItem, EvidenceItem.id == CriterionClaim.item_id)
              .where(EvidenceItem.enrolment_id == enrolment_id))
    if item_ids is not None:
        latest = latest.where(Decision.item_id.in_(item_ids))
        claims = claims.where(CriterionClaim.item_id.in_(item_ids))
    latest, claims = latest.subquery("latest"), claims.subquery("claims")

    def decided(outcome: str) -> sa.ColumnElement[int]:
        return sa.func.sum(sa.case((latest.c.outcome == outcome, 1), else_=0))

    status = sa.case((sa.func.count(latest.c.item_id) < sa.func.count(), "awaiting"),
                     (decided("provisional") > 0, "awaiting_countersignature"),
                     (decided("not_yet_met") == 0, "met"),
                     (decided("met") > 0, "partly_met"),
                     else_="feedback")
    return (sa.select(claims.c.item_id, status.label("status"))
            .select_from(claims.outerjoin(latest, sa.and_(
                latest.c.item_id == claims.c.item_id,
                latest.c.criterion_id == claims.c.criterion_id)))
            .group_by(claims.c.item_id)
            .subquery("judged"))


@criterion_statuses.register
def met_or_awaiting(session: Session, enrolment: Enrolment) -> dict[int, str]:
    """Met by the current decision (countersigned where it must be), else awaiting while a live
    claim has no decision or the met decision awaits countersignature."""
    awaiting = pending_claims([enrolment.id]).subquery()
    found = {criterion_id: "awaiting"
             for criterion_id in session.scalars(sa.select(awaiting.c.criterion_id).distinct())}
    current = (current_decisions([enrolment.id])
               .add_columns(awaiting_countersignature(Decision).label("provisional")).subquery())
    for criterion_id, provisional in session.execute(
            sa.select(current.c.criterion_id, current.c.provisional)
            .where(current.c.outcome == "met")):
        found[criterion_id] = "awaiting" if provisional else "met"
    return found
