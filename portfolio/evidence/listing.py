"""The learner's evidence list: searched by title and criterion code, filtered by status and
unit, paged. Each item's status is the SQL expression assessment answers on
:data:`portfolio.evidence.hooks.item_status`, so the filter, the count and the cards agree, and a
page takes the same few queries whatever the size of the portfolio."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from portfolio.accounts.models import Enrolment
from portfolio.catalogue.models import Criterion, Unit
from portfolio.evidence.hooks import item_status
from portfolio.evidence.models import CriterionClaim, EvidenceItem

PAGE_SIZE = 50

#: An item's state, as the learner reads it on its card.
ITEM_STATUSES = {
    "awaiting": "Awaiting a decision",
    "feedback": "Feedback to act on",
    "partly_met": "Partly met",
    "met": "Met",
    "withdrawn": "Withdrawn",
}

#: A search term like "301", "2.3" or "301.2.3" is a unit number or criterion code.
_CODE = re.compile(r"^[0-9]+(\.[0-9]+)*$")


@dataclass(frozen=True)
class ListQuery:
    search: str = ""
    status: str = ""
    unit_id: int | None = None
    include_withdrawn: bool = False
    page: int = 1


@dataclass(frozen=True)
class ListedItem:
    item: EvidenceItem
    status: str

    @property
    def status_label(self) -> str:
        return ITEM_STATUSES[self.status]


@dataclass(frozen=True)
class EvidencePage:
    items: list[ListedItem]
    total: int
    page: int
    pages: int


def status_expression() -> sa.ColumnElement[str]:
    judged = next(iter(item_status()), sa.literal("awaiting"))
    return sa.case((EvidenceItem.withdrawn_at.is_not(None), "withdrawn"), else_=judged)


def _matches_search(search: str) -> sa.ColumnElement[bool]:
    """Every word in the title; code terms ("301 2.3") together on one claimed criterion, or in
    the title."""
    terms = search.lower().split()
    codes = [t for t in terms if _CODE.match(t)]
    words = [t for t in terms if not _CODE.match(t)]

    def in_title(term: str) -> sa.ColumnElement[bool]:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return EvidenceItem.title.ilike(f"%{escaped}%", escape="\\")

    condition = sa.and_(sa.true(), *(in_title(w) for w in words))
    if codes:
        claimed = sa.exists().where(
            CriterionClaim.item_id == EvidenceItem.id, Criterion.id == CriterionClaim.criterion_id,
            Unit.id == Criterion.unit_id,
            *(sa.or_(Criterion.code == t, Unit.number == t, Unit.number + "." + Criterion.code == t)
              for t in codes))
        condition = sa.and_(condition, sa.or_(claimed, sa.and_(*(in_title(t) for t in codes))))
    return condition


def _claims_unit(unit_id: int) -> sa.Exists:
    return sa.exists().where(CriterionClaim.item_id == EvidenceItem.id,
                             Criterion.id == CriterionClaim.criterion_id,
                             Criterion.unit_id == unit_id)


def evidence_page(session: Session, enrolment: Enrolment, query: ListQuery) -> EvidencePage:
    """One page of the enrolment's items matching ``query``, newest evidence first, with their
    files and claimed criteria: four queries (count, page, files, claims) on any portfolio."""
    status = status_expression()
    conditions = [EvidenceItem.enrolment_id == enrolment.id]
    if not query.include_withdrawn:
        conditions.append(EvidenceItem.withdrawn_at.is_(None))
    if query.search.strip():
        conditions.append(_matches_search(query.search))
    if query.status in ITEM_STATUSES:
        conditions.append(status == query.status)
    if query.unit_id is not None:
        conditions.append(_claims_unit(query.unit_id))

    total = session.scalar(sa.select(sa.func.count()).select_from(EvidenceItem)
                           .where(*conditions))
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, query.page), pages)
    rows = session.execute(
        sa.select(EvidenceItem, status.label("status")).where(*conditions)
        .options(selectinload(EvidenceItem.files),
                 selectinload(EvidenceItem.claims).joinedload(CriterionClaim.criterion)
                 .joinedload(Criterion.unit))
        .order_by(EvidenceItem.evidence_date.desc(), EvidenceItem.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    return EvidencePage([ListedItem(item, item_state) for item, item_state in rows],
                        total, page, pages)
