"""Checking a password against guessing: counters with exponential backoff, one per typed email
and client address, one per address (spraying across accounts) and one per email (guessing from
many addresses).

The counters are rows locked while the password is checked (PostgreSQL row locks; SQLite begins
every transaction with the write lock), so simultaneous attempts count one after the other and
no more passwords are checked than the limits allow. Nobody can lock an owner out for everyone:
the per-email counters of other addresses never touch the owner's, and an address the owner has
logged in from before ignores the counters across addresses and accounts.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portfolio.accounts.events import login_failed
from portfolio.accounts.models import LoginAttempt, LoginThrottle, User
from portfolio.core.db import utcnow
from portfolio.core.errors import DomainError

logger = logging.getLogger(__name__)

hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = hasher.hash("not a password anybody has")

#: Failures allowed before backoff: per email from one address, per address across emails, per
#: email across addresses.
FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
FREE_FAILURES_PER_ADDRESS = 20
FREE_FAILURES_PER_ACCOUNT = 20
#: The first wait after the free failures; each further failure doubles it, up to the maximum.
FIRST_BACKOFF = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=1)
#: A counter with no failure for this long starts again from nothing.
FORGET_AFTER = dt.timedelta(days=1)


class LoginRefused(DomainError):
    """Wrong credentials or too many failures. The attempt and its audit event are kept: they
    count towards throttling."""

    keeps_changes = True

    def __init__(self, message: str, *, throttled: bool):
        super().__init__(message)
        self.throttled = throttled


@dataclass
class _Counter:
    row: LoginThrottle
    free: int

    def blocked_until(self, now: dt.datetime) -> dt.datetime | None:
        until = self.row.blocked_until
        return until if until is not None and until > now else None

    def fail(self, now: dt.datetime) -> None:
        row = self.row
        if row.failed_at is not None and now - row.failed_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.failed_at = now
        beyond = row.failures - self.free
        if beyond >= 0:
            # Set only by a checked failure: refusals during the wait never lengthen it.
            row.blocked_until = now + min(FIRST_BACKOFF * 2 ** min(beyond, 20), MAX_BACKOFF)

    def succeed(self, now: dt.datetime) -> None:
        self.row.failures, self.row.blocked_until, self.row.succeeded_at = 0, None, now


def _locked_counter(session: Session, email: str, address: str, free: int) -> _Counter:
    """The counter row, created if need be, locked until the transaction ends."""
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    session.execute(insert(LoginThrottle).values(email=email, address=address, failures=0)
                    .on_conflict_do_nothing())
    row = session.scalar(
        sa.select(LoginThrottle).where(LoginThrottle.email == email,
                                       LoginThrottle.address == address)
        .with_for_update().execution_options(populate_existing=True))
    return _Counter(row, free)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except VerificationError:
        return False
    except InvalidHashError:
        # No password set yet (an imported learner): cost what a real check costs, so the
        # answer's time does not say the account exists.
        _password_matches(_DUMMY_HASH, password)
        return False


def check_password(session: Session, email: str, password: str, address: str) -> User:
    """The enabled user whose (normalised) email and password these are, or
    :class:`LoginRefused`. Every attempt is recorded and every failure audited."""
    if not email or not address:  # empty stands for "every" in the counters
        raise LoginRefused("That email and password do not match an active account.",
                           throttled=False)
    now = utcnow()
    # Always locked in this order (pair, address, account), so two attempts never deadlock.
    pair = _locked_counter(session, email, address, FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    spraying = _locked_counter(session, "", address, FREE_FAILURES_PER_ADDRESS)
    account = _locked_counter(session, email, "", FREE_FAILURES_PER_ACCOUNT)
    counters = [pair, spraying, account]
    usual_address = pair.row.succeeded_at is not None
    deciding = [pair] if usual_address else counters
    waits = [until for counter in deciding if (until := counter.blocked_until(now))]
    user = session.scalar(sa.select(User).where(User.email == email))
    if waits:
        session.add(LoginAttempt(email=email, address=address, succeeded=False,
                                 password_checked=False))
        _audit_failure(session, user, email, address, throttled=True)
        # Worth an operator's eye: someone is guessing this account's password or from there.
        logger.warning("login throttled for %s from %s", email, address)
        minutes = math.ceil((max(waits) - now).total_seconds() / 60)
        raise LoginRefused(f"Too many failed attempts. Try again in {minutes} "
                           f"minute{'s' if minutes != 1 else ''}.", throttled=True)
    matches = _password_matches(user.password_hash if user else _DUMMY_HASH, password)
    succeeded = bool(user and matches and user.is_enabled)
    session.add(LoginAttempt(email=email, address=address, succeeded=succeeded))
    if succeeded:
        # The address's counter stays: one's own account must not reset a spray of others'.
        pair.succeed(now)
        account.succeed(now)
        session.flush()
        return user
    for counter in counters:
        counter.fail(now)
    _audit_failure(session, user, email, address, throttled=False)
    raise LoginRefused("That email and password do not match an active account.",
                       throttled=False)


def _audit_failure(session: Session, user: User | None, email: str, address: str, *,
                   throttled: bool) -> None:
    login_failed.emit(session, actor=None, centre_id=user.centre_id if user else None,
                      address=address, email=email, throttled=throttled)
    session.flush()
