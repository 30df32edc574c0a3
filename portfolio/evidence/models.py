"""Evidence items, their stored files and the assessment criteria they claim."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.accounts.models import Enrolment
from portfolio.catalogue.models import Criterion
from portfolio.core.db import Base, UTCDateTime, utcnow

METHODS = {
    "observation": "Assessor observation",
    "witness_testimony": "Witness testimony",
    "product": "Product evidence",
    "professional_discussion": "Professional discussion",
    "questioning": "Questioning",
    "reflective_account": "Reflective account",
    "rpl": "Recognition of prior learning",
    "other": "Other",
}

SETTINGS = {
    "workplace": "Workplace",
    "realistic_work_environment": "Realistic work environment",
    "simulated": "Simulated",
}


class EvidenceItem(Base):
    __tablename__ = "evidence_items"
    __table_args__ = (
        sa.Index("ix_evidence_items_enrolment_id_created_at", "enrolment_id", "created_at"),
        sa.Index("ix_evidence_items_enrolment_id_updated_at", "enrolment_id", "updated_at"),
        sa.Index("ix_evidence_items_enrolment_id_awaiting", "enrolment_id",
                 "awaiting_decision_since"),
        # A portfolio's items newest evidence first, withdrawn or not, from the index alone: the
        # evidence list's page and count, and what progress keys its kept statuses on.
        sa.Index("ix_evidence_items_enrolment_id_evidence_date", "enrolment_id", "evidence_date",
                 "id", "withdrawn_at"),
        # The target of the claims' (item, enrolment) foreign key.
        sa.UniqueConstraint("id", "enrolment_id", name="uq_evidence_items_id_enrolment_id"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose portfolio, on which qualification.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    #: Short title.
    title: Mapped[str] = mapped_column(sa.String(200))
    #: What the evidence shows, in the learner's words.
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: When the evidence was produced (its currency).
    evidence_date: Mapped[dt.date]
    #: Assessment method, a key of :data:`METHODS`.
    method: Mapped[str] = mapped_column(sa.String(40))
    #: Where it was produced, a key of :data:`SETTINGS`.
    setting: Mapped[str] = mapped_column(sa.String(40))
    #: Witness name, for witness testimony.
    witness_name: Mapped[str | None] = mapped_column(sa.String(200))
    #: Witness job role.
    witness_role: Mapped[str | None] = mapped_column(sa.String(200))
    #: Witness relationship to the learner.
    witness_relationship: Mapped[str | None] = mapped_column(sa.String(200))
    #: Whether the witness is an expert witness.
    witness_is_expert: Mapped[bool] = mapped_column(default=False)
    #: When the learner declared the work their own.
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: When the item was created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Last change by the learner.
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the learner withdrew the item; withdrawn items are hidden, never deleted.
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When an assessor first judged the item; from then on nobody may change or remove it.
    judged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Since when a claim of the item has had no decision on it: the assessor's queue. Kept by
    #: the services that add claims or record decisions, so the caseload need not search them.
    awaiting_decision_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The judged item this one answers, when the learner resubmits after feedback.
    resubmission_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_items.id"))

    enrolment: Mapped[Enrolment] = relationship()
    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="item", order_by="EvidenceFile.id")
    claims: Mapped[list[CriterionClaim]] = relationship(
        back_populates="item", order_by="CriterionClaim.criterion_id",
        cascade="all, delete-orphan", foreign_keys="CriterionClaim.item_id")

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def is_judged(self) -> bool:
        return self.judged_at is not None

    @property
    def method_label(self) -> str:
        return METHODS.get(self.method, self.method)

    @property
    def setting_label(self) -> str:
        return SETTINGS.get(self.setting, self.setting)

    def __repr__(self) -> str:
        return f"<EvidenceItem {self.id} {self.title!r}>"


class EvidenceFile(Base):
    """A stored file. Uploaded first, then attached to an item when the learner submits; an
    upload never attached is swept with its objects after a grace period."""

    __tablename__ = "evidence_files"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The item, once attached.
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_items.id"), index=True)
    #: The enrolment the file was uploaded for.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    #: Who uploaded it.
    uploader_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: Object key of the original, byte for byte as uploaded; built by the server.
    object_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    #: SHA-256 of the original, computed while streaming.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    #: Size of the original in bytes.
    size: Mapped[int] = mapped_column(sa.BigInteger)
    #: Content type sniffed from the bytes (never the client's claim).
    content_type: Mapped[str] = mapped_column(sa.String(120))
    #: The file name the learner's device gave; display only.
    original_name: Mapped[str] = mapped_column(sa.String(255))
    #: Object key of the thumbnail (images only; metadata stripped).
    thumbnail_key: Mapped[str | None] = mapped_column(sa.String(200))
    #: Object key of the preview (images only; metadata stripped).
    preview_key: Mapped[str | None] = mapped_column(sa.String(200))
    #: When the upload finished.
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[EvidenceItem | None] = relationship(back_populates="files")
    enrolment: Mapped[Enrolment] = relationship()

    @property
    def is_image(self) -> bool:
        return self.thumbnail_key is not None

    @property
    def object_keys(self) -> list[str]:
        return [k for k in (self.object_key, self.thumbnail_key, self.preview_key) if k]

    def __repr__(self) -> str:
        return f"<EvidenceFile {self.id} {self.original_name!r}>"


class CriterionClaim(Base):
    """An evidence item's claim that it proves an assessment criterion."""

    __tablename__ = "criterion_claims"
    __table_args__ = (
        sa.UniqueConstraint("item_id", "criterion_id"),
        sa.ForeignKeyConstraint(["item_id", "enrolment_id"],
                                ["evidence_items.id", "evidence_items.enrolment_id"],
                                name="fk_criterion_claims_item_enrolment"),
        sa.Index("ix_criterion_claims_enrolment_id_criterion_id", "enrolment_id",
                 "criterion_id"),
        # A portfolio's claims counted, and its latest found, from the index alone (what
        # progress keys its kept statuses on).
        sa.Index("ix_criterion_claims_enrolment_id_created_at", "enrolment_id", "created_at",
                 "id"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The evidence item.
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_items.id"))
    #: The item's enrolment, repeated so that a portfolio's claims are counted from an index
    #: rather than through its items; set from the item on insert.
    enrolment_id: Mapped[int]
    #: The criterion claimed.
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criteria.id"), index=True)
    #: When the claim was made.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The assessor who mapped the item to this criterion; empty when the learner claimed it.
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    item: Mapped[EvidenceItem] = relationship(back_populates="claims", foreign_keys=[item_id])
    criterion: Mapped[Criterion] = relationship()

    def __repr__(self) -> str:
        return f"<CriterionClaim item={self.item_id} criterion={self.criterion_id}>"


@sa.event.listens_for(CriterionClaim, "before_insert")
def _claim_takes_its_items_enrolment(mapper, connection, claim: CriterionClaim) -> None:
    """A claim's enrolment is always its item's: taken from the item in this flush when the claim
    came with it, read from the database when only the item's id was given."""
    if claim.enrolment_id is not None:
        return
    item = claim.__dict__.get("item")
    claim.enrolment_id = (item.enrolment_id if item is not None else connection.scalar(
        sa.select(EvidenceItem.enrolment_id).where(EvidenceItem.id == claim.item_id)))
