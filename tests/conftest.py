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


def make_app(instance_path, database_url, **overrides):
    settings = Settings(instance_path=instance_path, database_url=database_url,
                        secret_key="test-secret-key")
    return create_app(settings, TESTING=True, **overrides)


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
    """The application with a session bound to one connection whose transaction is rolled back
    after the test; a view's commit only releases a savepoint."""
    app = make_app(tmp_path, database_url)
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint"})
        try:
            yield app
        finally:
            _db.session.remove()
            _db.session = original
            if transaction.is_active:
                transaction.rollback()
            connection.close()
            _db.engine.dispose()


@pytest.fixture()
def session(app):
    return _db.session


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def cli(app):
    return app.test_cli_runner()


def count_rows(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))
