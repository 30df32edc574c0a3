"""Whole installations as an operator runs them: the embedded default (SQLite and SeaweedFS in
the instance folder), for the backup and restore tests."""

from __future__ import annotations

import contextlib
from pathlib import Path

from portfolio import create_app
from portfolio.config import Settings
from portfolio.core.embedded_store import EmbeddedStore
from portfolio.extensions import db
from tests.helpers.storage_server import free_port


def embedded_settings(instance_path: Path) -> Settings:
    """The embedded default in ``instance_path``, its store on a port of its own."""
    return Settings(instance_path=instance_path, embedded_s3_port=free_port())


def embedded_app(settings: Settings):
    return create_app(settings, TESTING=True)


@contextlib.contextmanager
def serving_store(settings: Settings):
    """The instance's embedded store, started as ``portfolio serve`` starts it."""
    store = EmbeddedStore(settings.instance_path / "objects", s3_port=settings.embedded_s3_port,
                          bucket=settings.s3_bucket, access_key=settings.resolved_s3_access_key,
                          secret_key=settings.resolved_s3_secret_key)
    with store:
        yield store


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
