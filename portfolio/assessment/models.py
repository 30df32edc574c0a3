"""Assessment records: criterion decisions, unit declarations, sign-offs, unlocks and pathways.

Every record here is append-only. A decision is never edited: a newer one supersedes it, and the
database itself keeps the chain linear (at most one first decision per criterion, and each
decision superseded at most once), so two assessors deciding at the same moment cannot both win.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.accounts.models import User
from portfolio.catalogue.models import Criterion, Unit
from portfolio.core.db import Base, UTCDateTime, utcnow
from portfolio.evidence.models import EvidenceItem

OUTCOMES = {"met": "Met", "not_yet_met": "Not yet met"}
SIGN_OFF_METHODS = {
    "assessment": "Assessed",
    "rpl": "Recognition of prior learning",
    "credit_transfer": "Credit transfer",
}


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        # One chain per criterion of an enrolment: a single first decision...
        sa.Index("uq_decisions_first_per_criterion", "enrolment_id", "criterion_id", unique=True,
                 sqlite_where=sa.text("supersedes_id IS NULL"),
                 postgresql_where=sa.text("supersedes_id IS NULL")),
        sa.Index("ix_decisions_enrolment_id_item_id", "enrolment_id", "item_id"),
        sa.Index("ix_decisions_enrolment_id_decided_at", "enrolment_id", "decided_at"),
        # A portfolio's latest decision, which says whether what was counted from its decisions
        # still holds, in one probe.
        sa.Index("ix_decisions_enrolment_id_id", "enrolment_id", "id"),
        sa.CheckConstraint("outcome IN ('met', 'not_yet_met')", name="known_outcome"),
        # The target of quality's sampled decisions, which repeat the assessor to keep an IQA
        # from sampling their own decision.
        sa.UniqueConstraint("id", "assessor_id", name="uq_decisions_id_assessor_id"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose portfolio.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    #: The criterion decided.
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criteria.id"))
    #: The criterion's unit, repeated for per-unit queries.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    #: The evidence item judged.
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_items.id"))
    #: The assessor.
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: When.
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: ``met`` or ``not_yet_met``.
    outcome: Mapped[str] = mapped_column(sa.String(20))
    #: Feedback the learner can act on (required when not yet met).
    feedback: Mapped[str] = mapped_column(sa.Text, default="")
    #: SHA-256 of every file of the item at the time of judging.
    file_hashes: Mapped[list[str]] = mapped_column(sa.JSON)
    #: The decision this one replaces; each decision is replaced at most once.
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("decisions.id"), unique=True)
    #: Why the earlier decision was replaced.
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    #: Made by an assessor working towards their qualification where it must be countersigned:
    #: provisional until a qualified assessor countersigns it (:class:`Countersignature`).
    needs_countersignature: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    assessor: Mapped[User] = relationship()
    criterion: Mapped[Criterion] = relationship()
    item: Mapped[EvidenceItem] = relationship()

    @property
    def outcome_label(self) -> str:
        return OUTCOMES[self.outcome]

    def __repr__(self) -> str:
        return f"<Decision {self.id} {self.outcome} criterion={self.criterion_id}>"


class ItemFeedback(Base):
    """An assessor's feedback on an evidence item as a whole, beside the per-criterion decisions.
    Append-only like them: later feedback is added below, never edited."""

    __tablename__ = "item_feedback"
    __table_args__ = (sa.Index("ix_item_feedback_item_id_id", "item_id", "id"),)

    #: Primary key; feedback on an item reads in this order.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose portfolio.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    #: The evidence item.
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_items.id"))
    #: The assessor.
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: What the learner reads.
    text: Mapped[str] = mapped_column(sa.Text)

    assessor: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ItemFeedback {self.id} item={self.item_id}>"


class UnitDeclaration(Base):
    """A learner's declaration that a unit's work is their own (qualifications that ask for it)."""

    __tablename__ = "unit_declarations"
    __table_args__ = (sa.Index("ix_unit_declarations_enrolment_id_unit_id", "enrolment_id",
                               "unit_id"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose portfolio.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    #: The unit declared.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    #: The learner.
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<UnitDeclaration unit={self.unit_id} enrolment={self.enrolment_id}>"


class UnitSignOff(Base):
    """A unit achieved: signed off by the assessor after assessment, RPL or credit transfer."""

    __tablename__ = "unit_sign_offs"
    __table_args__ = (
        sa.Index("ix_unit_sign_offs_enrolment_id_unit_id", "enrolment_id", "unit_id"),
        # The few that wait for a countersignature, by portfolio and time: the IQA trail counts a
        # centre's without reading every sign-off.
        sa.Index("ix_unit_sign_offs_enrolment_id_signed_at", "enrolment_id", "signed_at",
                 sqlite_where=sa.text("needs_countersignature"),
                 postgresql_where=sa.text("needs_countersignature")),
        sa.CheckConstraint("method IN ('assessment', 'rpl', 'credit_transfer')",
                           name="known_method"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose portfolio.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    #: The unit.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    #: ``assessment``, ``rpl`` or ``credit_transfer``.
    method: Mapped[str] = mapped_column(sa.String(20))
    #: The assessor who signed (and, with a declaration, countersigned).
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The learner's declaration countersigned, where the qualification needs one.
    declaration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit_declarations.id"))
    #: RPL evidence or the credit-transfer certificate (awarding body, number, date).
    details: Mapped[str] = mapped_column(sa.Text, default="")
    #: Supporting evidence item for RPL, when there is one.
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_items.id"))
    #: Made by an assessor working towards their qualification where it must be countersigned:
    #: provisional until a qualified assessor countersigns it (:class:`Countersignature`).
    needs_countersignature: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    assessor: Mapped[User] = relationship()
    unlock: Mapped[UnitUnlock | None] = relationship(back_populates="sign_off")
    unit: Mapped[Unit] = relationship()

    @property
    def method_label(self) -> str:
        return SIGN_OFF_METHODS[self.method]

    def __repr__(self) -> str:
        return f"<UnitSignOff unit={self.unit_id} enrolment={self.enrolment_id} {self.method}>"


class Countersignature(Base):
    """A qualified assessor countersigning a decision or a sign-off made by one working towards
    their qualification: from then on it counts."""

    __tablename__ = "countersignatures"
    __table_args__ = (
        sa.CheckConstraint("(decision_id IS NULL) <> (sign_off_id IS NULL)",
                           name="decision_or_sign_off"),
        # A portfolio's latest countersignature in one probe: what progress counts changes with it.
        sa.Index("ix_countersignatures_enrolment_id_id", "enrolment_id", "id"),
        # A centre's countersigned decisions from the index alone, through its enrolments (the
        # IQA trail), rather than a probe per decision or a read of every countersignature.
        sa.Index("ix_countersignatures_enrolment_id_decision_id", "enrolment_id", "decision_id",
                 sqlite_where=sa.text("decision_id IS NOT NULL"),
                 postgresql_where=sa.text("decision_id IS NOT NULL")),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose portfolio: the decision's or the sign-off's, set from it on insert.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    #: The decision countersigned; each at most once.
    decision_id: Mapped[int | None] = mapped_column(sa.ForeignKey("decisions.id"), unique=True)
    #: Or the sign-off countersigned; each at most once.
    sign_off_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit_sign_offs.id"),
                                                    unique=True)
    #: The qualified assessor.
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: When.
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return (f"<Countersignature decision={self.decision_id} sign_off={self.sign_off_id} "
                f"by={self.by_id}>")


class UnitUnlock(Base):
    """A centre admin reopening a signed-off unit, with the reason."""

    __tablename__ = "unit_unlocks"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The sign-off withdrawn; each is unlocked at most once.
    sign_off_id: Mapped[int] = mapped_column(sa.ForeignKey("unit_sign_offs.id"), unique=True)
    #: The centre admin.
    admin_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: Why.
    reason: Mapped[str] = mapped_column(sa.Text)
    #: When.
    unlocked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    sign_off: Mapped[UnitSignOff] = relationship(back_populates="unlock")
    admin: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UnitUnlock sign_off={self.sign_off_id}>"


class PathwayChoice(Base):
    """The units a learner intends to achieve (their pathway), as chosen by them or their assessor
    at one time. Append-only: the latest choice of an enrolment is its pathway, the earlier ones
    are its history."""

    __tablename__ = "pathway_choices"
    __table_args__ = (sa.Index("ix_pathway_choices_enrolment_id_id", "enrolment_id", "id"),)

    #: Primary key; the highest of an enrolment is its current pathway.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose portfolio.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    #: The unit numbers chosen, mandatory ones included, in document order.
    units: Mapped[list[str]] = mapped_column(sa.JSON)
    #: The learner or assessor who chose.
    chosen_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    chosen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    chosen_by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<PathwayChoice {self.id} enrolment={self.enrolment_id} units={self.units}>"


@sa.event.listens_for(Countersignature, "before_insert")
def _countersignature_takes_its_portfolio(mapper, connection, countersignature) -> None:
    """A countersignature's enrolment is always that of what it countersigns."""
    if countersignature.enrolment_id is None:
        countersigned = (sa.select(Decision.enrolment_id)
                         .where(Decision.id == countersignature.decision_id)
                         if countersignature.decision_id is not None else
                         sa.select(UnitSignOff.enrolment_id)
                         .where(UnitSignOff.id == countersignature.sign_off_id))
        countersignature.enrolment_id = connection.scalar(countersigned)
