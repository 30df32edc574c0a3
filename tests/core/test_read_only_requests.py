"""A request that has only read ends its transaction with a COMMIT: psycopg forgets its prepared
statements at every ROLLBACK, so ending each page with one made PostgreSQL plan every statement of
every page afresh. Anything a request wrote, or left pending, is still rolled back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import Centre
from portfolio.core.transaction import after_commit, end_reading
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_user
from tests.helpers.web import log_in


@pytest.fixture()
def commits(session):
    seen = []
    listener = lambda s: seen.append(s)  # noqa: E731
    sa.event.listen(session(), "after_commit", listener)
    yield seen
    sa.event.remove(session(), "after_commit", listener)


def centres_named(session, name) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Centre)
                          .where(Centre.name == name))


def test_a_transaction_that_only_read_is_committed(session, commits):
    centres_named(session, "Anything")
    end_reading(session())
    assert commits and not session().in_transaction()


def test_a_pending_change_is_left_for_the_rollback(session, commits):
    centres_named(session, "Anything")
    session.add(Centre(name="Pending Centre"))
    end_reading(session())
    assert not commits
    session.rollback()
    assert centres_named(session, "Pending Centre") == 0


def test_a_flushed_change_is_left_for_the_rollback(session, commits):
    session.add(Centre(name="Flushed Centre"))
    session.flush()
    end_reading(session())
    assert not commits
    session.rollback()
    assert centres_named(session, "Flushed Centre") == 0


def test_a_statement_that_wrote_is_left_for_the_rollback(session, commits):
    session.execute(sa.insert(Centre).values(name="Inserted Centre"))
    end_reading(session())
    assert not commits
    session.rollback()
    assert centres_named(session, "Inserted Centre") == 0


def test_work_waiting_for_a_commit_is_not_started_by_one(session, commits):
    ran = []
    centres_named(session, "Anything")
    after_commit(session, lambda: ran.append("ran"))
    end_reading(session())
    assert not commits and ran == []


def test_a_failed_request_still_rolls_back(app, client, people, login, session):
    @app.get("/test-fails-after-writing")
    def fails_after_writing():
        session.add(Centre(name="Half Written"))
        session.flush()
        raise RuntimeError("failed after writing")

    login(people.learner1)
    app.testing = False  # answer 500 as in production instead of raising into the test
    assert client.get("/test-fails-after-writing").status_code == 500
    assert centres_named(session, "Half Written") == 0


@pytest.mark.skipif(not on_postgres(), reason="prepared statements are PostgreSQL's")
def test_a_page_visited_again_keeps_its_statements_prepared(tmp_path):
    # Its own database: the suite's one-transaction-per-test connection never ends a request's
    # transaction as production does.
    with app_on_new_database(tmp_path, specs=[]) as app:
        with app.app_context():
            centre = Centre(name="Prepared College")
            db.session.add(centre)
            db.session.flush()
            make_user(db.session, centre, "prepared@example.test", "assessor")
            db.session.commit()
        client = app.test_client()
        assert log_in(client, "prepared@example.test").status_code == 302
        for _ in range(8):  # psycopg prepares a statement at its fifth run
            assert client.get("/account/password").status_code == 200
        with app.app_context():
            prepared = db.session.scalars(
                sa.text("SELECT statement FROM pg_prepared_statements")).all()
    # The header's unread count runs once a page: prepared only if kept from page to page.
    assert any("FROM notifications" in statement for statement in prepared), prepared
