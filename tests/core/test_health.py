"""``/healthz`` answers from the process alone; ``/readyz`` says whether the database and the
store answer, within its timeout however they fail, and without quoting a secret."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
from flask import g

from portfolio import create_app
from portfolio.config import Settings, SettingsError
from tests.helpers.app import app_on_new_database
from tests.helpers.queries import count_queries
from tests.helpers.storage_server import free_port, hung, start_test_store

#: What /readyz may take beyond its timeout on a loaded machine: "a few seconds", not minutes.
SLACK_SECONDS = 4
DATABASE_PASSWORD = "database-password-never-shown"
STORE_SECRET = "store-secret-never-shown"


def test_healthz_answers_ok_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_healthz_reads_no_session_of_a_logged_in_client(client, people, login, session):
    login(people.learner1)

    def statements_of(path):
        session.expunge_all()
        g.pop("_login_user", None)  # requests share the test's context: as a new request
        with count_queries() as statements:
            response = client.get(path)
        return response, statements

    page, page_statements = statements_of("/catalogue/")
    assert page.status_code == 200 and page_statements, "a page loads the session's user"
    health, health_statements = statements_of("/healthz")
    assert health.status_code == 200
    assert health_statements == []
    assert "Set-Cookie" not in health.headers


def test_readyz_answers_ready_with_the_time_of_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"
    for name in ("database", "store"):
        check = response.json["checks"][name]
        assert check["ok"] is True and "error" not in check
        assert isinstance(check["seconds"], float) and check["seconds"] >= 0


def _unreachable_app(tmp_path, database_url: str):
    """An application whose database is ``database_url`` and whose store nothing listens for."""
    settings = Settings(instance_path=tmp_path / "instance", database_url=database_url,
                        secret_key="test", s3_endpoint_url=f"http://127.0.0.1:{free_port()}",
                        s3_access_key="someone", s3_secret_key=STORE_SECRET,
                        ready_timeout_seconds=1)
    return create_app(settings, TESTING=True)


def test_healthz_needs_neither_database_nor_store_while_readyz_names_both(tmp_path):
    app = _unreachable_app(tmp_path, f"sqlite:///{tmp_path / 'missing' / 'portfolio.sqlite3'}")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200

    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    checks = response.json["checks"]
    assert checks["database"]["ok"] is False
    assert checks["database"]["error"] == ("The database did not answer: unable to open "
                                           "database file.")
    assert checks["store"] == {"ok": False, "seconds": checks["store"]["seconds"],
                               "error": "Cannot connect to the object store."}
    assert STORE_SECRET not in response.get_data(as_text=True)


def test_readyz_is_503_without_the_password_when_postgresql_refuses(tmp_path):
    url = f"postgresql+psycopg://portfolio:{DATABASE_PASSWORD}@127.0.0.1:{free_port()}/portfolio"
    response = _unreachable_app(tmp_path, url).test_client().get("/readyz")
    assert response.status_code == 503
    error = response.json["checks"]["database"]["error"]
    assert error.startswith("The database did not answer: ") and "refused" in error
    assert DATABASE_PASSWORD not in response.get_data(as_text=True)


@contextlib.contextmanager
def silent_server():
    """A port whose connections the kernel accepts and nobody ever answers, as a hung
    database server's; closed on leaving, which lets the clients waiting on it go."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def _readiness_threads(at_most: int, within: float = 5) -> int:
    """The readiness checks' threads alive, once there are ``at_most`` or after ``within``
    seconds (a finished check's thread takes a moment to end)."""
    deadline = time.monotonic() + within
    while True:
        alive = sum(1 for thread in threading.enumerate() if thread.name == "readiness check")
        if alive <= at_most or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def test_readyz_answers_within_its_timeout_while_the_database_hangs(tmp_path):
    with silent_server() as port:
        app = _unreachable_app(tmp_path, f"postgresql+psycopg://portfolio@127.0.0.1:{port}/x")
        client = app.test_client()
        assert _readiness_threads(at_most=0) == 0, "another test's check is still running"
        for _ in range(3):
            started = time.monotonic()
            response = client.get("/readyz")
            took = time.monotonic() - started
            assert response.status_code == 503
            assert response.json["checks"]["database"]["error"] == (
                "The database did not answer within 1 s.")
            assert took < 1 + SLACK_SECONDS
        # The hung check is waited for again, not started once per probe.
        assert _readiness_threads(at_most=1) == 1


def test_readyz_is_503_when_the_store_stops_or_hangs(tmp_path):
    store = start_test_store(tmp_path / "objects")
    try:
        with app_on_new_database(tmp_path, store=store,
                                 settings={"ready_timeout_seconds": 1}) as app:
            client = app.test_client()
            started = time.monotonic()
            assert client.get("/readyz").status_code == 200
            answering = time.monotonic() - started

            with hung(store):
                started = time.monotonic()
                response = client.get("/readyz")
                took = time.monotonic() - started
            assert response.status_code == 503
            assert response.json["checks"]["database"]["ok"] is True
            assert response.json["checks"]["store"]["error"] == (
                "The object store did not answer within 1 s.")
            assert took < answering + 1 + SLACK_SECONDS

            store.stop()
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json["checks"]["store"]["error"] == (
                "Cannot connect to the object store.")
    finally:
        store.stop()


def test_the_ready_timeout_is_at_least_a_second():
    assert Settings.from_environ({}).ready_timeout_seconds == 3
    with pytest.raises(SettingsError, match="PORTFOLIO_READY_TIMEOUT_SECONDS: expected 1 or"):
        Settings.from_environ({"PORTFOLIO_READY_TIMEOUT_SECONDS": "0"})
