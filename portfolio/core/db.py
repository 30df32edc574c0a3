"""Declarative base with a constraint naming convention, and UTC time helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.visitors import InternalTraversal

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


#: How long a SQLite transaction waits for another's write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 15_000
#: HTTP's safe methods: a request made with one reads and never writes.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given for a UTC column")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def plain_rows(session, statement: sa.Executable, parameters: dict | None = None
               ) -> sa.CursorResult:
    """The rows of a statement of plain columns, read on the session's connection: for the
    thousands of rows a progress page or a caseload counts from, the ORM's handling of each row
    costs about three times the database's answer. Pending changes are flushed first, as the
    session's own ``execute`` would."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, parameters)


def release_connection(session) -> None:
    """End a transaction that has only read, so that slow work needing no database (streaming
    an upload to the store) holds no pooled connection and, on SQLite, no read snapshot. Objects
    the session loaded reload when next used; callers keep the ids they need."""
    session.rollback()


def configure_engine(engine: sa.Engine) -> None:
    """Make SQLite behave like the production database where it matters.

    pysqlite opens transactions lazily and ignores SAVEPOINT semantics; taking over BEGIN gives
    real transactions (and nested ones), and foreign keys are off in SQLite unless asked for.

    Transactions that may write take the write lock when they begin (BEGIN IMMEDIATE). A
    deferred transaction that has read and then wants to write after another writer committed
    cannot wait: SQLite refuses it at once ("database is locked"), whatever the busy timeout.
    Taking the lock up front makes writers queue for up to the busy timeout instead. Transactions
    are kept short for this (uploads stream with none open).

    A request with a safe method (GET, HEAD, OPTIONS) only reads, so its transactions begin
    deferred: under WAL they read a snapshot beside the writer. Taking the lock for them too
    would put every page of every user in the writers' queue, behind each other and any write.
    """
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        if has_request_context() and request.method in READ_ONLY_METHODS:
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class _OneOf(sa.ColumnElement[bool]):
    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("name", InternalTraversal.dp_string)]

    def __init__(self, column: sa.ColumnElement[int], name: str):
        self.column, self.name = column, name


def one_of(column: sa.ColumnElement[int], name: str) -> sa.ColumnElement[bool]:
    """``column`` is one of the integers bound as ``name`` when the statement runs: for a
    statement built once and run with many ids. PostgreSQL takes them as one array; elsewhere
    they are spelled out (``IN``), which on every run costs a bound parameter per id to write
    and a statement too long for the driver to keep converted."""
    return _OneOf(column, name)


@compiles(_OneOf)
def _spelled_out(element: _OneOf, compiler, **kw) -> str:
    return compiler.process(element.column.in_(sa.bindparam(element.name, expanding=True)), **kw)


@compiles(_OneOf, "postgresql")
def _as_array(element: _OneOf, compiler, **kw) -> str:
    ids = sa.bindparam(element.name, type_=postgresql.ARRAY(sa.Integer))
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(ids, **kw)})"
