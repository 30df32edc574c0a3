"""Work to do once the current transaction has ended: after it commits (tell people, start
jobs) or after it rolls back (delete objects written to the store for rows never saved).

Callbacks are kept on the session and run when its outermost transaction ends, whoever ends it:
the web edge, a command, or the teardown that rolls back a failed request. A transaction closed
without a commit counts as rolled back. Callbacks take no arguments and must not use the session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

logger = logging.getLogger(__name__)

_AFTER_COMMIT = "portfolio.after_commit"
_AFTER_ROLLBACK = "portfolio.after_rollback"
_WROTE = "portfolio.wrote"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def after_rollback(session: Session, callback: Callable[[], None]) -> None:
    session.info.setdefault(_AFTER_ROLLBACK, []).append(callback)


def has_written(session: Session) -> bool:
    """Whether the session's current transaction has written anything (flushed a change or run
    an insert, update or delete): what it reads may yet be rolled back, so nothing read then may
    be kept beyond it."""
    return session.info.get(_WROTE, False)


def end_reading(session: Session) -> None:
    """End a transaction that has only read with a COMMIT rather than the ROLLBACK closing the
    session sends: psycopg forgets every prepared statement at a ROLLBACK, and with one at the
    end of every request PostgreSQL would plan each page's statements afresh on every visit.
    Anything written, pending or waiting for a commit is left for the rollback."""
    if (session.in_transaction() and not session.in_nested_transaction()
            and not has_written(session) and not (session.new or session.dirty or session.deleted)
            and not session.info.get(_AFTER_COMMIT)):
        session.commit()


@sa.event.listens_for(Session, "after_flush")
def _flushed(session: Session, context) -> None:
    session.info[_WROTE] = True


@sa.event.listens_for(Session, "do_orm_execute")
def _executing(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _run(callbacks: list[Callable[[], None]], when: str) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            # The transaction has ended either way; one failed callback must not stop the rest.
            logger.exception("a callback %s failed: %r", when, callback)


@sa.event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    session.info.pop(_AFTER_ROLLBACK, None)
    _run(session.info.pop(_AFTER_COMMIT, []), "after commit")


@sa.event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(_WROTE, None)
    session.info.pop(_AFTER_COMMIT, None)
    _run(session.info.pop(_AFTER_ROLLBACK, []), "after rollback")
