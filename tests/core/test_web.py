"""The commit edge: one commit, or a rollback with a message, and the callbacks that follow."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import get_flashed_messages
from sqlalchemy.exc import OperationalError

from portfolio.accounts.models import Centre
from portfolio.core.errors import Conflict, DomainError
from portfolio.core.storage import StorageError
from portfolio.core.transaction import after_commit, after_rollback
from portfolio.core.web import DATABASE_UNAVAILABLE, STORE_UNAVAILABLE, committing


class Refused(DomainError):
    pass


class RefusedButKept(DomainError):
    keeps_changes = True


def centres(session, name):
    return session.scalar(sa.select(sa.func.count()).select_from(Centre)
                          .where(Centre.name == name))


@pytest.fixture()
def request_context(app):
    with app.test_request_context("/"):
        yield


def add_centre(session, name, ran):
    session.add(Centre(name=name))
    session.flush()
    after_commit(session, lambda: ran.append("commit"))
    after_rollback(session, lambda: ran.append("rollback"))


def test_a_change_commits_once_and_says_so(session, request_context):
    ran = []
    with committing("Saved.") as done:
        add_centre(session, "Edge One", ran)
    assert done and done.status == 200
    assert ran == ["commit"]
    session.rollback()  # nothing left to undo: it was committed
    assert centres(session, "Edge One") == 1
    assert get_flashed_messages(with_categories=True) == [("info", "Saved.")]


@pytest.mark.parametrize("error, status", [
    (Refused("Give a reason."), 422),
    (Conflict("Someone else was first."), 409),
])
def test_a_refusal_rolls_back_and_explains(session, request_context, error, status):
    ran = []
    with committing("Saved.") as done:
        add_centre(session, "Edge Two", ran)
        raise error
    assert not done and (done.error, done.status) == (str(error), status)
    assert ran == ["rollback"]
    assert centres(session, "Edge Two") == 0
    assert get_flashed_messages(with_categories=True) == [("error", str(error))]


def test_a_refusal_that_is_a_record_is_kept(session, request_context):
    ran = []
    with committing(flash_messages=False) as done:
        add_centre(session, "Edge Three", ran)
        raise RefusedButKept("Wrong password.")
    assert done.error == "Wrong password." and ran == ["commit"]
    assert centres(session, "Edge Three") == 1
    assert get_flashed_messages() == []


def test_a_lost_race_a_silent_store_and_a_locked_database_get_messages(session, request_context):
    session.add(Centre(name="Edge Four"))
    session.commit()
    with committing(conflict="Taken meanwhile.") as raced:
        session.add(Centre(name="Edge Four"))  # the unique name refuses it at the commit
    assert (raced.error, raced.status) == ("Taken meanwhile.", 409)
    with committing() as stored:
        raise StorageError("Cannot connect to the object store at http://127.0.0.1:9")
    assert (stored.error, stored.status) == (STORE_UNAVAILABLE, 503)
    ran = []
    with committing() as locked:
        add_centre(session, "Edge Seven", ran)
        raise OperationalError("INSERT", {}, Exception("database is locked"))
    assert (locked.error, locked.status) == (DATABASE_UNAVAILABLE, 503)
    assert ran == ["rollback"] and centres(session, "Edge Seven") == 0
    assert centres(session, "Edge Four") == 1


def test_anything_else_rolls_back_and_propagates(session, request_context):
    ran = []
    with pytest.raises(RuntimeError), committing("Saved."):
        add_centre(session, "Edge Five", ran)
        raise RuntimeError("a bug")
    assert ran == ["rollback"] and centres(session, "Edge Five") == 0
    assert get_flashed_messages() == []


def test_callbacks_wait_for_the_outer_transaction(session):
    ran = []
    with session.begin_nested():
        add_centre(session, "Edge Six", ran)
    assert ran == []  # a released savepoint is not a commit
    session.rollback()
    assert ran == ["rollback"]
