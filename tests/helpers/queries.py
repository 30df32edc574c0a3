"""Counting rows, and the SQL statements a piece of code runs."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from portfolio.extensions import db


def count_rows(session, model, *where) -> int:
    """Rows of ``model`` (those matching ``where``, when given)."""
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@contextlib.contextmanager
def count_queries(engine=None):
    """The statements run on ``engine`` (default: the app's) inside the block, without the
    transaction and savepoint statements."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(
                ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")):
            statements.append(statement)

    if engine is None:
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
