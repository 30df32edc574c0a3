"""Login sessions kept on the server: the signed cookie carries only a random token, and a request
is let in only while the token's session is open and its user enabled. Ending a session on the
server therefore ends every copy of the cookie."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

import sqlalchemy as sa
from flask import after_this_request
from sqlalchemy.orm import Session

from portfolio.accounts.models import LoginSession, User
from portfolio.core.db import utcnow

logger = logging.getLogger(__name__)

#: How stale ``last_seen_at`` may get before a request updates it (a write on every request
#: would serialise every page view on SQLite).
SEEN_EVERY = dt.timedelta(minutes=5)


def token_digest(token: str) -> str:
    """What is stored of a secret token (a session's, a password link's): its SHA-256, so a copy of
    the table opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, address: str) -> str:
    """Open a login session for ``user``; returns the token for the cookie and sets it as the
    user's id for Flask-Login."""
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_digest=token_digest(token), user_id=user.id, address=address))
    session.flush()
    user.login_token = token
    return token


def load_user(session: Session, token: str) -> User | None:
    """The user of an open session with this token, or None (ended, unknown or deactivated)."""
    found = session.execute(
        sa.select(LoginSession, User).join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_digest == token_digest(token), LoginSession.ended_at.is_(None),
               User.is_enabled)).first()
    if found is None:
        return None
    login, user = found
    if utcnow() - login.last_seen_at > SEEN_EVERY:
        _note_seen_after_response(session.get_bind(), login.id)
    user.login_token = token
    return user


def _note_seen_after_response(engine: sa.Engine, login_id: int) -> None:
    """Record the visit once the response has gone, in a transaction of its own: a page (which
    reads a snapshot beside SQLite's writer) must neither wait for the write lock nor fail because
    another writer committed after its snapshot began. The time is bookkeeping: losing one update
    to a busy database costs nothing."""
    def note_seen() -> None:
        try:
            with engine.begin() as connection:
                connection.execute(sa.update(LoginSession).where(LoginSession.id == login_id)
                                   .values(last_seen_at=utcnow()))
        except sa.exc.OperationalError as error:
            logger.info("last seen time of login session %s not recorded: %s", login_id, error)

    @after_this_request
    def on_close(response):
        response.call_on_close(note_seen)
        return response


def end_session(session: Session, user: User) -> None:
    """End the session ``user`` was loaded through (logging out)."""
    if user.login_token is not None:
        session.execute(sa.update(LoginSession).where(
            LoginSession.token_digest == token_digest(user.login_token),
            LoginSession.ended_at.is_(None)).values(ended_at=utcnow()))


def end_sessions(session: Session, user: User, *, keep: str | None = None) -> None:
    """End every open session of ``user``, except the one with token ``keep``."""
    query = sa.update(LoginSession).where(LoginSession.user_id == user.id,
                                          LoginSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(LoginSession.token_digest != token_digest(keep))
    session.execute(query.values(ended_at=utcnow()))
