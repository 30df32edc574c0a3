"""Qualifications, their versions, units, learning outcomes and assessment criteria.

A qualification (identified by its QN) has one or more immutable versions: importing a changed
catalogue file adds a version, so learners enrolled on an earlier version keep exactly the structure
they registered against. Units are keyed by (version, local number); URNs are data.

The catalogue is shared by every centre, so a version has an owner: none for the global versions
(built in, or imported by the platform operator through the command line), or the centre whose
admin imported it on the web, which alone sees it (:func:`visible_to`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.catalogue.spec import MAX_LENGTHS
from portfolio.core.db import Base, UTCDateTime, utcnow


class Qualification(Base):
    __tablename__ = "qualifications"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Ofqual qualification number, e.g. ``600/1636/X``.
    qualification_number: Mapped[str] = mapped_column(sa.String(16), unique=True)

    versions: Mapped[list[QualificationVersion]] = relationship(
        back_populates="qualification", order_by="QualificationVersion.version")

    def __repr__(self) -> str:
        return f"<Qualification {self.qualification_number}>"


class QualificationVersion(Base):
    __tablename__ = "qualification_versions"
    __table_args__ = (
        sa.UniqueConstraint("qualification_id", "version"),
        sa.CheckConstraint("glh_min <= glh_max", name="glh_range"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The qualification this is a version of.
    qualification_id: Mapped[int] = mapped_column(sa.ForeignKey("qualifications.id"), index=True)
    #: 1 for the first import, then one more for each changed import, global or private.
    version: Mapped[int]
    #: The centre that imported this version and alone sees it; NULL for a global version.
    #: (A string reference: the catalogue sits below accounts, which owns centres.)
    centre_id: Mapped[int | None] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    #: SHA-256 of the canonical content, to recognise a re-import of the same file.
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    #: Awarding organisation, e.g. ``Pearson``.
    awarding_organisation: Mapped[str] = mapped_column(
        sa.String(MAX_LENGTHS["awarding_organisation"]))
    #: Full title as printed.
    title: Mapped[str] = mapped_column(sa.String(MAX_LENGTHS["title"]))
    #: Qualification level (1-8).
    level: Mapped[int]
    #: award, certificate or diploma.
    size: Mapped[str] = mapped_column(sa.String(20))
    #: Credit value of the qualification.
    credit_value: Mapped[int]
    #: Guided learning hours; equal bounds when the document prints a single figure.
    glh_min: Mapped[int]
    #: Upper bound of the GLH range.
    glh_max: Mapped[int]
    #: Total qualification time, when printed.
    tqt: Mapped[int | None]
    #: First date of registration, when printed.
    operational_start: Mapped[dt.date | None]
    #: No new registrations after this date.
    operational_end: Mapped[dt.date | None]
    #: No certification claims after this date.
    certification_end: Mapped[dt.date | None]
    #: Whether each unit needs a learner declaration countersigned by the assessor (NCFE NVQs).
    unit_declarations: Mapped[bool] = mapped_column(default=False)
    #: What the document says of assessors and IQAs working towards their own qualification, as
    #: :class:`portfolio.catalogue.spec.WorkingTowards` writes it; NULL when it says nothing.
    working_towards: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    #: The rules of combination, as :func:`portfolio.catalogue.spec.rules_document` writes them.
    rules: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: When this version was imported.
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    qualification: Mapped[Qualification] = relationship(back_populates="versions")
    units: Mapped[list[Unit]] = relationship(
        back_populates="version", order_by="Unit.position", cascade="all, delete-orphan")

    @property
    def qualification_number(self) -> str:
        return self.qualification.qualification_number

    @property
    def glh_display(self) -> str:
        return str(self.glh_min) if self.glh_min == self.glh_max else f"{self.glh_min}-{self.glh_max}"

    def is_visible_to(self, centre_id: int | None) -> bool:
        return self.centre_id is None or self.centre_id == centre_id

    def is_open_for_registration(self, today: dt.date) -> bool:
        return self.operational_end is None or today <= self.operational_end

    def __repr__(self) -> str:
        return f"<QualificationVersion {self.qualification_id} v{self.version}>"


def visible_to(centre_id: int | None) -> sa.ColumnElement[bool]:
    """The versions ``centre_id`` may see: the global ones and its own (only the global ones for
    None, the operator's view)."""
    visible = QualificationVersion.centre_id.is_(None)
    if centre_id is None:
        return visible
    return sa.or_(visible, QualificationVersion.centre_id == centre_id)


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        sa.UniqueConstraint("version_id", "number"),
        sa.UniqueConstraint("version_id", "position"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The qualification version this unit belongs to.
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("qualification_versions.id"))
    #: Order in the document, from 0.
    position: Mapped[int]
    #: Local number as printed (``301``, ``01``, ``16``).
    number: Mapped[str] = mapped_column(sa.String(MAX_LENGTHS["number"]))
    #: Ofqual unit reference number, as printed; not unique (documents repeat them).
    urn: Mapped[str] = mapped_column(sa.String(MAX_LENGTHS["urn"]), index=True)
    #: Title as printed.
    title: Mapped[str] = mapped_column(sa.String(MAX_LENGTHS["title"]))
    #: Unit level (1-8).
    level: Mapped[int]
    #: Credit value.
    credit: Mapped[int]
    #: Guided learning hours, when printed.
    glh: Mapped[int | None]

    version: Mapped[QualificationVersion] = relationship(back_populates="units")
    learning_outcomes: Mapped[list[LearningOutcome]] = relationship(
        back_populates="unit", order_by="LearningOutcome.position", cascade="all, delete-orphan")

    @property
    def criteria_count(self) -> int:
        return sum(len(o.criteria) for o in self.learning_outcomes)

    def __repr__(self) -> str:
        return f"<Unit {self.number} of version {self.version_id}>"


class LearningOutcome(Base):
    __tablename__ = "learning_outcomes"
    __table_args__ = (sa.UniqueConstraint("unit_id", "position"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unit this outcome belongs to.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    #: Order in the unit, from 0.
    position: Mapped[int]
    #: Number as printed.
    number: Mapped[int]
    #: Wording as printed.
    text: Mapped[str] = mapped_column(sa.Text)

    unit: Mapped[Unit] = relationship(back_populates="learning_outcomes")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="outcome", order_by="Criterion.position", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<LearningOutcome {self.number} of unit {self.unit_id}>"


class Criterion(Base):
    """An assessment criterion, keyed by its position in the unit: printed codes can repeat."""

    __tablename__ = "criteria"
    __table_args__ = (sa.UniqueConstraint("unit_id", "position"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unit, repeated here so that a unit's criteria are one indexed lookup.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    #: The learning outcome this criterion belongs to.
    outcome_id: Mapped[int] = mapped_column(sa.ForeignKey("learning_outcomes.id"), index=True)
    #: Order in the unit, from 0 (not in the outcome), so it is unique per unit.
    position: Mapped[int]
    #: Code as printed, e.g. ``2.3``.
    code: Mapped[str] = mapped_column(sa.String(MAX_LENGTHS["code"]))
    #: Wording as printed.
    text: Mapped[str] = mapped_column(sa.Text)

    outcome: Mapped[LearningOutcome] = relationship(back_populates="criteria")
    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<Criterion {self.code} (#{self.position}) of unit {self.unit_id}>"
