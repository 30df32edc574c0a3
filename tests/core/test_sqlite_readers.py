"""The embedded database with a writer at work: pages go on answering. Only writes queue for
SQLite's write lock; a request that only reads (GET) reads its snapshot beside the writer.

Before, every transaction began with BEGIN IMMEDIATE, GETs too: every request of every user
waited in one queue for the write lock, pages included, and a page behind a long write waited up
to the busy timeout and failed with a 500 (see tests/benchmarks/bench_concurrency.py). That
writes still take the lock as they begin, and so queue rather than fail, is
tests/core/test_sqlite_writers.py."""

from __future__ import annotations

import sqlite3
import time

import pytest

from portfolio.core.db import SQLITE_BUSY_TIMEOUT_MS
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_people
from tests.helpers.live_server import Visitor, serving_app
from tests.helpers.web import log_in

pytestmark = pytest.mark.skipif(on_postgres(), reason="the embedded database's own locking")


def test_pages_answer_while_another_connection_holds_the_write_lock(tmp_path, builtin_specs):
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            db.session.commit()
            enrolment_id, email = people.enrolment1.id, people.assessor1.email
            path = db.engine.url.database
            db.session.remove()
        client = app.test_client()
        assert log_in(client, email).status_code == 302

        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            for page in (f"/enrolments/{enrolment_id}/progress",
                         f"/enrolments/{enrolment_id}/evidence", "/caseload"):
                start = time.perf_counter()
                assert client.get(page).status_code == 200
                # Far below the busy timeout: the page did not queue for the lock.
                assert time.perf_counter() - start < SQLITE_BUSY_TIMEOUT_MS / 1000 / 5
        finally:
            writer.rollback()
            writer.close()



def test_a_page_that_marks_its_session_seen_does_not_wait_for_the_writer(tmp_path, builtin_specs):
    """Marking a login session seen is a write: made inside the page's read, it would queue for
    the lock (or fail once the writer commits after the page's snapshot began)."""
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            db.session.commit()
            email, path = people.learner1.email, db.engine.url.database
            db.session.remove()
        with serving_app(app) as port:
            learner = Visitor(port)
            assert learner.log_in(email).status == 302
            writer = sqlite3.connect(path, isolation_level=None)
            writer.execute("UPDATE login_sessions SET last_seen_at = '2020-01-01 00:00:00.000000'")
            writer.execute("BEGIN IMMEDIATE")
            try:
                start = time.perf_counter()
                assert learner.get("/catalogue/").status == 200
                assert time.perf_counter() - start < SQLITE_BUSY_TIMEOUT_MS / 1000 / 5
                writer.execute("COMMIT")
            finally:
                if writer.in_transaction:
                    writer.rollback()
                writer.close()
            assert learner.get("/catalogue/").status == 200
