"""Throw-away databases for the suite: SQLite files, or PostgreSQL databases on the server named
by ``PORTFOLIO_TEST_DATABASE_URL``."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa

SERVER_URL = os.environ.get("PORTFOLIO_TEST_DATABASE_URL", "")


def on_postgres() -> bool:
    return SERVER_URL.startswith("postgresql")


def create_database(directory: Path) -> str:
    """A new, empty database; returns its URL."""
    if not on_postgres():
        return f"sqlite:///{directory / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}"
    name = f"portfolio_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return sa.make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    name = sa.make_url(url).database
    admin = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
