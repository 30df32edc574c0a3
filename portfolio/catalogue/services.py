"""Catalogue operations: import, look-up and export. They flush; the caller commits once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from portfolio.catalogue.events import catalogue_imported
from portfolio.catalogue.models import (
    Criterion,
    LearningOutcome,
    Qualification,
    QualificationVersion,
    Unit,
    visible_to,
)
from portfolio.catalogue.rules import structure_of
from portfolio.catalogue.spec import (
    CriterionSpec,
    OutcomeSpec,
    QualificationSpec,
    UnitSpec,
    WorkingTowards,
    read_spec_file,
    rules_document,
    rules_from_document,
)
from portfolio.core.errors import DomainError


class UnitLookupError(DomainError):
    """A unit given by number or URN that is unknown or ambiguous in a version."""


@dataclass(frozen=True)
class ImportResult:
    version: QualificationVersion
    created: bool

    @property
    def summary(self) -> str:
        qn, number = self.version.qualification_number, self.version.version
        if self.created:
            owner = "" if self.version.centre_id is None else ", for this centre only"
            return f"{qn}: imported as version {number} ({len(self.version.units)} units{owner})"
        return f"{qn}: unchanged (version {number} is identical)"


def builtin_spec_paths() -> list:
    specs = resources.files("portfolio.catalogue") / "specs"
    return sorted((p for p in specs.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


def load_builtin_specs() -> list[QualificationSpec]:
    return [read_spec_file(path) for path in builtin_spec_paths()]


def import_spec(session: Session, spec: QualificationSpec, actor=None,
                centre_id: int | None = None) -> ImportResult:
    """Add ``spec`` as a new version of its qualification, unless the version ``centre_id`` sees as
    current equals it.

    Without ``centre_id`` (the operator's command line, the built-in files) the version is global:
    every centre sees it and it becomes the global current version. With one (a centre admin's
    web import) it is that centre's private version: no other centre sees it, and the global
    versions stay as they are. Version numbers count every import of the qualification, so a
    version is named by one number whoever owns it.
    """
    qualification = session.scalar(sa.select(Qualification).where(
        Qualification.qualification_number == spec.qualification_number))
    digest = spec.content_hash
    if qualification is None:
        qualification = Qualification(qualification_number=spec.qualification_number)
        session.add(qualification)
        number = 1
    else:
        current = session.scalar(
            sa.select(QualificationVersion)
            .where(QualificationVersion.qualification_id == qualification.id,
                   visible_to(centre_id))
            .order_by(QualificationVersion.version.desc()).limit(1))
        if current is not None and current.content_sha256 == digest:
            return ImportResult(current, created=False)
        number = 1 + session.scalar(
            sa.select(sa.func.max(QualificationVersion.version))
            .where(QualificationVersion.qualification_id == qualification.id))

    version = QualificationVersion(
        qualification=qualification, version=number, content_sha256=digest,
        awarding_organisation=spec.awarding_organisation, title=spec.title, level=spec.level,
        size=spec.size, credit_value=spec.credit_value, glh_min=spec.glh_min,
        glh_max=spec.glh_max, tqt=spec.tqt, unit_declarations=spec.unit_declarations,
        operational_start=spec.key_dates["operational_start"],
        operational_end=spec.key_dates["operational_end"],
        certification_end=spec.key_dates["certification_end"],
        rules=rules_document(spec.rules), centre_id=centre_id,
    )
    if spec.working_towards is not None:
        # Set only when stated, so that a file without it inserts what it did before the column
        # existed (the migration tests import files into the schema of earlier revisions).
        version.working_towards = spec.working_towards.document()
    for position, unit_spec in enumerate(spec.units):
        unit = Unit(position=position, number=unit_spec.number, urn=unit_spec.urn,
                    title=unit_spec.title, level=unit_spec.level, credit=unit_spec.credit,
                    glh=unit_spec.glh)
        criterion_position = 0
        for outcome_position, outcome_spec in enumerate(unit_spec.learning_outcomes):
            outcome = LearningOutcome(position=outcome_position, number=outcome_spec.number,
                                      text=outcome_spec.text)
            for criterion_spec in outcome_spec.criteria:
                outcome.criteria.append(Criterion(
                    unit=unit, position=criterion_position, code=criterion_spec.code,
                    text=criterion_spec.text))
                criterion_position += 1
            unit.learning_outcomes.append(outcome)
        version.units.append(unit)
    session.add(version)
    session.flush()
    catalogue_imported.emit(session, actor=actor, centre_id=centre_id, subject=version,
                            object_type="qualification_version",
                            qualification=spec.qualification_number, version=number,
                            sha256=digest)
    return ImportResult(version, created=True)


def qualification_versions(session: Session,
                           centre_id: int | None = None) -> list[QualificationVersion]:
    """The current version of every qualification ``centre_id`` sees (see :func:`visible_to`),
    by QN."""
    latest = (sa.select(sa.func.max(QualificationVersion.id)).where(visible_to(centre_id))
              .group_by(QualificationVersion.qualification_id).scalar_subquery())
    return list(session.scalars(
        sa.select(QualificationVersion).join(QualificationVersion.qualification)
        .where(QualificationVersion.id.in_(latest))
        .options(selectinload(QualificationVersion.qualification))
        .order_by(Qualification.qualification_number)))


def find_version(session: Session, qualification_number: str, version: int | None = None,
                 centre_id: int | None = None) -> QualificationVersion | None:
    """A version of a qualification that ``centre_id`` sees (the newest when ``version`` is
    None), fully loaded; None for another centre's private version as for a missing one."""
    query = (
        sa.select(QualificationVersion).join(QualificationVersion.qualification)
        .where(Qualification.qualification_number == qualification_number,
               visible_to(centre_id))
        .options(selectinload(QualificationVersion.units)
                 .selectinload(Unit.learning_outcomes)
                 .selectinload(LearningOutcome.criteria),
                 selectinload(QualificationVersion.qualification)
                 .selectinload(Qualification.versions))
    )
    if version is None:
        query = query.order_by(QualificationVersion.version.desc()).limit(1)
    else:
        query = query.where(QualificationVersion.version == version)
    return session.scalar(query)


def sibling_versions(version: QualificationVersion,
                     centre_id: int | None) -> list[QualificationVersion]:
    """The versions of ``version``'s qualification that ``centre_id`` sees, oldest first."""
    return [v for v in version.qualification.versions if v.is_visible_to(centre_id)]


def spec_from_version(version: QualificationVersion) -> QualificationSpec:
    """The stored version as a :class:`QualificationSpec`, to export it as a catalogue file."""
    units = tuple(
        UnitSpec(
            number=u.number, urn=u.urn, title=u.title, level=u.level, credit=u.credit, glh=u.glh,
            learning_outcomes=tuple(
                OutcomeSpec(o.number, o.text, tuple(CriterionSpec(c.code, c.text)
                                                    for c in o.criteria))
                for o in u.learning_outcomes),
        )
        for u in version.units
    )
    rules = rules_from_document(version.rules)
    return QualificationSpec(
        qualification_number=version.qualification_number,
        awarding_organisation=version.awarding_organisation, title=version.title,
        level=version.level, size=version.size, credit_value=version.credit_value,
        glh_min=version.glh_min, glh_max=version.glh_max, tqt=version.tqt,
        key_dates={"operational_start": version.operational_start,
                   "operational_end": version.operational_end,
                   "certification_end": version.certification_end},
        unit_declarations=version.unit_declarations, rules=rules, units=units,
        structure=structure_of(units, rules),
        working_towards=WorkingTowards.from_document(version.working_towards),
    )


def resolve_units(version: QualificationVersion, tokens: Iterable[str]) -> list[str]:
    """Local unit numbers for tokens that are local numbers or URNs.

    A token that is neither, or a URN printed for more than one unit of the version, is refused.
    """
    by_number = {u.number: u for u in version.units}
    by_urn: dict[str, list[Unit]] = {}
    for unit in version.units:
        by_urn.setdefault(unit.urn.upper(), []).append(unit)
    numbers = []
    problems = []
    for raw in tokens:
        token = raw.strip()
        if not token:
            continue
        if token in by_number:
            numbers.append(token)
            continue
        matches = by_urn.get(token.upper(), [])
        if len(matches) == 1:
            numbers.append(matches[0].number)
        elif matches:
            listed = " and ".join(u.number for u in matches)
            problems.append(f"URN {token} is printed for units {listed}: give the unit number")
        else:
            problems.append(f"{token} is neither a unit number nor a URN in "
                            f"{version.qualification_number}")
    if problems:
        raise UnitLookupError("; ".join(problems))
    return numbers
