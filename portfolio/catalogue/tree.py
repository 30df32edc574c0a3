"""The catalogue's read model: a qualification version's units, outcomes and criteria as plain,
immutable values (the file format's own shapes, with database ids) with the rules engine's
structure, cached per version.

Every feature that reads a qualification's structure (the criteria picker, progress, decisions,
the caseload, the command line) uses this tree. The ORM models are how the catalogue stores it;
:mod:`portfolio.catalogue.spec` is the file format, used only to import and export.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.catalogue.models import Criterion, LearningOutcome, QualificationVersion, Unit
from portfolio.catalogue.rules import Structure, structure_of
from portfolio.catalogue.spec import CriterionSpec, OutcomeSpec, UnitSpec, rules_from_document


@dataclass(frozen=True)
class CriterionNode(CriterionSpec):
    """A criterion as the catalogue file states it, with its database id."""

    id: int


@dataclass(frozen=True)
class UnitNode(UnitSpec):
    """A unit as the catalogue file states it (its outcomes holding :class:`CriterionNode`),
    with its database id."""

    id: int


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

    def criterion(self, criterion_id: int) -> CriterionNode | None:
        unit = self.unit_of_criterion.get(criterion_id)
        return next(c for c in unit.criteria if c.id == criterion_id) if unit else None

    def short_label(self, criterion_id: int) -> str:
        """``301 · 2.3``, as a chip names a criterion."""
        unit = self.unit_of_criterion[criterion_id]
        return f"{unit.number} · {self.criterion(criterion_id).code}"

    def label(self, criterion_id: int) -> str:
        """``unit 301 criterion 2.3``, as messages name a criterion."""
        unit = self.unit_of_criterion.get(criterion_id)
        if unit is None:
            return "this criterion"
        return f"unit {unit.number} criterion {self.criterion(criterion_id).code}"


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
                  Criterion.id, Criterion.code, Criterion.text)
        .join(Criterion, Criterion.outcome_id == LearningOutcome.id)
        .join(Unit, Unit.id == LearningOutcome.unit_id)
        .where(Unit.version_id == version.id)
        .order_by(LearningOutcome.unit_id, LearningOutcome.position, Criterion.position))
    outcomes: dict[int, dict[int, tuple[str, list[CriterionNode]]]] = defaultdict(dict)
    for unit_id, number, text, cid, code, ctext in rows:
        outcomes[unit_id].setdefault(number, (text, []))[1].append(
            CriterionNode(code=code, text=ctext, id=cid))
    nodes = tuple(
        UnitNode(id=u.id, number=u.number, urn=u.urn, title=u.title, level=u.level,
                 credit=u.credit, glh=u.glh, learning_outcomes=tuple(
                     OutcomeSpec(number, text, tuple(criteria))
                     for number, (text, criteria) in outcomes[u.id].items()))
        for u in units)
    return VersionTree(
        version_id=version.id, title=version.title, unit_declarations=version.unit_declarations,
        units=nodes, structure=structure_of(nodes, rules_from_document(version.rules)),
        unit_of_criterion={c.id: n for n in nodes for c in n.criteria},
        units_by_id={n.id: n for n in nodes})
