"""The application under test: built on a given database and the suite's S3 server, or on a
database of its own, brought to the head revision with the catalogue loaded."""

from __future__ import annotations

import contextlib

from flask_migrate import upgrade

from portfolio import create_app
from portfolio.catalogue import services as catalogue
from portfolio.config import Settings
from portfolio.extensions import db
from tests.helpers.databases import create_database, drop_database

_default_store = {}


def use_store(store) -> None:
    """Make ``store`` (an embedded S3 server; None: none) the one :func:`make_app` uses when it
    is given none. The session's ``store`` fixture sets it."""
    if store is None:
        _default_store.pop("store", None)
    else:
        _default_store["store"] = store


def make_app(instance_path, database_url, store=None, **overrides):
    """A testing app on ``database_url``; ``settings={...}`` overrides settings, any other
    keyword the Flask config."""
    store = store or _default_store.get("store")
    storage = {}
    if store is not None:
        storage = dict(s3_endpoint_url=store.endpoint_url, s3_bucket=store.bucket,
                       s3_access_key=store.access_key, s3_secret_key=store.secret_key)
    settings = Settings(instance_path=instance_path, database_url=database_url,
                        secret_key="test-secret-key", **storage, **overrides.pop("settings", {}))
    return create_app(settings, TESTING=True, **overrides)


def migrate_with_catalogue(specs) -> None:
    """In an application context: upgrade its database to the head revision (the migrations are
    the schema), import the catalogue ``specs`` and commit."""
    upgrade()
    for spec in specs:
        catalogue.import_spec(db.session, spec)
    db.session.commit()


@contextlib.contextmanager
def app_on_new_database(directory, specs=None, **overrides):
    """A testing app on a database of its own (SQLite in ``directory``, or on the PostgreSQL
    server), dropped afterwards: migrated with the catalogue ``specs`` loaded, or left empty when
    ``specs`` is None; ``overrides`` as for :func:`make_app`. For tests that need what the
    one-transaction-per-test fixtures cannot give: migrations, other connections, a live server."""
    url = create_database(directory)
    app = make_app(directory, url, **overrides)
    try:
        if specs is not None:
            with app.app_context():
                migrate_with_catalogue(specs)
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(url)
