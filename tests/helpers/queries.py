"""Counting rows, and the SQL statements a piece of code runs."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa
from flask import g

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


def statements_of_get(client, session, url: str) -> list[str]:
    """Statements of one GET as in production, where each request has its own session and loads
    its user: in the tests requests share the test's application context, so its session and
    Flask-Login's cached user in ``g`` are emptied first."""
    session.flush()
    session.expunge_all()
    g.pop("_login_user", None)
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return statements
