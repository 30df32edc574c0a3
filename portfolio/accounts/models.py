"""Centres, users with their roles, login attempts and enrolments."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.catalogue.models import QualificationVersion
from portfolio.core.db import Base, UTCDateTime, utcnow

ROLE_LABELS = {
    "learner": "Learner",
    "assessor": "Assessor",
    "iqa": "Internal quality assurer",
    "centre_admin": "Centre admin",
}


class Centre(Base):
    """An assessment centre; one installation can host several, which never see each other."""

    __tablename__ = "centres"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Display name.
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    #: When the centre was created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Centre {self.name!r}>"


class User(UserMixin, Base):
    """A person in one centre. Learners hold only the learner role; staff may hold several
    (a small centre's IQA often assesses other learners)."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "NOT (is_learner AND (is_assessor OR is_iqa OR is_centre_admin))",
            name="learner_is_not_staff"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The centre the user belongs to.
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    #: Login name, stored lower-case; unique across the installation.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    #: Name shown to others.
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Argon2id hash of the password.
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    #: Holds the learner role.
    is_learner: Mapped[bool] = mapped_column(default=False)
    #: Holds the assessor role.
    is_assessor: Mapped[bool] = mapped_column(default=False)
    #: Holds the internal quality assurer role.
    is_iqa: Mapped[bool] = mapped_column(default=False)
    #: Holds the centre admin role.
    is_centre_admin: Mapped[bool] = mapped_column(default=False)
    #: Deactivated users cannot log in; they are never deleted (their decisions stay attributed).
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: When the account was created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Last successful login.
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    centre: Mapped[Centre] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled

    @property
    def roles(self) -> list[str]:
        return [role for role in ROLE_LABELS if getattr(self, f"is_{role}")]

    @property
    def role_labels(self) -> str:
        return ", ".join(ROLE_LABELS[role] for role in self.roles)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class LoginAttempt(Base):
    """Every login attempt, for throttling per account and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        sa.Index("ix_login_attempts_email_at", "email", "attempted_at"),
        sa.Index("ix_login_attempts_address_at", "address", "attempted_at"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The email typed (lower-case), whether or not an account has it.
    email: Mapped[str] = mapped_column(sa.String(254))
    #: Client address.
    address: Mapped[str] = mapped_column(sa.String(64))
    #: Whether the password was right.
    succeeded: Mapped[bool]
    #: When.
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<LoginAttempt {self.email} {self.succeeded}>"


class Enrolment(Base):
    """A learner registered on one version of a qualification, with an assessor and an IQA."""

    __tablename__ = "enrolments"
    __table_args__ = (
        sa.UniqueConstraint("centre_id", "registration_number"),
        sa.CheckConstraint("assessor_id <> iqa_id", name="iqa_is_not_assessor"),
        sa.CheckConstraint("planned_end_date >= start_date", name="dates_in_order"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The centre (always the learner's).
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    #: The learner.
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: The qualification version registered on; later catalogue versions do not move it.
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("qualification_versions.id"))
    #: The qualification, repeated so that one active enrolment per qualification is checkable.
    qualification_id: Mapped[int] = mapped_column(sa.ForeignKey("qualifications.id"))
    #: Awarding organisation registration number.
    registration_number: Mapped[str] = mapped_column(sa.String(40))
    #: Start of the programme.
    start_date: Mapped[dt.date]
    #: Planned end of the programme.
    planned_end_date: Mapped[dt.date]
    #: The learner's assessor.
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: The learner's internal quality assurer (never the assessor).
    iqa_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: When the enrolment was created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the enrolment ended (completed or withdrawn); open enrolments have none.
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    assessor: Mapped[User] = relationship(foreign_keys=[assessor_id])
    iqa: Mapped[User] = relationship(foreign_keys=[iqa_id])
    version: Mapped[QualificationVersion] = relationship()

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    def __repr__(self) -> str:
        return f"<Enrolment {self.registration_number} learner={self.learner_id}>"
