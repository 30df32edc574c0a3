"""Password links: single-use, expiring tokens mailed (or printed by the operator's command) to
let a person set their password, as a new account ("set your password", a week) or after
forgetting it ("reset", an hour).

Only a digest of each token is stored, so a copy of the table opens no account. Issuing a link
supersedes the person's older unused ones. Using one is a conditional UPDATE that succeeds for
exactly one of any number of simultaneous submits (PostgreSQL re-checks the row once the first
commits; SQLite serialises writers), so a link sets a password once. The forgot-password form is
throttled per typed address and per client by counting recent requests.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from portfolio.accounts.events import password_link_issued, password_set_by_link
from portfolio.accounts.models import LoginThrottle, User
from portfolio.accounts.services import (
    UNUSABLE_PASSWORD,
    AccountError,
    hash_password,
    normalise_email,
)
from portfolio.accounts.sessions import end_sessions, token_digest
from portfolio.core.db import Base, UTCDateTime, utcnow

#: How long each kind of link works.
LIFETIMES = {"set": dt.timedelta(days=7), "reset": dt.timedelta(hours=1)}
#: Forgot-password requests counted per typed address and per client over the window: enough
#: for a person who mistypes or loses a mail, too few to flood anyone's inbox.
REQUESTS_PER_EMAIL = 3
REQUESTS_PER_ADDRESS = 20
REQUEST_WINDOW = dt.timedelta(hours=1)

UNUSABLE = "This link has expired or has been used: ask for a new one."


class LinkUnusable(AccountError):
    """The link is unknown, expired, used, superseded, or its account deactivated."""

    def __init__(self):
        super().__init__(UNUSABLE)


class PasswordLink(Base):
    """One link; the token lives only in the mail (or the operator's terminal)."""

    __tablename__ = "password_links"
    __table_args__ = (sa.CheckConstraint("purpose IN ('set', 'reset')", name="known_purpose"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token.
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Whose password the link sets.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: ``set`` (a new account) or ``reset`` (a forgotten password).
    purpose: Mapped[str] = mapped_column(sa.String(10))
    #: When the link was issued.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it stops working.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: When it set a password; none while unused.
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When a newer link (or a use of another one) made it void.
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Who issued it: an admin; none for the person themselves (forgot password) or the operator.
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<PasswordLink {self.id} {self.purpose} user={self.user_id}>"


class PasswordLinkRequest(Base):
    """A forgot-password request, kept to throttle them and as the record of who asked."""

    __tablename__ = "password_link_requests"
    __table_args__ = (
        sa.Index("ix_password_link_requests_email_at", "email", "requested_at"),
        sa.Index("ix_password_link_requests_address_at", "address", "requested_at"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The address typed (normalised), whether or not an account has it.
    email: Mapped[str] = mapped_column(sa.String(254))
    #: Client address.
    address: Mapped[str] = mapped_column(sa.String(64))
    #: When.
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<PasswordLinkRequest {self.email} from {self.address}>"


def link_path(token: str) -> str:
    """The site path of a link (the route ``passwords.set_password``), for mail and the
    operator's terminal, which have no request to build URLs from."""
    return f"/password/set/{token}"


def purpose_for(user: User) -> str:
    """The link to send someone asking again: ``set`` (a week) while the account has never had a
    password, ``reset`` (an hour) once it has."""
    return "set" if user.password_hash == UNUSABLE_PASSWORD else "reset"


def void_links(session: Session, user_ids: Sequence[int], now: dt.datetime | None = None) \
        -> None:
    """Make every unused link of these users void: a newer one was issued, one was used, or
    the address they were mailed to is no longer the person's."""
    now = now or utcnow()
    for start in range(0, len(user_ids), 1000):
        session.execute(sa.update(PasswordLink).where(
            PasswordLink.user_id.in_(user_ids[start:start + 1000]),
            PasswordLink.used_at.is_(None), PasswordLink.superseded_at.is_(None))
            .values(superseded_at=now))


def issue_links(session: Session, users: Sequence[User], purpose: str, *,
                actor: User | None = None, address: str | None = None,
                now: dt.datetime | None = None) -> list[str]:
    """A new link of ``purpose`` for each of ``users`` (enabled), superseding their unused ones;
    returns the tokens in the same order. One statement per table whatever the number of users,
    for an import of thousands. ``address``: the client that asked, for the audit trail."""
    now = now or utcnow()
    if any(not user.is_enabled for user in users):
        raise AccountError("A deactivated account gets no password link.")
    void_links(session, [user.id for user in users], now)
    tokens = [secrets.token_urlsafe(32) for _ in users]
    # Core's executemany: the ORM would insert the rows one statement each to fetch their ids.
    session.execute(sa.insert(PasswordLink), [dict(
        token_digest=token_digest(token), user_id=user.id, purpose=purpose, created_at=now,
        expires_at=now + LIFETIMES[purpose], issued_by_id=actor.id if actor else None)
        for user, token in zip(users, tokens, strict=True)])
    for user in users:
        password_link_issued.emit(session, actor=actor, centre_id=user.centre_id, subject=user,
                                  address=address, email=user.email, purpose=purpose)
    session.flush()
    return tokens


def issue_link(session: Session, user: User, purpose: str, *, actor: User | None = None,
               address: str | None = None, now: dt.datetime | None = None) -> str:
    return issue_links(session, [user], purpose, actor=actor, address=address, now=now)[0]


def _usable(now: dt.datetime):
    """The conditions of a link that still works, as SQL."""
    return (PasswordLink.used_at.is_(None), PasswordLink.superseded_at.is_(None),
            PasswordLink.expires_at > now,
            PasswordLink.user_id.in_(sa.select(User.id).where(User.is_enabled)))


def usable_link(session: Session, token: str, now: dt.datetime | None = None) \
        -> PasswordLink | None:
    """The link of ``token`` if it still works (for the page that asks for the password)."""
    return session.scalar(sa.select(PasswordLink).where(
        PasswordLink.token_digest == token_digest(token), *_usable(now or utcnow())))


def use_link(session: Session, token: str, password: str, now: dt.datetime | None = None) \
        -> User:
    """Set the password of the link's user, once: the link is marked used by a conditional
    UPDATE, and whoever's UPDATE changes no row (a second submit, an expired, superseded or
    unknown link, a deactivated account) gets :class:`LinkUnusable` and changes nothing. Ends
    every session of the user, voids their other links and lifts their login throttling, since
    they have just proved they read their mail."""
    now = now or utcnow()
    password_hash = hash_password(password)  # a weak password refuses before the link is spent
    claimed = session.execute(
        sa.update(PasswordLink)
        .where(PasswordLink.token_digest == token_digest(token), *_usable(now))
        .values(used_at=now).returning(PasswordLink.user_id, PasswordLink.purpose)).first()
    if claimed is None:
        raise LinkUnusable()
    user_id, purpose = claimed
    user = session.get(User, user_id)
    user.password_hash = password_hash
    void_links(session, [user.id], now)
    session.execute(sa.update(LoginThrottle).where(LoginThrottle.email == user.email)
                    .values(failures=0, blocked_until=None))
    end_sessions(session, user)
    password_set_by_link.emit(session, actor=user, subject=user, purpose=purpose)
    session.flush()
    return user


class TooManyRequests(AccountError):
    """Too many forgot-password requests from one client."""


def request_reset(session: Session, email: str, address: str,
                  now: dt.datetime | None = None) -> tuple[User, str, str] | None:
    """Record a forgot-password request; returns the user, a token and its purpose when ``email`` is an
    enabled account's and neither limit is reached, else None. The caller answers the same
    either way (only a client over its own limit is told, which says nothing about anyone's
    account): the work done differs by a few row writes, and no password is hashed on any path.
    """
    now = now or utcnow()
    email = normalise_email(email)
    since = now - REQUEST_WINDOW
    from_address = session.scalar(sa.select(sa.func.count()).where(
        PasswordLinkRequest.address == address, PasswordLinkRequest.requested_at > since))
    if from_address >= REQUESTS_PER_ADDRESS:
        raise TooManyRequests("Too many password reset requests from your network: try again "
                              "in an hour.")
    for_email = session.scalar(sa.select(sa.func.count()).where(
        PasswordLinkRequest.email == email, PasswordLinkRequest.requested_at > since))
    session.add(PasswordLinkRequest(email=email, address=address, requested_at=now))
    user = session.scalar(sa.select(User).where(User.email == email, User.is_enabled))
    session.flush()
    if user is None or for_email >= REQUESTS_PER_EMAIL:
        return None
    purpose = purpose_for(user)
    return user, issue_link(session, user, purpose, address=address, now=now), purpose
