"""Revision 0005 turns the role flags on users into role grants, and its downgrade turns them
back: the data, not only the schema."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portfolio.core.db import UTCDateTime
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database

BEFORE, AFTER = "0004_queue", "0005_role_grants"
CREATED = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
FLAGS = ("is_learner", "is_assessor", "is_iqa", "is_centre_admin")

# The tables as they are at 0004, written to with their column types (so timestamps bind the same
# way on both databases).
centres = sa.table("centres", sa.column("id", sa.Integer), sa.column("name", sa.String),
                   sa.column("created_at", UTCDateTime))
users = sa.table("users", *(sa.column(name, sa.Integer) for name in ("id", "centre_id")),
                 *(sa.column(name, sa.String) for name in ("email", "name", "password_hash")),
                 *(sa.column(flag, sa.Boolean) for flag in (*FLAGS, "is_enabled")),
                 sa.column("created_at", UTCDateTime))
role_grants = sa.table("role_grants",
                       *(sa.column(name, sa.Integer) for name in (
                           "id", "user_id", "centre_id", "scope_id", "granted_by_id")),
                       *(sa.column(name, sa.String) for name in ("role", "scope_type")),
                       *(sa.column(name, UTCDateTime) for name in ("expires_at", "granted_at")))
audit_events = sa.table("audit_events", sa.column("actor_id", sa.Integer),
                        sa.column("centre_id", sa.Integer), sa.column("action", sa.String),
                        sa.column("data", sa.JSON), sa.column("at", UTCDateTime))


@pytest.fixture()
def database_at_0004(tmp_path):
    with app_on_new_database(tmp_path) as app, app.app_context():
        upgrade(revision=BEFORE)
        yield app


def _user(user_id, email, *flags):
    return {"id": user_id, "centre_id": 1, "email": email, "name": email, "password_hash": "x",
            "is_enabled": True, "created_at": CREATED + dt.timedelta(days=user_id),
            **{flag: flag in flags for flag in FLAGS}}


def test_flags_become_grants_and_come_back(database_at_0004):
    with db.engine.begin() as connection:
        connection.execute(centres.insert().values(id=1, name="North", created_at=CREATED))
        connection.execute(users.insert(), [
            _user(1, "learner@north.test", "is_learner"),
            _user(2, "iqa@north.test", "is_assessor", "is_iqa"),
        ])
        # Rows that refer to the users, so rebuilding the users table must keep them valid.
        connection.execute(audit_events.insert().values(
            actor_id=2, centre_id=1, action="user.created", data={}, at=CREATED))

    upgrade(revision=AFTER)
    with db.engine.connect() as connection:
        grants = connection.execute(sa.select(role_grants).order_by(role_grants.c.id)).all()
        columns = {c["name"] for c in sa.inspect(connection).get_columns("users")}
    assert [(g.user_id, g.centre_id, g.role, g.scope_type, g.scope_id, g.expires_at,
             g.granted_at, g.granted_by_id) for g in grants] == [
        (1, 1, "learner", None, None, None, CREATED + dt.timedelta(days=1), None),
        (2, 1, "assessor", None, None, None, CREATED + dt.timedelta(days=2), None),
        (2, 1, "iqa", None, None, None, CREATED + dt.timedelta(days=2), None),
    ]
    assert not columns & set(FLAGS)

    # Grants that no flag can express: in another centre, scoped, expired.
    with db.engine.begin() as connection:
        connection.execute(centres.insert().values(id=2, name="South", created_at=CREATED))
        for values in ({"centre_id": 2}, {"scope_type": "learner", "scope_id": 1},
                       {"expires_at": CREATED + dt.timedelta(days=3)}):
            connection.execute(role_grants.insert().values(
                **{"user_id": 2, "centre_id": 1, "role": "centre_admin", "granted_at": CREATED,
                   **values}))

    downgrade(revision=BEFORE)
    with db.engine.connect() as connection:
        flags = connection.execute(sa.select(users.c.id, *(users.c[f] for f in FLAGS))
                                   .order_by(users.c.id)).all()
        tables = set(sa.inspect(connection).get_table_names())
    assert [tuple(row) for row in flags] == [(1, True, False, False, False),
                                             (2, False, True, True, False)]
    assert "role_grants" not in tables


def test_the_downgrade_keeps_learners_apart_from_staff(database_at_0004):
    """The check constraint is back after a round trip."""
    upgrade(revision=AFTER)
    downgrade(revision=BEFORE)
    with db.engine.begin() as connection:
        connection.execute(centres.insert().values(id=1, name="North", created_at=CREATED))
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
        connection.execute(users.insert(), [_user(1, "x@north.test", "is_learner", "is_iqa")])


def test_sqlite_enforces_foreign_keys_again_after_migrating(database_at_0004):
    """Migrations run on SQLite with foreign keys off (to rebuild tables that others refer to);
    the connection goes back to the pool with them on."""
    upgrade(revision=AFTER)
    with db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            pytest.skip("a SQLite pragma")
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
