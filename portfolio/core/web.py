"""The web edge of a change: one place that commits, or rolls back and explains.

Views parse a form, check a permission and call services inside :func:`committing`; services
flush and raise :class:`~portfolio.core.errors.DomainError`; nothing else commits::

    with committing("Claims updated.") as done:
        services.change_claims(db.session, item, current_user, form.criteria.data)
    if done:
        return redirect(...)

Callbacks registered with :mod:`portfolio.core.transaction` run as the transaction ends, so a
service that wrote objects to the store removes them itself when the change rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from sqlalchemy.exc import IntegrityError, OperationalError

from portfolio.core.errors import Conflict, DomainError
from portfolio.core.storage import StorageError
from portfolio.extensions import db

logger = logging.getLogger(__name__)

CONFLICT = ("Someone else changed this at the same moment. Nothing of yours was saved: check "
            "the page as it is now and try again.")
STORE_UNAVAILABLE = "The file store is not answering. Try again in a minute."
DATABASE_UNAVAILABLE = ("The database is busy or not answering, so nothing was saved. Try again "
                        "in a minute.")


@dataclass
class Outcome:
    """How a change ended: true when it committed, else the message and an HTTP status."""

    error: str | None = None
    status: int = 200

    def __bool__(self) -> bool:
        return self.error is None

    def _fail(self, error: str, status: int) -> None:
        self.error, self.status = error, status


@contextmanager
def committing(success: str | None = None, *, conflict: str = CONFLICT,
               flash_messages: bool = True) -> Iterator[Outcome]:
    """Commit what the block did; on a domain error, a lost race (a unique index refusing a
    concurrent duplicate), an unreachable store or a database that is locked or gone, roll back
    and keep the message in the outcome (flashed, unless ``flash_messages`` is false, as for JSON
    answers). Anything else rolls back and propagates to the 500 page."""
    outcome = Outcome()
    session = db.session
    try:
        yield outcome
        session.commit()
    except Conflict as error:
        session.rollback()
        outcome._fail(str(error), 409)
    except DomainError as error:
        if error.keeps_changes:
            session.commit()
        else:
            session.rollback()
        outcome._fail(str(error), 422)
    except IntegrityError:
        session.rollback()
        logger.info("a concurrent change won a race", exc_info=True)
        outcome._fail(conflict, 409)
    except StorageError:
        session.rollback()
        logger.exception("the object store failed")
        outcome._fail(STORE_UNAVAILABLE, 503)
    except OperationalError:
        # Locked, gone or timed out: a condition of the moment, not of the request. Rolling back
        # also removes what the request wrote to the store.
        session.rollback()
        logger.exception("the database failed")
        outcome._fail(DATABASE_UNAVAILABLE, 503)
    except BaseException:
        session.rollback()
        raise
    if flash_messages:
        if outcome.error is not None:
            flash(outcome.error, "error")
        elif success:
            flash(success, "info")
