"""The derived state of portfolios: criterion statuses, unit progress and the qualification's
progress under its rules of combination.

Statuses are never stored: a criterion's status comes from its current decision (the one no later
decision supersedes) and its pending claims; a unit is achieved by a current sign-off; the
qualification's progress comes from the catalogue's rules engine. Once the learner has a pathway
(:mod:`portfolio.assessment.pathway`), the criteria met and what is left count its units only;
whether the qualification is achieved is judged on every achieved unit either way. Every read here takes a fixed
number of queries whatever the size of the portfolio, and works for many enrolments at once as for
one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, defer, joinedload

from portfolio.accounts.models import Enrolment
from portfolio.assessment.models import (
    Countersignature,
    Decision,
    PathwayChoice,
    UnitDeclaration,
    UnitSignOff,
    UnitUnlock,
)
from portfolio.assessment.pathway import current_pathways
from portfolio.catalogue.pathways import PathwayCheck, check_pathway
from portfolio.catalogue.planning import Plan, plan
from portfolio.catalogue.rules import Evaluation, evaluate
from portfolio.catalogue.tree import UnitNode, VersionTree, version_tree
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


def current_sign_offs(session: Session, enrolment_ids: Sequence[int]) -> list[UnitSignOff]:
    return list(session.scalars(
        sa.select(UnitSignOff).outerjoin(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
        .where(UnitSignOff.enrolment_id.in_(enrolment_ids), UnitUnlock.id.is_(None))
        .options(joinedload(UnitSignOff.assessor))
        .order_by(UnitSignOff.id)))


def signed_off_unit_ids(session: Session, enrolment_id: int) -> set[int]:
    """The units of an enrolment that are signed off and not unlocked: they are locked."""
    return set(session.scalars(
        sa.select(UnitSignOff.unit_id)
        .outerjoin(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
        .where(UnitSignOff.enrolment_id == enrolment_id, UnitUnlock.id.is_(None))))


@dataclass
class CriterionState:
    status: str = "not_started"
    decision: Decision | None = None
    claims: int = 0
    pending: int = 0
    #: The current decision awaits countersignature: it does not count yet.
    awaiting_countersignature: bool = False

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class UnitProgress:
    unit: UnitNode
    criteria: dict[int, CriterionState]
    sign_off: UnitSignOff | None
    declaration: UnitDeclaration | None
    #: The sign-off awaits countersignature: the unit is locked but not yet achieved.
    awaiting_countersignature: bool = False

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
    def is_signed_off(self) -> bool:
        """Signed off, countersigned or not: the unit is locked."""
        return self.sign_off is not None

    @property
    def is_achieved(self) -> bool:
        return self.is_signed_off and not self.awaiting_countersignature

    @property
    def ready_for_sign_off(self) -> bool:
        return not self.is_signed_off and self.total > 0 and self.met == self.total

    @property
    def status(self) -> str:
        if self.is_achieved:
            return "achieved"
        if self.is_signed_off:
            return "awaiting_countersignature"
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
    #: The least remaining work over all units; ``None`` once a pathway says what is left.
    plan: Plan | None
    pathway: PathwayChoice | None = None

    @property
    def measured_units(self) -> list[UnitProgress]:
        """The units progress is measured against: the pathway's, or every unit without one."""
        if self.pathway is None:
            return self.units
        chosen = set(self.pathway.units)
        return [u for u in self.units if u.unit.number in chosen]

    @property
    def left(self) -> list[UnitProgress]:
        """The pathway's units not yet achieved."""
        return [u for u in self.measured_units if not u.is_achieved]

    @property
    def pathway_check(self) -> PathwayCheck | None:
        return (check_pathway(self.tree.structure, self.pathway.units)
                if self.pathway is not None else None)

    @property
    def criteria_met(self) -> int:
        return sum(u.total if u.is_achieved else u.met for u in self.measured_units)

    @property
    def criteria_total(self) -> int:
        return sum(u.total for u in self.measured_units)

    @property
    def percent_met(self) -> int:
        return round(100 * self.criteria_met / self.criteria_total) if self.criteria_total else 0

    def state(self, criterion_id: int) -> CriterionState:
        return self.unit(self.tree.unit_of_criterion[criterion_id].id).criteria[criterion_id]

    def unit(self, unit_id: int) -> UnitProgress:
        return next(u for u in self.units if u.unit.id == unit_id)

    @property
    def locked_unit_ids(self) -> set[int]:
        return {u.unit.id for u in self.units if u.is_signed_off}


def progress_for(session: Session, enrolments: Sequence[Enrolment]) -> dict[int, Progress]:
    """Progress of several enrolments in a fixed number of queries."""
    ids = [e.id for e in enrolments]
    if not ids:
        return {}
    decisions: dict[int, dict[int, Decision]] = defaultdict(dict)
    provisional: set[int] = set()  # the decisions awaiting countersignature
    # Hundreds of decisions: the progress page and the grid need only their outcome, so neither
    # the assessor (loaded when asked for, usually already in the session) nor the hashes of the
    # files judged (a JSON list to parse per row) is read with them.
    for decision, awaiting in session.execute(
            current_decisions(ids).add_columns(awaiting_countersignature(Decision))
            .options(defer(Decision.file_hashes))):
        decisions[decision.enrolment_id][decision.criterion_id] = decision
        if awaiting:
            provisional.add(decision.id)
    claims: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for enrolment_id, criterion_id, count in session.execute(
            sa.select(EvidenceItem.enrolment_id, CriterionClaim.criterion_id, sa.func.count())
            .join(CriterionClaim, CriterionClaim.item_id == EvidenceItem.id)
            .where(EvidenceItem.enrolment_id.in_(ids), EvidenceItem.withdrawn_at.is_(None))
            .group_by(EvidenceItem.enrolment_id, CriterionClaim.criterion_id)):
        claims[enrolment_id][criterion_id] = count
    pending: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    awaiting = pending_claims(ids).subquery()
    for enrolment_id, criterion_id, count in session.execute(
            sa.select(awaiting.c.enrolment_id, awaiting.c.criterion_id, sa.func.count())
            .group_by(awaiting.c.enrolment_id, awaiting.c.criterion_id)):
        pending[enrolment_id][criterion_id] = count
    sign_offs: dict[int, dict[int, UnitSignOff]] = defaultdict(dict)
    for sign_off in current_sign_offs(session, ids):
        sign_offs[sign_off.enrolment_id][sign_off.unit_id] = sign_off
    provisional_sign_offs = set(session.scalars(sa.select(UnitSignOff.id).where(
        UnitSignOff.enrolment_id.in_(ids), awaiting_countersignature(UnitSignOff))))
    declared = _current_declarations(session, ids)
    pathways = current_pathways(session, ids)

    result = {}
    for enrolment in enrolments:
        tree = version_tree(session, enrolment.version_id)
        # Looked up once per learner, not once per criterion.
        their_decisions, their_claims, their_pending = (
            decisions[enrolment.id], claims[enrolment.id], pending[enrolment.id])
        units = []
        for node in tree.units:
            states = {}
            for criterion in node.criteria:
                decision = their_decisions.get(criterion.id)
                state = CriterionState(
                    decision=decision, claims=their_claims.get(criterion.id, 0),
                    pending=their_pending.get(criterion.id, 0),
                    awaiting_countersignature=decision is not None and decision.id in provisional)
                state.status = _status(state)
                states[criterion.id] = state
            sign_off = sign_offs[enrolment.id].get(node.id)
            units.append(UnitProgress(
                node, states, sign_off, declared[enrolment.id].get(node.id),
                awaiting_countersignature=sign_off is not None
                and sign_off.id in provisional_sign_offs))
        achieved = [u.unit.number for u in units if u.is_achieved]
        open_criteria = {u.unit.number: u.total - u.met for u in units}
        pathway = pathways.get(enrolment.id)
        result[enrolment.id] = Progress(
            enrolment=enrolment, tree=tree, units=units,
            evaluation=evaluate(tree.structure, achieved),
            plan=plan(tree.structure, achieved, open_criteria) if pathway is None else None,
            pathway=pathway)
    return result


def _current_declarations(session: Session, ids: Sequence[int]
                          ) -> dict[int, dict[int, UnitDeclaration]]:
    """A declaration covers the work signed off after it: one made before an unlock does not
    count for the next sign-off."""
    last_unlock: dict[tuple[int, int], dt.datetime] = {}
    for enrolment_id, unit_id, when in session.execute(
            sa.select(UnitSignOff.enrolment_id, UnitSignOff.unit_id, UnitUnlock.unlocked_at)
            .join(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
            .where(UnitSignOff.enrolment_id.in_(ids))):
        key = (enrolment_id, unit_id)
        last_unlock[key] = max(when, last_unlock.get(key, when))
    declared: dict[int, dict[int, UnitDeclaration]] = defaultdict(dict)
    for declaration in session.scalars(
            sa.select(UnitDeclaration).where(UnitDeclaration.enrolment_id.in_(ids))
            .order_by(UnitDeclaration.id)):
        unlocked = last_unlock.get((declaration.enrolment_id, declaration.unit_id))
        if unlocked is None or declaration.declared_at > unlocked:
            declared[declaration.enrolment_id][declaration.unit_id] = declaration
    return declared


def _status(state: CriterionState) -> str:
    if state.decision is not None and state.decision.outcome == "met":
        return "awaiting_countersignature" if state.awaiting_countersignature else "met"
    if state.pending:
        return "claimed"
    if state.decision is not None:
        return "not_yet_met"
    return "claimed" if state.claims else "not_started"
