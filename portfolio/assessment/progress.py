"""The derived state of portfolios: criterion statuses, unit progress and the qualification's
progress under its rules of combination.

Statuses are never stored: a criterion's status comes from its current decision and its pending
claims (:mod:`portfolio.assessment.criterion_states`); a unit is achieved by a current sign-off; the
qualification's progress comes from the catalogue's rules engine. Once the learner has a pathway
(:mod:`portfolio.assessment.pathway`), the criteria met and what is left count its units only;
whether the qualification is achieved is judged on every achieved unit either way. Every read here takes a fixed
number of queries whatever the size of the portfolio, and works for many enrolments at once as for
one.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portfolio.accounts.models import Enrolment
from portfolio.assessment.criterion_states import (
    NOT_STARTED,
    CriterionState,
    awaiting_countersignature,
    criterion_states,
)
from portfolio.assessment.models import (
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
from portfolio.core.db import one_of
from portfolio.core.memo import Memo

# The statements every progress page runs are built once, their enrolments a parameter:
# building and keying them again on each request cost more CPU than the database's answers.

#: Current sign-offs (no unlock undoes them), each with whether it awaits countersignature.
_CURRENT_SIGN_OFFS = (
    sa.select(UnitSignOff, awaiting_countersignature(UnitSignOff))
    .outerjoin(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
    .where(one_of(UnitSignOff.enrolment_id, "enrolment_ids"), UnitUnlock.id.is_(None))
    .options(joinedload(UnitSignOff.assessor))
    .order_by(UnitSignOff.id))
_UNLOCKS = (sa.select(UnitSignOff.enrolment_id, UnitSignOff.unit_id, UnitUnlock.unlocked_at)
            .join(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
            .where(one_of(UnitSignOff.enrolment_id, "enrolment_ids")))
_DECLARATIONS = (sa.select(UnitDeclaration)
                 .where(one_of(UnitDeclaration.enrolment_id, "enrolment_ids"))
                 .order_by(UnitDeclaration.id))


def current_sign_offs(session: Session, enrolment_ids: Sequence[int]) -> list[UnitSignOff]:
    return [sign_off for sign_off, _ in _sign_offs_awaiting(session, enrolment_ids)]


def _sign_offs_awaiting(session: Session, enrolment_ids: Sequence[int]
                        ) -> list[tuple[UnitSignOff, bool]]:
    """Current sign-offs with whether each awaits countersignature."""
    return [tuple(row) for row in session.execute(
        _CURRENT_SIGN_OFFS, {"enrolment_ids": list(enrolment_ids)})]


def signed_off_unit_ids(session: Session, enrolment_id: int) -> set[int]:
    """The units of an enrolment that are signed off and not unlocked: they are locked."""
    return set(session.scalars(
        sa.select(UnitSignOff.unit_id)
        .outerjoin(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
        .where(UnitSignOff.enrolment_id == enrolment_id, UnitUnlock.id.is_(None))))


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

    @functools.cached_property
    def met(self) -> int:
        return sum(1 for s in self.criteria.values() if s.status == "met")

    @property
    def total(self) -> int:
        return len(self.criteria)

    @functools.cached_property
    def provisional(self) -> int:
        """Criteria met by decisions awaiting countersignature."""
        return sum(1 for s in self.criteria.values() if s.status == "awaiting_countersignature")

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

    @functools.cached_property
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

    @functools.cached_property
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
    states = criterion_states(session, ids)
    sign_offs: dict[int, dict[int, UnitSignOff]] = defaultdict(dict)
    provisional_sign_offs: set[int] = set()
    for sign_off, awaiting in _sign_offs_awaiting(session, ids):
        sign_offs[sign_off.enrolment_id][sign_off.unit_id] = sign_off
        if awaiting:
            provisional_sign_offs.add(sign_off.id)
    declared = _current_declarations(session, ids)
    pathways = current_pathways(session, ids)

    result = {}
    for enrolment in enrolments:
        tree = version_tree(session, enrolment.version_id)
        theirs, their_sign_offs = states[enrolment.id], sign_offs[enrolment.id]
        units = []
        for node in tree.units:
            sign_off = their_sign_offs.get(node.id)
            units.append(UnitProgress(
                node, {c.id: theirs.get(c.id, NOT_STARTED) for c in node.criteria}, sign_off,
                declared[enrolment.id].get(node.id),
                awaiting_countersignature=sign_off is not None
                and sign_off.id in provisional_sign_offs))
        achieved = [u.unit.number for u in units if u.is_achieved]
        open_criteria = {u.unit.number: u.total - u.met for u in units}
        pathway = pathways.get(enrolment.id)
        result[enrolment.id] = Progress(
            enrolment=enrolment, tree=tree, units=units,
            evaluation=evaluation_of(tree, achieved),
            plan=_least_remaining_work(tree, achieved, open_criteria) if pathway is None else None,
            pathway=pathway)
    return result


#: Plans already searched, by version tree, achieved units and open criteria: many learners share
#: a state (none achieved, all open), and the search costs more than the rest of a progress page.
_plans: Memo[Plan | None] = Memo(size=4096)


#: The rules' verdicts already reached, by version tree and achieved units.
_evaluations: Memo[Evaluation] = Memo(size=4096)


def evaluation_of(tree: VersionTree, achieved: Sequence[str]) -> Evaluation:
    """The rules of combination's verdict on the achieved units."""
    return _evaluations.get((id(tree), frozenset(achieved)),
                           lambda: evaluate(tree.structure, achieved))


def _least_remaining_work(tree: VersionTree, achieved: list[str],
                          open_criteria: Mapping[str, int]) -> Plan | None:
    # Trees are kept for the life of the process (catalogue.tree), so their id stays theirs.
    return _plans.get((id(tree), frozenset(achieved), frozenset(open_criteria.items())),
                      lambda: plan(tree.structure, achieved, open_criteria))


def _current_declarations(session: Session, ids: Sequence[int]
                          ) -> dict[int, dict[int, UnitDeclaration]]:
    """A declaration covers the work signed off after it: one made before an unlock does not
    count for the next sign-off."""
    last_unlock: dict[tuple[int, int], dt.datetime] = {}
    for enrolment_id, unit_id, when in session.execute(_UNLOCKS, {"enrolment_ids": list(ids)}):
        key = (enrolment_id, unit_id)
        last_unlock[key] = max(when, last_unlock.get(key, when))
    declared: dict[int, dict[int, UnitDeclaration]] = defaultdict(dict)
    for declaration in session.scalars(_DECLARATIONS, {"enrolment_ids": list(ids)}):
        unlocked = last_unlock.get((declaration.enrolment_id, declaration.unit_id))
        if unlocked is None or declaration.declared_at > unlocked:
            declared[declaration.enrolment_id][declaration.unit_id] = declaration
    return declared
