"""An enrolment's history: who held it as assessor or IQA when, and its breaks in learning
(kept apart from ``models`` so that each module stays readable)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.accounts.models import User
from portfolio.core.db import Base, UTCDateTime, utcnow


class EnrolmentAssignment(Base):
    """Who held an enrolment as its assessor or IQA, and when: one row per holder, opened when
    they took it (at enrolment or a move) and closed when it moved on. Never deleted."""

    __tablename__ = "enrolment_assignments"
    __table_args__ = (
        sa.CheckConstraint("role IN ('assessor', 'iqa')", name="known_role"),
        sa.Index("ix_enrolment_assignments_enrolment_role", "enrolment_id", "role"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The enrolment held.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    #: ``assessor`` or ``iqa``.
    role: Mapped[str] = mapped_column(sa.String(20))
    #: The holder.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When they took it.
    from_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it moved on; none while they hold it.
    to_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Who assigned it; none for the system (the migration's backfill).
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<EnrolmentAssignment {self.role} user={self.user_id} enrolment={self.enrolment_id}>"


class EnrolmentBreak(Base):
    """A break in learning: while one is open (no end day, or an end day still to come) the
    enrolment is on a break. Recorded, ended, never deleted."""

    __tablename__ = "enrolment_breaks"
    __table_args__ = (
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The enrolment paused.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    #: First day of the break.
    starts_on: Mapped[dt.date]
    #: Last day of the break; none while the return is not known.
    ends_on: Mapped[dt.date | None]
    #: Why (illness, caring, work): shown to the learner's staff.
    reason: Mapped[str] = mapped_column(sa.Text)
    #: Who recorded it.
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When it was recorded.
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def is_open_on(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def __repr__(self) -> str:
        return f"<EnrolmentBreak enrolment={self.enrolment_id} from {self.starts_on}>"
