"""The learner's evidence list: searched by title and criterion code, filtered by status and
unit, paged. Each item's status is the subquery assessment answers on
:data:`portfolio.evidence.hooks.item_statuses`, so the filter, the count and the cards agree, and
a page takes the same few queries whatever the size of the portfolio."""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from portfolio.accounts.models import Enrolment
from portfolio.catalogue.models import Criterion, Unit
from portfolio.catalogue.tree import version_tree
from portfolio.core.db import one_of, plain_rows
from portfolio.evidence.hooks import item_statuses
from portfolio.evidence.models import CriterionClaim, EvidenceFile, EvidenceItem

PAGE_SIZE = 50

#: An item's state, as the learner reads it on its card.
ITEM_STATUSES = {
    "awaiting": "Awaiting a decision",
    "feedback": "Feedback to act on",
    "partly_met": "Partly met",
    "awaiting_countersignature": "Met, awaiting countersignature",
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
class ListedFile:
    """What a card shows of a file: its name's extension, or its thumbnail."""

    id: int
    original_name: str
    has_thumbnail: bool

    @property
    def extension(self) -> str:
        return self.original_name.rsplit(".", 1)[-1][:4]


@dataclass(frozen=True)
class ListedItem:
    item: EvidenceItem
    status: str
    files: list[ListedFile]
    #: The criteria claimed, as "301 · 2.3".
    claims: list[str]

    @property
    def thumbnail(self) -> ListedFile | None:
        return next((f for f in self.files if f.has_thumbnail), None)

    @property
    def status_label(self) -> str:
        return ITEM_STATUSES[self.status]


@dataclass(frozen=True)
class EvidencePage:
    items: list[ListedItem]
    total: int
    page: int
    pages: int


def _statuses(enrolment_id: int | sa.BindParameter, item_ids=None
              ) -> tuple[sa.FromClause | None, sa.ColumnElement[str]]:
    """The subquery of judged statuses to join (none when no feature answers) and the status
    of a joined item: withdrawn, else as judged."""
    judged = next(iter(item_statuses(enrolment_id, item_ids)), None)
    as_judged = sa.literal("awaiting") if judged is None else sa.func.coalesce(
        judged.c.status, "awaiting")
    return judged, sa.case((EvidenceItem.withdrawn_at.is_not(None), "withdrawn"),
                           else_=as_judged)


def _with_statuses(query: sa.Select, judged: sa.FromClause | None) -> sa.Select:
    return query if judged is None else query.outerjoin(
        judged, judged.c.item_id == EvidenceItem.id)


def _claiming(enrolment_id: int, *criterion_conditions: sa.ColumnElement[bool]
              ) -> sa.ColumnElement[bool]:
    """The item claims a criterion meeting every condition (on ``Criterion`` and its ``Unit``).
    Only this enrolment's claims are read, not every learner's of those criteria."""
    claimant = aliased(EvidenceItem)
    return EvidenceItem.id.in_(
        sa.select(CriterionClaim.item_id)
        .join(claimant, claimant.id == CriterionClaim.item_id)
        .join(Criterion, Criterion.id == CriterionClaim.criterion_id)
        .join(Unit, Unit.id == Criterion.unit_id)
        .where(claimant.enrolment_id == enrolment_id, *criterion_conditions))


def _matches_search(enrolment_id: int, search: str) -> sa.ColumnElement[bool]:
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
        claimed = _claiming(enrolment_id, *(
            sa.or_(Criterion.code == t, Unit.number == t, Unit.number + "." + Criterion.code == t)
            for t in codes))
        condition = sa.and_(condition, sa.or_(claimed, sa.and_(*(in_title(t) for t in codes))))
    return condition


_ENROLMENT = sa.bindparam("enrolment_id")
_ITEM_IDS = sa.bindparam("item_ids", expanding=True)
_NEWEST_FIRST = (EvidenceItem.evidence_date.desc(), EvidenceItem.id.desc())
#: A page's files and claimed criteria as plain rows, the criteria named from the version's
#: cached tree: a page of cards would otherwise load a few hundred objects to print a few words
#: of each. Built once, like the statements below: building and keying them on every request
#: cost more CPU than the database's answers.
_FILES = (sa.select(EvidenceFile.item_id, EvidenceFile.id, EvidenceFile.original_name,
                    EvidenceFile.thumbnail_key.is_not(None))
          .where(one_of(EvidenceFile.item_id, "item_ids")).order_by(EvidenceFile.id))
_CLAIMS = (sa.select(CriterionClaim.item_id, CriterionClaim.criterion_id)
           .where(CriterionClaim.enrolment_id == _ENROLMENT, one_of(CriterionClaim.item_id, "item_ids"))
           .order_by(CriterionClaim.criterion_id))


@functools.cache
def _page_items() -> sa.Select:
    """The page's items with their statuses. Built on first use, once the features answering
    :data:`item_statuses` have registered."""
    judged, status = _statuses(_ENROLMENT, _ITEM_IDS)
    return (_with_statuses(sa.select(EvidenceItem, status.label("status")), judged)
            .where(EvidenceItem.id.in_(_ITEM_IDS)).order_by(*_NEWEST_FIRST))


@functools.cache
def _unfiltered(include_withdrawn: bool) -> tuple[sa.Select, sa.Select]:
    """The count and a page of ids of the list as it first opens, with or without withdrawn
    items."""
    matching = sa.select(EvidenceItem.id).where(EvidenceItem.enrolment_id == _ENROLMENT)
    if not include_withdrawn:
        matching = matching.where(EvidenceItem.withdrawn_at.is_(None))
    return (matching.with_only_columns(sa.func.count()),
            matching.order_by(*_NEWEST_FIRST).limit(sa.bindparam("limit"))
            .offset(sa.bindparam("offset")))


def _matching(enrolment_id: int, query: ListQuery) -> tuple[sa.Select, sa.Select]:
    """The count and a page of ids of the items matching ``query``."""
    if not (query.search.strip() or query.unit_id is not None or query.status in ITEM_STATUSES):
        return _unfiltered(query.include_withdrawn)
    matching = sa.select(EvidenceItem.id).where(EvidenceItem.enrolment_id == _ENROLMENT)
    if not query.include_withdrawn:
        matching = matching.where(EvidenceItem.withdrawn_at.is_(None))
    if query.search.strip():
        matching = matching.where(_matches_search(enrolment_id, query.search))
    if query.unit_id is not None:
        matching = matching.where(_claiming(enrolment_id, Criterion.unit_id == query.unit_id))
    if query.status in ITEM_STATUSES:
        judged, status = _statuses(enrolment_id)
        matching = _with_statuses(matching, judged).where(status == query.status)
    return (matching.with_only_columns(sa.func.count(), maintain_column_froms=True),
            matching.order_by(*_NEWEST_FIRST).limit(sa.bindparam("limit"))
            .offset(sa.bindparam("offset")))


def evidence_page(session: Session, enrolment: Enrolment, query: ListQuery) -> EvidencePage:
    """One page of the enrolment's items matching ``query``, newest evidence first, with their
    files and claimed criteria: five queries (count, ids, items, files, claims) on any portfolio.
    The statuses shown are judged for the page's items only; a status filter judges them all."""
    counting, paging = _matching(enrolment.id, query)
    total = session.scalar(counting, {"enrolment_id": enrolment.id})
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, query.page), pages)
    # The page's ids first, as plain values: the statuses are then judged for those items only,
    # and the query planner sees small, cheap statements.
    page_ids = list(session.scalars(paging, {"enrolment_id": enrolment.id, "limit": PAGE_SIZE,
                                             "offset": (page - 1) * PAGE_SIZE}))
    on_page = {"enrolment_id": enrolment.id, "item_ids": page_ids}
    rows = session.execute(_page_items(), on_page)
    files: dict[int, list[ListedFile]] = defaultdict(list)
    for item_id, *listed in plain_rows(session, _FILES, on_page):
        files[item_id].append(ListedFile(*listed))
    tree = version_tree(session, enrolment.version_id)
    claims: dict[int, list[str]] = defaultdict(list)
    for item_id, criterion_id in plain_rows(session, _CLAIMS, on_page):
        claims[item_id].append(tree.short_label(criterion_id))
    return EvidencePage([ListedItem(item, item_state, files[item.id], claims[item.id])
                         for item, item_state in rows], total, page, pages)
