"""Assessment operations and the derived state of portfolios.

Statuses are never stored: a criterion's status comes from its current decision (the one no later
decision supersedes) and its pending claims; a unit is achieved by a current sign-off; the
qualification's progress comes from the catalogue's rules engine. Every read here takes a fixed
number of queries whatever the size of the portfolio, and works for many enrolments at once (the
caseload) as for one (the progress page).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, joinedload

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.services import lock_enrolment
from portfolio.assessment.models import Decision, UnitDeclaration, UnitSignOff, UnitUnlock
from portfolio.catalogue.models import Criterion, LearningOutcome, QualificationVersion, Unit
from portfolio.catalogue.rules import Evaluation, Plan, Structure, evaluate, plan
from portfolio.catalogue.spec import rules_from_document, structure_of
from portfolio.core import audit
from portfolio.core.db import UTCDateTime, utcnow
from portfolio.evidence.models import CriterionClaim, EvidenceItem

STATUS_LABELS = {
    "not_started": "Not started",
    "claimed": "Claimed, awaiting judgement",
    "met": "Met",
    "not_yet_met": "Not yet met",
}


class AssessmentError(ValueError):
    """A request refused with a message for the person who made it."""


class DecisionConflict(AssessmentError):
    """Someone else decided the same criterion first."""


# ------------------------------------------------------------------------- the catalogue, cached


@dataclass(frozen=True)
class CriterionNode:
    id: int
    code: str
    text: str
    position: int


@dataclass(frozen=True)
class OutcomeNode:
    number: int
    text: str
    criteria: tuple[CriterionNode, ...]


@dataclass(frozen=True)
class UnitNode:
    id: int
    number: str
    urn: str
    title: str
    level: int
    credit: int
    glh: int | None
    outcomes: tuple[OutcomeNode, ...]

    @property
    def criteria(self) -> tuple[CriterionNode, ...]:
        return tuple(c for o in self.outcomes for c in o.criteria)

    @property
    def criteria_count(self) -> int:
        return sum(len(o.criteria) for o in self.outcomes)


@dataclass(frozen=True)
class VersionTree:
    """A qualification version's units, outcomes and criteria as plain values, with its rules."""

    version_id: int
    title: str
    unit_declarations: bool
    units: tuple[UnitNode, ...]
    structure: Structure
    unit_of_criterion: dict[int, UnitNode] = field(repr=False)
    units_by_id: dict[int, UnitNode] = field(repr=False)


# Versions never change once imported, so their trees are kept; the key includes the content hash
# because a rolled-back import can hand its id to a different version.
_trees: dict[tuple[int, str], VersionTree] = {}


def version_tree(session: Session, version_id: int) -> VersionTree:
    version = session.get(QualificationVersion, version_id)
    key = (version.id, version.content_sha256)
    if key not in _trees:
        _trees[key] = _build_tree(session, version)
    return _trees[key]


def _build_tree(session: Session, version: QualificationVersion) -> VersionTree:
    units = list(session.scalars(sa.select(Unit).where(Unit.version_id == version.id)
                                 .order_by(Unit.position)))
    rows = session.execute(
        sa.select(LearningOutcome.unit_id, LearningOutcome.number, LearningOutcome.text,
                  Criterion.id, Criterion.code, Criterion.text, Criterion.position)
        .join(Criterion, Criterion.outcome_id == LearningOutcome.id)
        .join(Unit, Unit.id == LearningOutcome.unit_id)
        .where(Unit.version_id == version.id)
        .order_by(LearningOutcome.unit_id, LearningOutcome.position, Criterion.position))
    outcomes: dict[int, dict[int, tuple[str, list[CriterionNode]]]] = defaultdict(dict)
    for unit_id, number, text, cid, code, ctext, position in rows:
        outcomes[unit_id].setdefault(number, (text, []))[1].append(
            CriterionNode(cid, code, ctext, position))
    nodes = tuple(
        UnitNode(u.id, u.number, u.urn, u.title, u.level, u.credit, u.glh, tuple(
            OutcomeNode(number, text, tuple(criteria))
            for number, (text, criteria) in outcomes[u.id].items()))
        for u in units)
    structure = structure_of(nodes, rules_from_document(version.rules))
    return VersionTree(
        version_id=version.id, title=version.title, unit_declarations=version.unit_declarations,
        units=nodes, structure=structure,
        unit_of_criterion={c.id: n for n in nodes for c in n.criteria},
        units_by_id={n.id: n for n in nodes})


# ------------------------------------------------------------------------------- derived state


def _current_decisions(enrolment_ids: Sequence[int]):
    later = aliased(Decision)
    return (sa.select(Decision).where(
        Decision.enrolment_id.in_(enrolment_ids),
        ~sa.exists().where(later.supersedes_id == Decision.id)))


def _pending_claims(enrolment_ids: Sequence[int]):
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


def current_sign_offs(session: Session, enrolment_ids: Sequence[int]) -> list[UnitSignOff]:
    return list(session.scalars(
        sa.select(UnitSignOff).outerjoin(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
        .where(UnitSignOff.enrolment_id.in_(enrolment_ids), UnitUnlock.id.is_(None))
        .options(joinedload(UnitSignOff.assessor))
        .order_by(UnitSignOff.id)))


@dataclass
class CriterionState:
    status: str = "not_started"
    decision: Decision | None = None
    claims: int = 0
    pending: int = 0

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class UnitProgress:
    unit: UnitNode
    criteria: dict[int, CriterionState]
    sign_off: UnitSignOff | None
    declaration: UnitDeclaration | None

    @property
    def declared(self) -> bool:
        return self.declaration is not None

    @property
    def met(self) -> int:
        return sum(1 for s in self.criteria.values() if s.status == "met")

    @property
    def total(self) -> int:
        return len(self.criteria)

    @property
    def is_achieved(self) -> bool:
        return self.sign_off is not None

    @property
    def ready_for_sign_off(self) -> bool:
        return not self.is_achieved and self.total > 0 and self.met == self.total

    @property
    def status(self) -> str:
        if self.is_achieved:
            return "achieved"
        if self.ready_for_sign_off:
            return "ready"
        if any(s.status != "not_started" for s in self.criteria.values()):
            return "in_progress"
        return "not_started"


@dataclass
class Progress:
    enrolment: Enrolment
    tree: VersionTree
    units: list[UnitProgress]
    evaluation: Evaluation
    plan: Plan | None

    @property
    def criteria_met(self) -> int:
        return sum(u.total if u.is_achieved else u.met for u in self.units)

    @property
    def criteria_total(self) -> int:
        return sum(u.total for u in self.units)

    @property
    def percent_met(self) -> int:
        return round(100 * self.criteria_met / self.criteria_total) if self.criteria_total else 0

    def state(self, criterion_id: int) -> CriterionState:
        unit = self.tree.unit_of_criterion[criterion_id]
        return next(u for u in self.units if u.unit.id == unit.id).criteria[criterion_id]

    @property
    def locked_unit_ids(self) -> set[int]:
        return {u.unit.id for u in self.units if u.is_achieved}


def progress_for(session: Session, enrolments: Sequence[Enrolment]) -> dict[int, Progress]:
    """Progress of several enrolments in a fixed number of queries."""
    ids = [e.id for e in enrolments]
    if not ids:
        return {}
    decisions: dict[int, dict[int, Decision]] = defaultdict(dict)
    for decision in session.scalars(_current_decisions(ids).options(joinedload(Decision.assessor))):
        decisions[decision.enrolment_id][decision.criterion_id] = decision
    claims: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for enrolment_id, criterion_id, count in session.execute(
            sa.select(EvidenceItem.enrolment_id, CriterionClaim.criterion_id, sa.func.count())
            .join(CriterionClaim, CriterionClaim.item_id == EvidenceItem.id)
            .where(EvidenceItem.enrolment_id.in_(ids), EvidenceItem.withdrawn_at.is_(None))
            .group_by(EvidenceItem.enrolment_id, CriterionClaim.criterion_id)):
        claims[enrolment_id][criterion_id] = count
    pending: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    pending_claims = _pending_claims(ids).subquery()
    for enrolment_id, criterion_id, count in session.execute(
            sa.select(pending_claims.c.enrolment_id, pending_claims.c.criterion_id, sa.func.count())
            .group_by(pending_claims.c.enrolment_id, pending_claims.c.criterion_id)):
        pending[enrolment_id][criterion_id] = count
    sign_offs: dict[int, dict[int, UnitSignOff]] = defaultdict(dict)
    for sign_off in current_sign_offs(session, ids):
        sign_offs[sign_off.enrolment_id][sign_off.unit_id] = sign_off
    last_unlock: dict[tuple[int, int], dt.datetime] = {}
    for enrolment_id, unit_id, when in session.execute(
            sa.select(UnitSignOff.enrolment_id, UnitSignOff.unit_id, UnitUnlock.unlocked_at)
            .join(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
            .where(UnitSignOff.enrolment_id.in_(ids))):
        key = (enrolment_id, unit_id)
        last_unlock[key] = max(when, last_unlock.get(key, when))
    # A declaration covers the work signed off after it: one made before an unlock does not
    # count for the next sign-off.
    declared: dict[int, dict[int, UnitDeclaration]] = defaultdict(dict)
    for declaration in session.scalars(
            sa.select(UnitDeclaration).where(UnitDeclaration.enrolment_id.in_(ids))
            .order_by(UnitDeclaration.id)):
        unlocked = last_unlock.get((declaration.enrolment_id, declaration.unit_id))
        if unlocked is None or declaration.declared_at > unlocked:
            declared[declaration.enrolment_id][declaration.unit_id] = declaration

    result = {}
    for enrolment in enrolments:
        tree = version_tree(session, enrolment.version_id)
        units = []
        for node in tree.units:
            states = {}
            for criterion in node.criteria:
                state = CriterionState(
                    decision=decisions[enrolment.id].get(criterion.id),
                    claims=claims[enrolment.id].get(criterion.id, 0),
                    pending=pending[enrolment.id].get(criterion.id, 0))
                state.status = _status(state)
                states[criterion.id] = state
            units.append(UnitProgress(node, states, sign_offs[enrolment.id].get(node.id),
                                      declared[enrolment.id].get(node.id)))
        achieved = [u.unit.number for u in units if u.is_achieved]
        open_criteria = {u.unit.number: u.total - u.met for u in units}
        result[enrolment.id] = Progress(
            enrolment=enrolment, tree=tree, units=units,
            evaluation=evaluate(tree.structure, achieved),
            plan=plan(tree.structure, achieved, open_criteria))
    return result


def _status(state: CriterionState) -> str:
    if state.decision is not None and state.decision.outcome == "met":
        return "met"
    if state.pending:
        return "claimed"
    if state.decision is not None:
        return "not_yet_met"
    return "claimed" if state.claims else "not_started"


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

    @property
    def percent_met(self) -> int:
        return round(100 * self.criteria_met / self.criteria_total) if self.criteria_total else 0


def caseload(session: Session, enrolments: Sequence[Enrolment]) -> list[CaseloadRow]:
    """The caseload's figures from grouped counts (no decision is loaded as an object), in a fixed
    number of queries whatever the number of learners."""
    ids = [e.id for e in enrolments]
    if not ids:
        return []
    later = aliased(Decision)
    met: dict[int, dict[int, int]] = defaultdict(dict)
    for enrolment_id, unit_id, count in session.execute(
            sa.select(Decision.enrolment_id, Decision.unit_id, sa.func.count())
            .where(Decision.enrolment_id.in_(ids), Decision.outcome == "met",
                   ~sa.exists().where(later.supersedes_id == Decision.id))
            .group_by(Decision.enrolment_id, Decision.unit_id)):
        met[enrolment_id][unit_id] = count
    achieved: dict[int, set[int]] = defaultdict(set)
    for enrolment_id, unit_id in session.execute(
            sa.select(UnitSignOff.enrolment_id, UnitSignOff.unit_id)
            .outerjoin(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
            .where(UnitSignOff.enrolment_id.in_(ids), UnitUnlock.id.is_(None))):
        achieved[enrolment_id].add(unit_id)
    awaiting = _awaiting_summary(session, ids)
    activity = last_activity(session, ids)

    rows = []
    for enrolment in enrolments:
        tree = version_tree(session, enrolment.version_id)
        counted_met, ready = 0, 0
        for unit in tree.units:
            total = len(unit.criteria)
            unit_met = met[enrolment.id].get(unit.id, 0)
            if unit.id in achieved[enrolment.id]:
                counted_met += total
            else:
                counted_met += unit_met
                ready += total > 0 and unit_met == total
        evaluation = evaluate(tree.structure, [u.number for u in tree.units
                                               if u.id in achieved[enrolment.id]])
        count, oldest, first_item = awaiting.get(enrolment.id, (0, None, None))
        rows.append(CaseloadRow(
            enrolment=enrolment, criteria_met=counted_met,
            criteria_total=sum(len(u.criteria) for u in tree.units),
            credits=evaluation.total_credits, credits_required=tree.structure.rules.min_credits,
            awaiting=count, oldest_awaiting=oldest, first_awaiting_item_id=first_item,
            units_ready=ready, last_activity=activity.get(enrolment.id)))
    return rows


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
    waiting = (sa.select(EvidenceItem.enrolment_id, EvidenceItem.id.label("item_id"),
                         EvidenceItem.awaiting_decision_since.label("since"))
               .where(EvidenceItem.enrolment_id.in_(enrolment_ids),
                      EvidenceItem.awaiting_decision_since.is_not(None),
                      EvidenceItem.withdrawn_at.is_(None)).subquery())
    ranked = sa.select(
        waiting.c.enrolment_id, waiting.c.item_id, waiting.c.since,
        sa.func.count().over(partition_by=waiting.c.enrolment_id).label("item_count"),
        sa.func.row_number().over(partition_by=waiting.c.enrolment_id,
                                  order_by=(waiting.c.since, waiting.c.item_id)).label("rank"),
    ).subquery()
    rows = session.execute(sa.select(ranked.c.enrolment_id, ranked.c.item_count, ranked.c.since,
                                     ranked.c.item_id).where(ranked.c.rank == 1))
    return {enrolment_id: (items, _aware(since), item_id)
            for enrolment_id, items, since, item_id in rows}


def last_activity(session: Session, enrolment_ids: Sequence[int]) -> dict[int, dt.datetime]:
    latest: dict[int, dt.datetime] = {}
    for query in (
        sa.select(EvidenceItem.enrolment_id, sa.func.max(EvidenceItem.updated_at))
        .where(EvidenceItem.enrolment_id.in_(enrolment_ids)).group_by(EvidenceItem.enrolment_id),
        sa.select(Decision.enrolment_id, sa.func.max(Decision.decided_at))
        .where(Decision.enrolment_id.in_(enrolment_ids)).group_by(Decision.enrolment_id),
    ):
        for enrolment_id, when in session.execute(query):
            when = _aware(when)
            if when and (enrolment_id not in latest or when > latest[enrolment_id]):
                latest[enrolment_id] = when
    return latest


def _aware(value):
    """Aggregates bypass the column type, so SQLite hands back naive (or text) UTC values."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def history(session: Session, enrolment_id: int, criterion_id: int) -> list[Decision]:
    """Every decision on a criterion, newest first."""
    return list(session.scalars(
        sa.select(Decision).where(Decision.enrolment_id == enrolment_id,
                                  Decision.criterion_id == criterion_id)
        .order_by(Decision.decided_at.desc(), Decision.id.desc())))


def items_claiming(session: Session, enrolment_id: int, criterion_id: int) -> list[EvidenceItem]:
    return list(session.scalars(
        sa.select(EvidenceItem).join(CriterionClaim, CriterionClaim.item_id == EvidenceItem.id)
        .where(EvidenceItem.enrolment_id == enrolment_id,
               CriterionClaim.criterion_id == criterion_id)
        .order_by(EvidenceItem.created_at)))


def decisions_on_item(session: Session, item: EvidenceItem) -> dict[int, list[Decision]]:
    result: dict[int, list[Decision]] = defaultdict(list)
    for decision in session.scalars(sa.select(Decision).where(Decision.item_id == item.id)
                                    .order_by(Decision.id)):
        result[decision.criterion_id].append(decision)
    return result


# ---------------------------------------------------------------------------------- decisions


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
    check and the commit (the caller turns the ``IntegrityError`` into the same message).
    """
    enrolment = item.enrolment
    lock_enrolment(session, enrolment)
    session.refresh(item)
    tree = version_tree(session, enrolment.version_id)
    locked = {s.unit_id for s in current_sign_offs(session, [enrolment.id])}
    if item.is_withdrawn:
        raise AssessmentError("This evidence was withdrawn by the learner.")

    claimed = {c.criterion_id for c in item.claims}
    before = sorted(claimed)
    for criterion_id in sorted(set(map_criteria) - claimed):
        unit = tree.unit_of_criterion.get(criterion_id)
        if unit is None:
            raise AssessmentError("Some criteria are not part of this learner's qualification.")
        if unit.id in locked:
            raise AssessmentError(f"Unit {unit.number} is signed off: unlock it before mapping "
                                  f"more evidence to it.")
        item.claims.append(CriterionClaim(criterion_id=criterion_id, added_by_id=assessor.id))
        claimed.add(criterion_id)
    session.flush()
    if len(claimed) != len(before):
        audit.record(session, "evidence.claims_changed", actor=assessor,
                     centre_id=enrolment.centre_id, learner_id=enrolment.learner_id, obj=item,
                     data={"before": before, "after": sorted(claimed), "mapped_by": "assessor"})

    judgements = list(judgements)
    current = {d.criterion_id: d for d in session.scalars(
        _current_decisions([enrolment.id]).where(
            Decision.criterion_id.in_([j.criterion_id for j in judgements])))}
    file_hashes = [f.sha256 for f in item.files]
    recorded = []
    for judgement in judgements:
        unit = tree.unit_of_criterion.get(judgement.criterion_id)
        code = _label(tree, judgement.criterion_id)
        if judgement.criterion_id not in claimed or unit is None:
            raise AssessmentError(f"{code} is not claimed by this evidence.")
        if judgement.outcome not in ("met", "not_yet_met"):
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
        audit.record(session, "decision.recorded", actor=assessor, centre_id=enrolment.centre_id,
                     learner_id=enrolment.learner_id, obj=decision,
                     data={"criterion": _label(tree, decision.criterion_id),
                           "item_id": item.id, "outcome": decision.outcome,
                           "supersedes_id": decision.supersedes_id, "reason": decision.reason,
                           "file_hashes": file_hashes})
    return recorded


def _label(tree: VersionTree, criterion_id: int) -> str:
    unit = tree.unit_of_criterion.get(criterion_id)
    if unit is None:
        return "this criterion"
    code = next(c.code for c in unit.criteria if c.id == criterion_id)
    return f"unit {unit.number} criterion {code}"


# -------------------------------------------------------------------------------------- units


def _unit(tree: VersionTree, unit_id: int) -> UnitNode:
    unit = tree.units_by_id.get(unit_id)
    if unit is None:
        raise AssessmentError("That unit is not part of this learner's qualification.")
    return unit


def _refuse_if_signed_off(session: Session, enrolment: Enrolment, unit: UnitNode) -> None:
    if any(s.unit_id == unit.id for s in current_sign_offs(session, [enrolment.id])):
        raise AssessmentError(f"Unit {unit.number} is already signed off.")


def declare_unit(session: Session, enrolment: Enrolment, unit_id: int, learner: User
                 ) -> UnitDeclaration:
    lock_enrolment(session, enrolment)
    tree = version_tree(session, enrolment.version_id)
    unit = _unit(tree, unit_id)
    _refuse_if_signed_off(session, enrolment, unit)
    declaration = UnitDeclaration(enrolment_id=enrolment.id, unit_id=unit.id,
                                  learner_id=learner.id)
    session.add(declaration)
    session.flush()
    audit.record(session, "unit.declared", actor=learner, centre_id=enrolment.centre_id,
                 learner_id=enrolment.learner_id, obj=declaration, data={"unit": unit.number})
    return declaration


def sign_off_unit(session: Session, enrolment: Enrolment, unit_id: int, assessor: User
                  ) -> UnitSignOff:
    """Sign off a unit whose every criterion is met (countersigning the learner's declaration
    where the qualification asks for one)."""
    lock_enrolment(session, enrolment)
    progress = progress_for(session, [enrolment])[enrolment.id]
    unit = _unit(progress.tree, unit_id)
    unit_progress = next(u for u in progress.units if u.unit.id == unit.id)
    if unit_progress.is_achieved:
        raise AssessmentError(f"Unit {unit.number} is already signed off.")
    if not unit_progress.ready_for_sign_off:
        raise AssessmentError(f"Unit {unit.number} has {unit_progress.total - unit_progress.met} "
                              f"criteria not yet met.")
    declaration_id = None
    if progress.tree.unit_declarations:
        if unit_progress.declaration is None:
            raise AssessmentError(f"The learner has not yet declared that the work for unit "
                                  f"{unit.number} is their own.")
        declaration_id = unit_progress.declaration.id
    return _add_sign_off(session, enrolment, unit, assessor, "assessment",
                         declaration_id=declaration_id)


def record_prior_achievement(session: Session, enrolment: Enrolment, unit_id: int,
                             assessor: User, method: str, details: str,
                             item_id: int | None = None) -> UnitSignOff:
    """A unit achieved by RPL or credit transfer, with its evidence or certificate details."""
    lock_enrolment(session, enrolment)
    tree = version_tree(session, enrolment.version_id)
    unit = _unit(tree, unit_id)
    if method not in ("rpl", "credit_transfer"):
        raise AssessmentError("Choose RPL or credit transfer.")
    if not details.strip():
        raise AssessmentError("Record the supporting evidence or the certificate details.")
    _refuse_if_signed_off(session, enrolment, unit)
    if item_id is not None:
        item = session.get(EvidenceItem, item_id)
        if item is None or item.enrolment_id != enrolment.id or item.is_withdrawn:
            raise AssessmentError("The supporting evidence must be a live item of this "
                                  "learner's portfolio.")
        # Relied on by an assessment decision now: it may no longer be changed or withdrawn.
        item.judged_at = item.judged_at or utcnow()
    return _add_sign_off(session, enrolment, unit, assessor, method, details=details.strip(),
                         item_id=item_id)


def _add_sign_off(session, enrolment, unit, assessor, method, **fields) -> UnitSignOff:
    sign_off = UnitSignOff(enrolment_id=enrolment.id, unit_id=unit.id, method=method,
                           assessor_id=assessor.id, **fields)
    session.add(sign_off)
    session.flush()
    audit.record(session, "unit.signed_off", actor=assessor, centre_id=enrolment.centre_id,
                 learner_id=enrolment.learner_id, obj=sign_off,
                 data={"unit": unit.number, "method": method, **{
                     k: v for k, v in fields.items() if v is not None}})
    return sign_off


def unlock_unit(session: Session, sign_off: UnitSignOff, admin: User, reason: str) -> UnitUnlock:
    if not reason.strip():
        raise AssessmentError("Give the reason for unlocking the unit.")
    enrolment = session.get(Enrolment, sign_off.enrolment_id)
    lock_enrolment(session, enrolment)
    session.refresh(sign_off)
    if sign_off.unlock is not None:
        raise AssessmentError("This unit is already unlocked.")
    unlock = UnitUnlock(sign_off=sign_off, admin_id=admin.id, reason=reason.strip())
    session.add(unlock)
    session.flush()
    audit.record(session, "unit.unlocked", actor=admin, centre_id=enrolment.centre_id,
                 learner_id=enrolment.learner_id, obj=unlock,
                 data={"sign_off_id": sign_off.id, "unit_id": sign_off.unit_id,
                       "reason": unlock.reason})
    return unlock
