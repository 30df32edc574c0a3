"""The assessor's way through their queue: after judging one item, the next one awaiting a
decision, the same learner's first, then the next learner's in the caseload's order (the
learner whose evidence has waited longest comes first there)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import Enrolment, User
from portfolio.evidence.models import EvidenceItem


def next_awaiting_item(session: Session, assessor: User, after: EvidenceItem
                       ) -> EvidenceItem | None:
    """The oldest item awaiting a decision of ``after``'s learner, else the oldest awaiting in
    the rest of the assessor's open caseload; ``after`` itself is never the answer."""
    waiting = (sa.select(EvidenceItem)
               .join(Enrolment, Enrolment.id == EvidenceItem.enrolment_id)
               .where(Enrolment.assessor_id == assessor.id, Enrolment.ended_at.is_(None),
                      EvidenceItem.awaiting_decision_since.is_not(None),
                      EvidenceItem.withdrawn_at.is_(None), EvidenceItem.id != after.id)
               .order_by(sa.case((EvidenceItem.enrolment_id == after.enrolment_id, 0), else_=1),
                         EvidenceItem.awaiting_decision_since, EvidenceItem.id)
               .limit(1))
    return session.scalars(waiting).first()
