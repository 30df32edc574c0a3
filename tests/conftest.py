"""Fixtures: one migrated database per test run with the built-in catalogue, one transaction per
test (rolled back), the application, a test client and a CLI runner."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from portfolio import create_app
from portfolio.catalogue import services
from portfolio.config import Settings
from portfolio.extensions import db as _db
from tests.databases import create_database, drop_database

_store = {}


def make_app(instance_path, database_url, store=None, **overrides):
    store = store or _store.get("store")
    storage = {}
    if store is not None:
        storage = dict(s3_endpoint_url=store.endpoint_url, s3_bucket=store.bucket,
                       s3_access_key=store.access_key, s3_secret_key=store.secret_key)
    settings = Settings(instance_path=instance_path, database_url=database_url,
                        secret_key="test-secret-key", **storage, **overrides.pop("settings", {}))
    return create_app(settings, TESTING=True, **overrides)


@pytest.fixture(scope="session", autouse=True)
def store(tmp_path_factory):
    """A real S3 server (SeaweedFS) for the whole run, on free loopback ports."""
    from tests.storage_server import start_test_store

    embedded = start_test_store(tmp_path_factory.mktemp("objects"))
    _store["store"] = embedded
    yield embedded
    _store.pop("store", None)
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
        upgrade()
        for spec in builtin_specs.values():
            services.import_spec(_db.session, spec)
        _db.session.commit()
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
    from tests.factories import make_people

    return make_people(session)


@pytest.fixture()
def login(client):
    """``login(user)`` logs the test client in through the login form."""
    from tests.factories import csrf_token, log_in

    def login_as(user):
        client.post("/logout", data={"csrf_token": csrf_token(client)})
        response = log_in(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return login_as


def count_rows(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))
