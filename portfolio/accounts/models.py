"""Centres, users with their roles, login sessions, login attempts and throttles, and
enrolments."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

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
    """A person in one centre, holding roles through :class:`RoleGrant` rows. Learners hold only
    the learner role; staff may hold several (a small centre's IQA often assesses other learners).
    That rule is kept by ``accounts.services.grant_role``, the one place grants are made."""

    __tablename__ = "users"

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
    #: Deactivated users cannot log in; they are never deleted (their decisions stay attributed).
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: When the account was created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Last successful login.
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    centre: Mapped[Centre] = relationship()
    #: Every grant the user has had, expired ones included. Loaded on first use (one query for
    #: the current user); pages listing people's roles load them with ``selectinload``, so that
    #: users loaded only for their names (decisions' assessors) cost nothing.
    grants: Mapped[list[RoleGrant]] = relationship(
        foreign_keys="RoleGrant.user_id", back_populates="user", order_by="RoleGrant.id")

    #: The token of the login session this user was loaded through (not a column): Flask-Login
    #: keeps it in the signed cookie, so that ending the session on the server ends every copy.
    login_token = None

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled

    def get_id(self) -> str | None:
        return self.login_token

    def holds(self, role: str, centre_id: int | None = None, *,
              scope: tuple[str, int] | None = None, at: dt.datetime | None = None) -> bool:
        """Whether the user holds ``role`` in ``centre_id`` (default: their own centre) at ``at``
        (default: now). With no ``scope`` only unscoped grants count; with one, an unscoped grant
        or a grant of exactly that scope, such as ``("learner", 12)``."""
        centre_id = self.centre_id if centre_id is None else centre_id
        at = at or utcnow()
        return any(grant.role == role and grant.centre_id == centre_id and grant.is_active_at(at)
                   and grant.covers(scope) for grant in self.grants)

    @classmethod
    def holding(cls, role: str, centre_id: int, at: dt.datetime | None = None) -> sa.ColumnElement:
        """The SQL counterpart of :meth:`holds` for unscoped grants, to filter users by role:
        ``sa.select(User).where(User.holding("assessor", centre_id))``."""
        at = at or utcnow()
        return sa.exists().where(
            RoleGrant.user_id == cls.id, RoleGrant.role == role,
            RoleGrant.centre_id == centre_id, RoleGrant.scope_type.is_(None),
            sa.or_(RoleGrant.expires_at.is_(None), RoleGrant.expires_at > at))

    @property
    def is_learner(self) -> bool:
        return self.holds("learner")

    @property
    def is_assessor(self) -> bool:
        return self.holds("assessor")

    @property
    def is_iqa(self) -> bool:
        return self.holds("iqa")

    @property
    def is_centre_admin(self) -> bool:
        return self.holds("centre_admin")

    @property
    def roles(self) -> list[str]:
        """The roles held, unscoped, in the user's own centre now."""
        return self.roles_in(self.centre_id)

    def roles_in(self, centre_id: int) -> list[str]:
        """The roles held, unscoped, in ``centre_id`` now."""
        return [role for role in ROLE_LABELS if self.holds(role, centre_id)]

    @property
    def role_labels(self) -> str:
        return self.role_labels_in(self.centre_id)

    def role_labels_in(self, centre_id: int) -> str:
        return ", ".join(ROLE_LABELS[role] for role in self.roles_in(centre_id))

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class RoleGrant(Base):
    """A role held by a user in one centre, optionally only over one object (an external quality
    assurer sees chosen learners) and optionally until a time. Grants are made by
    ``accounts.services.grant_role``; an expired grant stays as the record that it existed."""

    __tablename__ = "role_grants"
    __table_args__ = (
        sa.CheckConstraint("role IN ('learner', 'assessor', 'iqa', 'centre_admin')",
                           name="known_role"),
        sa.CheckConstraint("(scope_type IS NULL AND scope_id IS NULL)"
                           " OR (scope_type IS NOT NULL AND scope_id IS NOT NULL)",
                           name="scope_complete"),
        # A centre's assessors, IQAs... (the trail's filter, the people lists).
        sa.Index("ix_role_grants_centre_id_role", "centre_id", "role"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The user holding the role.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: The centre in which the role is held.
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"))
    #: One of ``ROLE_LABELS``.
    role: Mapped[str] = mapped_column(sa.String(20))
    #: What the grant is limited to, such as ``learner`` or ``qualification``; none for the whole
    #: centre.
    scope_type: Mapped[str | None] = mapped_column(sa.String(20))
    #: The id of the object the grant is limited to (set exactly when ``scope_type`` is).
    scope_id: Mapped[int | None]
    #: When the grant stops counting; none for never.
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the grant was made.
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who made the grant; none for grants made by the system (the command line, migrations).
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], back_populates="grants")
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])

    @property
    def scope(self) -> tuple[str, int] | None:
        return None if self.scope_type is None else (self.scope_type, self.scope_id)

    def is_active_at(self, at: dt.datetime) -> bool:
        return self.expires_at is None or self.expires_at > at

    def covers(self, scope: tuple[str, int] | None) -> bool:
        """An unscoped grant covers everything; a scoped one only exactly its own scope."""
        return self.scope is None or self.scope == scope

    def __repr__(self) -> str:
        scope = f" {self.scope_type}={self.scope_id}" if self.scope_type else ""
        return f"<RoleGrant {self.role} user={self.user_id} centre={self.centre_id}{scope}>"


class LoginSession(Base):
    """One login: its random token lives in the signed session cookie, and only its digest here.
    A request is let in only while its session has not ended, so logging out, changing the
    password or being deactivated ends every copy of the cookie."""

    __tablename__ = "login_sessions"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token, so a copy of this table opens no session.
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Whose session.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: Client address at login.
    address: Mapped[str] = mapped_column(sa.String(64))
    #: When the user logged in.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Last request seen (updated at most every few minutes).
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the session was ended (logout, password change, deactivation); none while open.
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id}>"


class LoginThrottle(Base):
    """A counter of failed logins, locked while a password is checked so that simultaneous
    attempts count one after the other. One row per typed email and address, one per address
    (``email`` empty: spraying across accounts) and one per email (``address`` empty: guessing
    from many addresses)."""

    __tablename__ = "login_throttles"
    __table_args__ = (sa.UniqueConstraint("email", "address"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The email typed (lower-case), or empty for every email.
    email: Mapped[str] = mapped_column(sa.String(254))
    #: The client address, or empty for every address.
    address: Mapped[str] = mapped_column(sa.String(64))
    #: Failures since the last success (forgotten after a quiet day).
    failures: Mapped[int] = mapped_column(default=0)
    #: The last failure counted.
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: No password is checked before this time.
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Last success for this email from this address: the owner's usual address.
    succeeded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<LoginThrottle {self.email or '*'} from {self.address or '*'}: {self.failures}>"


class LoginAttempt(Base):
    """Every login attempt, kept as the record of who tried what from where."""

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
    #: Whether the password was checked at all (throttled attempts are refused unchecked).
    password_checked: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
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
        sa.CheckConstraint("status IN ('open', 'withdrawn', 'completed')", name="known_status"),
        sa.CheckConstraint("(status = 'open') = (ended_at IS NULL)", name="ended_when_closed"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The centre registering the learner (one where they hold the learner role).
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
    #: When the enrolment ended (completed or withdrawn) was recorded; open enrolments have none.
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: ``open``, ``withdrawn`` or ``completed``; set with ``ended_at`` by
    #: ``accounts.enrolments``, never back to ``open`` (nothing is deleted or reopened).
    status: Mapped[str] = mapped_column(sa.String(20), default="open", server_default="open")
    #: The day the learner left or completed, as the centre reports it to the awarding body.
    ended_on: Mapped[dt.date | None]
    #: Why the learner withdrew (empty for a completion).
    ended_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    assessor: Mapped[User] = relationship(foreign_keys=[assessor_id])
    iqa: Mapped[User] = relationship(foreign_keys=[iqa_id])
    version: Mapped[QualificationVersion] = relationship()

    @property
    def is_open(self) -> bool:
        """Whether the learner's record may still change: an ended enrolment is read-only."""
        return self.ended_at is None

    def __repr__(self) -> str:
        return f"<Enrolment {self.registration_number} learner={self.learner_id}>"


#: What an enrolment's pages show besides its row: its learner and qualification version.
_ENROLMENT_PAGE = (joinedload(Enrolment.learner), joinedload(Enrolment.version))


def enrolment_for_page(session, enrolment_id: int) -> Enrolment | None:
    """The enrolment with its learner and version in one query rather than three. The loaded
    version also spares the catalogue's tree (``version_tree``) reading it again each time it is
    asked: the session keeps an object only while something refers to it."""
    return session.get(Enrolment, enrolment_id, options=_ENROLMENT_PAGE)
