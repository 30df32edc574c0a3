"""Throw-away databases for the suite: SQLite files, or PostgreSQL databases on the server named
by ``PORTFOLIO_TEST_DATABASE_URL``."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

SERVER_URL = os.environ.get("PORTFOLIO_TEST_DATABASE_URL", "")


def on_postgres() -> bool:
    return SERVER_URL.startswith("postgresql")


def create_database(directory: Path, server_url: str | None = None) -> str:
    """A new, empty database on ``server_url`` (default: the suite's; SQLite in ``directory``
    unless it is a PostgreSQL URL); returns its URL."""
    server_url = SERVER_URL if server_url is None else server_url
    if not server_url.startswith("postgresql"):
        return f"sqlite:///{directory / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}"
    name = f"portfolio_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def database_on(server_url: str, directory: Path) -> Iterator[str]:
    """:func:`create_database` on ``server_url`` (empty: SQLite), dropped afterwards."""
    url = create_database(directory, server_url)
    try:
        yield url
    finally:
        drop_database(url, server_url)


def server_answers(url: str) -> bool:
    """Whether a database server answers at ``url`` within a few seconds."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def displayable(url: str) -> str:
    """``url`` with its password hidden, to print."""
    return sa.make_url(url).render_as_string(hide_password=True)


def drop_database(url: str, server_url: str | None = None) -> None:
    if not url.startswith("postgresql"):
        return
    name = sa.make_url(url).database
    admin = sa.create_engine(SERVER_URL if server_url is None else server_url,
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


#: The PostgreSQL server benchmarks use when ``PORTFOLIO_TEST_DATABASE_URL`` names none.
BENCH_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def on_each_database(measure: Callable[[str, Path, str], Iterator[str]], *,
                     sqlite: bool = True) -> Iterator[str]:
    """For benchmarks: the lines ``measure(label, directory, url)`` yields on a new SQLite
    database (unless ``sqlite`` is false), then on a new PostgreSQL one when the suite's server
    (or the local default) answers, else a line saying why PostgreSQL was skipped."""
    server = SERVER_URL or BENCH_POSTGRES
    for label, server_url in ((("SQLite", ""),) if sqlite else ()) + (("PostgreSQL", server),):
        if label == "PostgreSQL" and not server.startswith("postgresql"):
            yield f"PostgreSQL: skipped ({server.split(':')[0]} is not a PostgreSQL URL)"
        elif label == "PostgreSQL" and not server_answers(server):
            yield f"PostgreSQL: skipped, nothing answers at {displayable(server)}"
        else:
            with (tempfile.TemporaryDirectory() as directory,
                  database_on(server_url, Path(directory)) as url):
                yield from measure(label, Path(directory), url)
