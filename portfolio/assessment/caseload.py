"""The assessor's caseload: per learner, what is met, what counts, what waits for a decision and
since when, in a fixed number of queries whatever the number of learners; and the queue each
evidence item holds a place in (``awaiting_decision_since``), kept up to date by decisions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from portfolio.accounts.hooks import completion_checks
from portfolio.accounts.models import Enrolment
from portfolio.assessment.criterion_states import awaiting_countersignature, not_superseded
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.models import Countersignature, Decision, UnitSignOff, UnitUnlock
from portfolio.assessment.pathway import current_pathways
from portfolio.assessment.progress import evaluation_of
from portfolio.catalogue.tree import VersionTree, version_tree
from portfolio.core.db import UTCDateTime, one_of, plain_rows, utcnow
from portfolio.core.memo import Memo, read_through
from portfolio.evidence.models import CriterionClaim, EvidenceItem

#: How many portfolios' counts each process keeps per database.
MET_COUNTS_KEPT = 4096


@dataclass(frozen=True)
class CaseloadRow:
    """One learner of an assessor's caseload."""

    enrolment: Enrolment
    criteria_met: int
    criteria_total: int
    credits: int
    credits_required: int
    awaiting: int
    oldest_awaiting: dt.datetime | None
    first_awaiting_item_id: int | None
    units_ready: int
    last_activity: dt.datetime | None
    #: Whether the percentages count the learner's chosen units (else every unit).
    has_pathway: bool = False

    @property
    def percent_met(self) -> int:
        return round(100 * self.criteria_met / self.criteria_total) if self.criteria_total else 0


def open_enrolments(session: Session, assessor_id: int) -> list[Enrolment]:
    """The assessor's learners still enrolled, with their names and versions."""
    return list(session.scalars(_OPEN_ENROLMENTS, {"assessor_id": assessor_id}))


def caseload(session: Session, enrolments: Sequence[Enrolment]) -> list[CaseloadRow]:
    """The caseload's figures from grouped counts (no decision is loaded as an object), in a fixed
    number of queries whatever the number of learners."""
    ids = [e.id for e in enrolments]
    if not ids:
        return []
    met = _met_by_unit(session, ids)
    # Signed off units are locked; only countersigned ones (where it is needed) are achieved.
    achieved: dict[int, set[int]] = defaultdict(set)
    signed: dict[int, set[int]] = defaultdict(set)
    for enrolment_id, unit_id, awaiting in plain_rows(session, _SIGNED_UNITS,
                                                      {"enrolment_ids": ids}):
        signed[enrolment_id].add(unit_id)
        if not awaiting:
            achieved[enrolment_id].add(unit_id)
    awaiting = _awaiting_summary(session, ids)
    activity = last_activity(session, ids)
    pathways = current_pathways(session, ids)

    trees = {version_id: version_tree(session, version_id)
             for version_id in {e.version_id for e in enrolments}}
    rows = []
    for enrolment in enrolments:
        enrolment_id = enrolment.id
        tree = trees[enrolment.version_id]
        pathway = pathways.get(enrolment_id)
        figures = _figures_of(tree, met[enrolment_id], achieved[enrolment_id],
                              signed[enrolment_id],
                              None if pathway is None else frozenset(pathway.units))
        count, oldest, first_item = awaiting.get(enrolment_id, (0, None, None))
        rows.append(CaseloadRow(
            enrolment=enrolment, criteria_met=figures.criteria_met,
            criteria_total=figures.criteria_total,
            credits=figures.credits, credits_required=tree.structure.rules.min_credits,
            awaiting=count, oldest_awaiting=oldest, first_awaiting_item_id=first_item,
            units_ready=figures.units_ready, last_activity=activity.get(enrolment_id),
            has_pathway=pathway is not None))
    return rows


@dataclass(frozen=True)
class _Figures:
    """What a learner's units add up to."""

    criteria_met: int
    criteria_total: int
    units_ready: int
    credits: int


#: Figures already added up, by what they are added up from: the sums run over every unit of
#: every learner, and most learners' units change seldom.
_figures: Memo[_Figures] = Memo(size=MET_COUNTS_KEPT)


def _figures_of(tree: VersionTree, met: dict[int, int], achieved: set[int], signed: set[int],
                measured: frozenset[str] | None) -> _Figures:
    """With a pathway (``measured``, its unit numbers), the percentage counts its units; a unit
    outside it that is ready still waits for the assessor's sign-off."""
    # Trees are kept for the life of the process (catalogue.tree), so their id stays theirs.
    key = (id(tree), frozenset(met.items()), frozenset(achieved), frozenset(signed), measured)
    return _figures.get(key, lambda: _add_up(tree, met, achieved, signed, measured))


def _add_up(tree: VersionTree, met: dict[int, int], achieved: set[int], signed: set[int],
            measured: frozenset[str] | None) -> _Figures:
    counted_met, counted_total, ready, achieved_numbers = 0, 0, 0, []
    for unit in tree.units:
        total = len(unit.criteria)
        unit_met = met.get(unit.id, 0)
        is_achieved = unit.id in achieved
        if is_achieved:
            achieved_numbers.append(unit.number)
        if unit.id not in signed:
            ready += total > 0 and unit_met == total
        if measured is None or unit.number in measured:
            counted_total += total
            counted_met += total if is_achieved else unit_met
    return _Figures(counted_met, counted_total, ready,
                    evaluation_of(tree, achieved_numbers).total_credits)


def _met_by_unit(session: Session, enrolment_ids: Sequence[int]) -> dict[int, dict[int, int]]:
    """Per enrolment, how many criteria of each unit are met. Kept per process by the
    portfolio's latest decision and countersignature: both are only ever added, a portfolio's
    one at a time under its lock, so while the latest are the same its current decisions are
    too. Two probes per portfolio rather than a count over every decision of the caseload."""
    return read_through(session, "met by unit", MET_COUNTS_KEPT, enrolment_ids,
                        lambda ids: _latest_records(session, ids),
                        lambda ids: _count_met(session, ids))


def _latest_records(session: Session, enrolment_ids: Sequence[int]) -> dict[int, tuple]:
    return {enrolment_id: tuple(ids) for enrolment_id, *ids in plain_rows(
        session, _LATEST_RECORDS, {"enrolment_ids": list(enrolment_ids)})}


def _count_met(session: Session, enrolment_ids: Sequence[int]) -> dict[int, dict[int, int]]:
    met: dict[int, dict[int, int]] = {e: {} for e in enrolment_ids}
    for enrolment_id, unit_id, count in plain_rows(session,
            sa.select(Decision.enrolment_id, Decision.unit_id, sa.func.count())
            .where(Decision.enrolment_id.in_(enrolment_ids), Decision.outcome == "met",
                   not_superseded(), ~awaiting_countersignature(Decision))
            .group_by(Decision.enrolment_id, Decision.unit_id)):
        met[enrolment_id][unit_id] = count
    return met


def refresh_awaiting(session: Session, enrolment_id: int,
                     item_ids: Sequence[int] | None = None) -> None:
    """Bring items' place in the assessor's queue up to date with their claims and decisions:
    waiting (since the time it started waiting, or now) while a claim has no decision on the
    item, off the queue otherwise."""
    undecided = (sa.select(CriterionClaim.id).where(
        CriterionClaim.item_id == EvidenceItem.id,
        ~sa.exists().where(Decision.enrolment_id == EvidenceItem.enrolment_id,
                           Decision.item_id == EvidenceItem.id,
                           Decision.criterion_id == CriterionClaim.criterion_id))).exists()
    statement = (sa.update(EvidenceItem).where(EvidenceItem.enrolment_id == enrolment_id)
                 .values(awaiting_decision_since=sa.case(
                     (undecided, sa.func.coalesce(EvidenceItem.awaiting_decision_since,
                                                  sa.literal(utcnow(), UTCDateTime()))),
                     else_=None))
                 .execution_options(synchronize_session=False))
    if item_ids is not None:
        statement = statement.where(EvidenceItem.id.in_(item_ids))
    session.execute(statement)
    for loaded in [o for o in session.identity_map.values() if isinstance(o, EvidenceItem)]:
        session.expire(loaded, ["awaiting_decision_since"])


def _awaiting_summary(session: Session, enrolment_ids: Sequence[int]
                      ) -> dict[int, tuple[int, dt.datetime, int]]:
    """Per enrolment: how many items await a decision, since when, and the oldest one."""
    return {enrolment_id: (items, _aware(since), item_id)
            for enrolment_id, items, since, item_id in plain_rows(
                session, _AWAITING, {"enrolment_ids": list(enrolment_ids)})}


def _awaiting_statement() -> sa.Select:
    waiting = (sa.select(EvidenceItem.enrolment_id, EvidenceItem.id.label("item_id"),
                         EvidenceItem.awaiting_decision_since.label("since"))
               .where(one_of(EvidenceItem.enrolment_id, "enrolment_ids"),
                      EvidenceItem.awaiting_decision_since.is_not(None),
                      EvidenceItem.withdrawn_at.is_(None)).subquery())
    ranked = sa.select(
        waiting.c.enrolment_id, waiting.c.item_id, waiting.c.since,
        sa.func.count().over(partition_by=waiting.c.enrolment_id).label("item_count"),
        sa.func.row_number().over(partition_by=waiting.c.enrolment_id,
                                  order_by=(waiting.c.since, waiting.c.item_id)).label("rank"),
    ).subquery()
    return sa.select(ranked.c.enrolment_id, ranked.c.item_count, ranked.c.since,
                     ranked.c.item_id).where(ranked.c.rank == 1)


def last_activity(session: Session, enrolment_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """Per enrolment, its latest change of evidence or decision. Each is a latest value per
    enrolment, which the (enrolment, time) indexes answer with one entry each; grouping the
    enrolments' rows instead would read every item and decision of the caseload."""
    latest: dict[int, dt.datetime] = {}
    for enrolment_id, *times in plain_rows(session, _LAST_ACTIVITY,
                                           {"enrolment_ids": list(enrolment_ids)}):
        known = [_aware(when) for when in times if when is not None]
        if known:
            latest[enrolment_id] = max(known)
    return latest


# The caseload's statements are built once, its enrolments a parameter: building and keying them
# again on every request cost more CPU than the database's answers.
_OPEN_ENROLMENTS = (sa.select(Enrolment)
                    .where(Enrolment.assessor_id == sa.bindparam("assessor_id"),
                           Enrolment.ended_at.is_(None))
                    .options(joinedload(Enrolment.learner), selectinload(Enrolment.version)))
_SIGNED_UNITS = (sa.select(UnitSignOff.enrolment_id, UnitSignOff.unit_id,
                           awaiting_countersignature(UnitSignOff))
                 .outerjoin(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
                 .where(one_of(UnitSignOff.enrolment_id, "enrolment_ids"), UnitUnlock.id.is_(None)))
_LATEST_RECORDS = sa.select(Enrolment.id, *(
    sa.select(sa.func.max(model.id)).where(model.enrolment_id == Enrolment.id).scalar_subquery()
    for model in (Decision, Countersignature))).where(one_of(Enrolment.id, "enrolment_ids"))
_AWAITING = _awaiting_statement()
_LAST_ACTIVITY = sa.select(
    Enrolment.id,
    sa.select(sa.func.max(EvidenceItem.updated_at))
    .where(EvidenceItem.enrolment_id == Enrolment.id).scalar_subquery(),
    sa.select(sa.func.max(Decision.decided_at))
    .where(Decision.enrolment_id == Enrolment.id).scalar_subquery(),
).where(one_of(Enrolment.id, "enrolment_ids"))


def _aware(value):
    """Aggregates bypass the column type, so SQLite hands back naive (or text) UTC values."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


@completion_checks.register
def nothing_awaiting(session: Session, enrolment: Enrolment) -> None:
    """An enrolment completes only once every item of evidence has its decisions: an ended
    record takes none, so whatever waited then would wait for ever."""
    waiting = _awaiting_summary(session, [enrolment.id]).get(enrolment.id)
    if waiting:
        items = f"{waiting[0]} item" + ("" if waiting[0] == 1 else "s")
        raise AssessmentError(
            f"Evidence still awaits a decision ({items}): judge it first, or withdraw the "
            "learner if they will not finish.")
