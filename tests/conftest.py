"""Fixtures: one migrated database per test run with the built-in catalogue, one transaction per
test (rolled back), the application, a test client and a CLI runner. Helpers live in
``tests.helpers``; import them from there, never from this file."""

from __future__ import annotations

import pytest

from portfolio.catalogue import services
from portfolio.extensions import db as _db
from tests.helpers.app import make_app, migrate_with_catalogue, use_store
from tests.helpers.databases import create_database, drop_database
from tests.helpers.factories import make_people
from tests.helpers.storage_server import start_test_store
from tests.helpers.web import csrf_token, log_in


@pytest.fixture(scope="session", autouse=True)
def store(tmp_path_factory):
    """A real S3 server (SeaweedFS) for the whole run, on free loopback ports."""
    embedded = start_test_store(tmp_path_factory.mktemp("objects"))
    use_store(embedded)
    yield embedded
    use_store(None)
    embedded.stop()


@pytest.fixture(scope="session")
def builtin_specs():
    return {spec.qualification_number: spec for spec in services.load_builtin_specs()}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, builtin_specs):
    """Migrated once per run (the migrations are the schema), then loaded with the catalogue."""
    directory = tmp_path_factory.mktemp("db")
    url = create_database(directory)
    app = make_app(directory, url)
    with app.app_context():
        migrate_with_catalogue(builtin_specs.values())
        _db.engine.dispose()
    yield url
    drop_database(url)


@pytest.fixture()
def app(tmp_path, database_url):
    """The application with every session bound to one connection whose transaction is rolled
    back after the test; a view's commit only releases a savepoint.

    Flask-SQLAlchemy's sessions take their bind from ``db.engines``, so the connection replaces
    the engine there (a ``bind`` given to the session would be ignored)."""
    app = make_app(tmp_path, database_url)
    with app.app_context():
        engines = _db.engines
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection
        original = _db.session
        _db.session = _db._make_scoped_session({"join_transaction_mode": "create_savepoint"})
        try:
            yield app
        finally:
            _db.session.remove()
            _db.session = original
            engines[None] = engine
            if transaction.is_active:
                transaction.rollback()
            connection.close()
            engine.dispose()


@pytest.fixture()
def session(app):
    return _db.session


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def cli(app):
    return app.test_cli_runner()


@pytest.fixture()
def people(session):
    return make_people(session)


@pytest.fixture()
def login(client):
    """``login(user)`` logs the test client in through the login form."""
    def login_as(user):
        client.post("/logout", data={"csrf_token": csrf_token(client)})
        response = log_in(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return login_as
