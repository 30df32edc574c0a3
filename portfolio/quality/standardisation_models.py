"""The records of standardisation: a centre's assessors and IQAs judging the same evidence of a
qualification independently, then comparing their judgements.

Append-only like the rest of quality assurance. An activity is planned with its participants;
the lead adds the evidence discussed (a learner's item, its files' digests kept, or an exemplar
uploaded for the activity) with the criteria it is meant to show; each participant records one
judgement per piece of evidence and criterion, never changed (a second is refused by a unique
index); the round opens once, recorded by its own row, when the last participant has judged
everything or the lead closes it; minutes and agreed actions are added as rows after it.
(In their own module: ``models.py`` holds the sampling records and would pass 400 lines.)"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.accounts.models import User
from portfolio.catalogue.models import Criterion, Qualification
from portfolio.core.db import Base, UTCDateTime, utcnow
from portfolio.evidence.models import EvidenceItem

JUDGEMENT_OUTCOMES = {"met": "Met", "not_yet_met": "Not yet met"}


class StandardisationActivity(Base):
    """A standardisation meeting of a centre on one qualification, led by an IQA."""

    __tablename__ = "standardisation_activities"
    __table_args__ = (sa.Index("ix_standardisation_activities_centre_id_held_on",
                               "centre_id", "held_on"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The centre.
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"))
    #: The qualification standardised (every version of it).
    qualification_id: Mapped[int] = mapped_column(sa.ForeignKey("qualifications.id"))
    #: What it is about, as the list shows it.
    title: Mapped[str] = mapped_column(sa.String(200))
    #: The day it is held.
    held_on: Mapped[dt.date]
    #: The IQA who leads it: chooses the evidence, may close the round, records the minutes.
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: Who planned it (the lead or a centre admin).
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    qualification: Mapped[Qualification] = relationship()
    lead: Mapped[User] = relationship(foreign_keys=[lead_id])
    participants: Mapped[list[StandardisationParticipant]] = relationship(
        order_by="StandardisationParticipant.id")
    evidence: Mapped[list[StandardisationEvidence]] = relationship(
        order_by="StandardisationEvidence.id", back_populates="activity")
    opening: Mapped[StandardisationRoundOpening | None] = relationship()
    minutes: Mapped[list[StandardisationMinutes]] = relationship(
        order_by="StandardisationMinutes.id")
    actions: Mapped[list[StandardisationAction]] = relationship(
        order_by="StandardisationAction.id")

    @property
    def is_open(self) -> bool:
        """Whether the round is open: everyone may see everyone's judgements."""
        return self.opening is not None

    def __repr__(self) -> str:
        return f"<StandardisationActivity {self.id} {self.title!r} on {self.held_on}>"


class StandardisationParticipant(Base):
    """An assessor or IQA invited to judge (the lead is one too)."""

    __tablename__ = "standardisation_participants"
    __table_args__ = (sa.UniqueConstraint("activity_id", "user_id"),
                      sa.Index("ix_standardisation_participants_user_id", "user_id"))

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The activity.
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey(
        "standardisation_activities.id", name="fk_standardisation_participants_activity"))
    #: The person.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When they were invited.
    invited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<StandardisationParticipant activity={self.activity_id} user={self.user_id}>"


class StandardisationEvidence(Base):
    """A piece of evidence discussed: a learner's item (with the SHA-256 of its files when
    added) or an exemplar file uploaded for the activity, stored under a key the server built."""

    __tablename__ = "standardisation_evidence"
    __table_args__ = (
        sa.UniqueConstraint("activity_id", "item_id"),
        sa.CheckConstraint("(item_id IS NULL) <> (object_key IS NULL)",
                           name="item_or_exemplar"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The activity.
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey(
        "standardisation_activities.id", name="fk_standardisation_evidence_activity"))
    #: The learner's item; None for an exemplar.
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_items.id"))
    #: How the activity names it (the item's title, or the exemplar's as the lead gave it).
    title: Mapped[str] = mapped_column(sa.String(200))
    #: SHA-256 of every file of the item when added (empty for an exemplar).
    file_hashes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: The exemplar's object key, built by the server; None for an item.
    object_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    #: The exemplar's SHA-256, computed while streaming.
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    #: The exemplar's size in bytes.
    size: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: The exemplar's content type, sniffed from its bytes.
    content_type: Mapped[str | None] = mapped_column(sa.String(120))
    #: The exemplar's file name as the lead's device gave it; display only.
    original_name: Mapped[str | None] = mapped_column(sa.String(255))
    #: The exemplar's thumbnail and preview (images only; metadata stripped).
    thumbnail_key: Mapped[str | None] = mapped_column(sa.String(200))
    preview_key: Mapped[str | None] = mapped_column(sa.String(200))
    #: Who added it (the lead).
    added_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    activity: Mapped[StandardisationActivity] = relationship(back_populates="evidence")
    item: Mapped[EvidenceItem | None] = relationship()
    criteria: Mapped[list[StandardisationCriterion]] = relationship(
        order_by="StandardisationCriterion.id")

    @property
    def is_exemplar(self) -> bool:
        return self.item_id is None

    @property
    def object_keys(self) -> list[str]:
        return [k for k in (self.object_key, self.thumbnail_key, self.preview_key) if k]

    def __repr__(self) -> str:
        return f"<StandardisationEvidence {self.id} activity={self.activity_id} {self.title!r}>"


class StandardisationCriterion(Base):
    """A criterion a piece of evidence is meant to show: each participant judges each."""

    __tablename__ = "standardisation_criteria"
    __table_args__ = (sa.UniqueConstraint("evidence_id", "criterion_id"),)

    #: Primary key; the criteria of a piece of evidence read in this order.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The evidence.
    evidence_id: Mapped[int] = mapped_column(sa.ForeignKey(
        "standardisation_evidence.id", name="fk_standardisation_criteria_evidence"))
    #: The criterion.
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criteria.id"))

    criterion: Mapped[Criterion] = relationship()

    def __repr__(self) -> str:
        return f"<StandardisationCriterion evidence={self.evidence_id} {self.criterion_id}>"


class StandardisationJudgement(Base):
    """One participant's independent judgement of one criterion of one piece of evidence.
    Recorded once: the unique index refuses a second."""

    __tablename__ = "standardisation_judgements"
    __table_args__ = (
        sa.UniqueConstraint("evidence_id", "criterion_id", "judge_id"),
        sa.CheckConstraint("outcome IN ('met', 'not_yet_met')", name="known_outcome"),
        sa.ForeignKeyConstraint(["evidence_id", "criterion_id"],
                                ["standardisation_criteria.evidence_id",
                                 "standardisation_criteria.criterion_id"],
                                name="fk_standardisation_judgements_criterion"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The evidence judged.
    evidence_id: Mapped[int]
    #: The criterion judged (one the evidence is meant to show).
    criterion_id: Mapped[int]
    #: The participant.
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: ``met`` or ``not_yet_met``.
    outcome: Mapped[str] = mapped_column(sa.String(20))
    #: Why, in the participant's words.
    rationale: Mapped[str] = mapped_column(sa.Text)
    #: When.
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    judge: Mapped[User] = relationship()

    @property
    def outcome_label(self) -> str:
        return JUDGEMENT_OUTCOMES[self.outcome]

    def __repr__(self) -> str:
        return (f"<StandardisationJudgement evidence={self.evidence_id} "
                f"criterion={self.criterion_id} judge={self.judge_id} {self.outcome}>")


class StandardisationRoundOpening(Base):
    """The moment the judgements became visible to every participant: the last judgement
    completed the round, or the lead closed it. At most one per activity."""

    __tablename__ = "standardisation_round_openings"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The activity; opened once.
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey(
        "standardisation_activities.id", name="fk_standardisation_round_openings_activity"),
                                             unique=True)
    #: Whether the lead closed the round before everyone had judged everything.
    closed_by_lead: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Who opened it: the lead, or the participant whose judgement completed the round.
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<StandardisationRoundOpening activity={self.activity_id} at {self.at}>"


class StandardisationMinutes(Base):
    """Minutes the lead records, in parts; a later part adds to the earlier ones."""

    __tablename__ = "standardisation_minutes"
    __table_args__ = (sa.Index("ix_standardisation_minutes_activity_id", "activity_id"),)

    #: Primary key; an activity's minutes read in this order.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The activity.
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey(
        "standardisation_activities.id", name="fk_standardisation_minutes_activity"))
    #: What was discussed and decided.
    text: Mapped[str] = mapped_column(sa.Text)
    #: Who recorded it.
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<StandardisationMinutes {self.id} activity={self.activity_id}>"


class StandardisationAction(Base):
    """Something the participants agreed someone does by a day."""

    __tablename__ = "standardisation_actions"
    __table_args__ = (sa.Index("ix_standardisation_actions_activity_id", "activity_id"),
                      sa.Index("ix_standardisation_actions_owner_id", "owner_id"))

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The activity.
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey(
        "standardisation_activities.id", name="fk_standardisation_actions_activity"))
    #: What to do.
    text: Mapped[str] = mapped_column(sa.Text)
    #: Who does it (a participant).
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: By when.
    due_on: Mapped[dt.date]
    #: Who recorded it (the lead).
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])

    def __repr__(self) -> str:
        return f"<StandardisationAction {self.id} activity={self.activity_id} due {self.due_on}>"
