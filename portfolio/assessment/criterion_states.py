"""Each criterion's status in a portfolio: from its current decision (the one no later decision
supersedes) and the claims on it, met, claimed and awaiting judgement, not yet met or not started.

Reading them is most of the work of the progress page, the grid and the judge page: hundreds of
current decisions and thousands of claims. So each process keeps a portfolio's statuses while its
records stay as they were, keyed by a fingerprint read from those records each time (how many
decisions, countersignatures, claims and items there are, the latest of each, how many items are
withdrawn): no writer has to remember to forget them, and a change made by another process shows
at once. A transaction that has written reads afresh and keeps nothing, since it may yet roll
back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from portfolio.accounts.models import Enrolment
from portfolio.assessment.models import OUTCOMES, Countersignature, Decision, UnitSignOff
from portfolio.core.db import one_of, plain_rows
from portfolio.core.memo import read_through
from portfolio.evidence.models import CriterionClaim, EvidenceItem

STATUS_LABELS = {
    "not_started": "Not started",
    "claimed": "Claimed, awaiting judgement",
    "met": "Met",
    "awaiting_countersignature": "Met, awaiting countersignature",
    "not_yet_met": "Not yet met",
}


def not_superseded() -> sa.ColumnElement[bool]:
    """No later decision supersedes the decision. A later decision is on the same enrolment:
    saying so lets the database take both sides from the enrolment's index, where it would
    otherwise walk every decision of every learner to find the few that supersede these."""
    later = aliased(Decision)
    return ~sa.exists().where(later.supersedes_id == Decision.id,
                              later.enrolment_id == Decision.enrolment_id)


def awaiting_countersignature(record: type[Decision] | type[UnitSignOff]
                              ) -> sa.ColumnElement[bool]:
    """A decision or sign-off made where it must be countersigned and not yet countersigned: it
    does not count until it is. The one definition progress, the caseload and the evidence
    pages' statuses read."""
    signed = (Countersignature.decision_id if record is Decision
              else Countersignature.sign_off_id)
    return sa.and_(record.needs_countersignature, ~sa.exists().where(signed == record.id))


def current_decisions(enrolment_ids: Sequence[int]) -> sa.Select:
    """Decisions no later decision supersedes."""
    return sa.select(Decision).where(Decision.enrolment_id.in_(enrolment_ids), not_superseded())


def pending_claims(enrolment_ids: Sequence[int]) -> sa.Select:
    """Claims of live items on which no decision has been recorded for that item."""
    return (sa.select(EvidenceItem.enrolment_id, CriterionClaim.criterion_id,
                      EvidenceItem.id.label("item_id"), EvidenceItem.created_at)
            .join(CriterionClaim, CriterionClaim.item_id == EvidenceItem.id)
            .where(EvidenceItem.enrolment_id.in_(enrolment_ids),
                   EvidenceItem.withdrawn_at.is_(None),
                   # The enrolment lets the probe use the (enrolment_id, item_id) index.
                   ~sa.exists().where(Decision.enrolment_id == EvidenceItem.enrolment_id,
                                      Decision.item_id == EvidenceItem.id,
                                      Decision.criterion_id == CriterionClaim.criterion_id)))


@dataclass(frozen=True)
class CurrentDecision:
    """What the pages need of a criterion's current decision, as plain values."""

    id: int
    outcome: str
    decided_at: dt.datetime
    assessor_id: int
    #: Made where it must be countersigned and not yet countersigned: it does not count yet.
    awaiting_countersignature: bool = False

    @property
    def outcome_label(self) -> str:
        return OUTCOMES[self.outcome]


@dataclass(frozen=True)
class CriterionState:
    """A criterion of a portfolio: its status, its current decision, how many live items claim
    it and how many of those claims wait for a decision."""

    status: str = "not_started"
    decision: CurrentDecision | None = None
    claims: int = 0
    pending: int = 0

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @classmethod
    def of(cls, decision: CurrentDecision | None, claims: int, pending: int) -> CriterionState:
        if decision is not None and decision.outcome == "met":
            status = "awaiting_countersignature" if decision.awaiting_countersignature else "met"
        elif pending:
            status = "claimed"
        elif decision is not None:
            status = "not_yet_met"
        else:
            status = "claimed" if claims else "not_started"
        return cls(status, decision, claims, pending)


#: A criterion nothing has touched.
NOT_STARTED = CriterionState()

#: How many portfolios' statuses each process keeps per database.
PORTFOLIOS_KEPT = 256


def criterion_states(session: Session, enrolment_ids: Sequence[int]
                     ) -> dict[int, dict[int, CriterionState]]:
    """Per enrolment, the state of each criterion something has touched (others are
    :data:`NOT_STARTED`), in a fixed number of queries."""
    return read_through(session, "criterion states", PORTFOLIOS_KEPT, enrolment_ids,
                        lambda ids: _fingerprints(session, ids), lambda ids: _read(session, ids))


def _fingerprint_statement() -> sa.Select:
    """What changes whenever a portfolio's statuses may: decisions and their countersignatures
    are only ever added; claims are added and removed (a new one is the latest made, whatever id
    it reuses); items are added and withdrawn. One pass over each table's rows of these
    portfolios, by index."""
    def summary(model, *columns: sa.ColumnElement) -> sa.Subquery:
        return (sa.select(model.enrolment_id, sa.func.count().label("rows"), *columns)
                .where(one_of(model.enrolment_id, "enrolment_ids"))
                .group_by(model.enrolment_id).subquery())

    decisions = summary(Decision, sa.func.max(Decision.id))
    countersignatures = summary(Countersignature, sa.func.max(Countersignature.id))
    claims = summary(CriterionClaim, sa.func.max(CriterionClaim.id),
                     sa.func.max(CriterionClaim.created_at))
    items = summary(EvidenceItem, sa.func.max(EvidenceItem.id),
                    sa.func.count(EvidenceItem.withdrawn_at))
    tables = (decisions, countersignatures, claims, items)
    statement = sa.select(Enrolment.id, *[column for table in tables
                                          for column in list(table.c)[1:]])
    for table in tables:
        statement = statement.outerjoin(table, table.c.enrolment_id == Enrolment.id)
    return statement.where(one_of(Enrolment.id, "enrolment_ids"))


#: Built once, its ids a parameter: building and keying this statement on every request cost
#: several times the database's answer.
_FINGERPRINTS = _fingerprint_statement()


def _fingerprints(session: Session, enrolment_ids: Sequence[int]) -> dict[int, tuple]:
    return {enrolment_id: tuple(rest) for enrolment_id, *rest in plain_rows(
        session, _FINGERPRINTS, {"enrolment_ids": list(enrolment_ids)})}


def _read(session: Session, enrolment_ids: Sequence[int]) -> dict[int, dict[int, CriterionState]]:
    decisions: dict[int, dict[int, CurrentDecision]] = {e: {} for e in enrolment_ids}
    for enrolment_id, criterion_id, *decision in plain_rows(session, sa.select(
            Decision.enrolment_id, Decision.criterion_id, Decision.id, Decision.outcome,
            Decision.decided_at, Decision.assessor_id, awaiting_countersignature(Decision))
            .where(Decision.enrolment_id.in_(enrolment_ids), not_superseded())):
        decisions[enrolment_id][criterion_id] = CurrentDecision(*decision)
    counts: dict[int, dict[int, tuple[int, int]]] = {e: {} for e in enrolment_ids}
    for enrolment_id, criterion_id, claimed, decided in plain_rows(
            session, _claim_counts(enrolment_ids)):
        counts[enrolment_id][criterion_id] = (claimed, claimed - decided)
    return {e: {criterion_id: CriterionState.of(decisions[e].get(criterion_id),
                                                *counts[e].get(criterion_id, (0, 0)))
                for criterion_id in decisions[e].keys() | counts[e].keys()}
            for e in enrolment_ids}


def _claim_counts(enrolment_ids: Sequence[int]) -> sa.Select:
    """Per enrolment and criterion, the claims of live items and how many of them have a
    decision on their item (the rest are :func:`pending_claims`), in one pass over the
    portfolio's claims by index."""
    decided = (sa.select(Decision.item_id, Decision.criterion_id)
               .where(Decision.enrolment_id.in_(enrolment_ids)).distinct().subquery())
    return (sa.select(CriterionClaim.enrolment_id, CriterionClaim.criterion_id, sa.func.count(),
                      sa.func.count(decided.c.item_id))
            .join(EvidenceItem, sa.and_(EvidenceItem.id == CriterionClaim.item_id,
                                        EvidenceItem.enrolment_id == CriterionClaim.enrolment_id))
            .outerjoin(decided, sa.and_(decided.c.item_id == CriterionClaim.item_id,
                                        decided.c.criterion_id == CriterionClaim.criterion_id))
            .where(CriterionClaim.enrolment_id.in_(enrolment_ids),
                   EvidenceItem.withdrawn_at.is_(None))
            .group_by(CriterionClaim.enrolment_id, CriterionClaim.criterion_id))
