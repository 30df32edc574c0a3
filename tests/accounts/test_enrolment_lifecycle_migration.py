"""Revision 0009 gives every enrolment its status and its current holders as the first rows of
its history (ended ones included), and its downgrade removes them: the data, not only the
schema."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portfolio.catalogue import services as catalogue
from portfolio.core.db import UTCDateTime
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database

BEFORE, AFTER = "0008_outbox", "0009_enrolment_history"
CREATED = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
ENDED = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

# The tables as they are at 0007, written to with their column types.
centres = sa.table("centres", sa.column("id", sa.Integer), sa.column("name", sa.String),
                   sa.column("created_at", UTCDateTime))
users = sa.table("users", *(sa.column(name, sa.Integer) for name in ("id", "centre_id")),
                 *(sa.column(name, sa.String) for name in ("email", "name", "password_hash")),
                 sa.column("is_enabled", sa.Boolean), sa.column("created_at", UTCDateTime))
enrolments = sa.table(
    "enrolments", *(sa.column(name, sa.Integer) for name in (
        "id", "centre_id", "learner_id", "version_id", "qualification_id", "assessor_id",
        "iqa_id")),
    sa.column("registration_number", sa.String), sa.column("start_date", sa.Date),
    sa.column("planned_end_date", sa.Date), sa.column("created_at", UTCDateTime),
    sa.column("ended_at", UTCDateTime), sa.column("status", sa.String))
assignments = sa.table("enrolment_assignments", sa.column("enrolment_id", sa.Integer),
                       sa.column("role", sa.String), sa.column("user_id", sa.Integer),
                       sa.column("from_at", UTCDateTime), sa.column("to_at", UTCDateTime))


@pytest.fixture()
def database_at_0007(tmp_path, builtin_specs):
    with app_on_new_database(tmp_path) as app, app.app_context():
        upgrade(revision=BEFORE)
        catalogue.import_spec(db.session, builtin_specs["600/1636/X"])
        db.session.commit()
        yield app


def test_holders_and_status_are_backfilled_and_removed_again(database_at_0007):
    with db.engine.begin() as connection:
        version_id, qualification_id = connection.execute(sa.text(
            "SELECT id, qualification_id FROM qualification_versions")).first()
        connection.execute(centres.insert().values(id=1, name="North", created_at=CREATED))
        connection.execute(users.insert(), [
            {"id": n, "centre_id": 1, "email": f"u{n}@north.test", "name": f"U{n}",
             "password_hash": "x", "is_enabled": True, "created_at": CREATED}
            for n in range(1, 5)])
        connection.execute(enrolments.insert(), [
            {"id": 1, "centre_id": 1, "learner_id": 1, "version_id": version_id,
             "qualification_id": qualification_id, "assessor_id": 3, "iqa_id": 4,
             "registration_number": "R1", "start_date": dt.date(2026, 1, 5),
             "planned_end_date": dt.date(2027, 1, 5), "created_at": CREATED, "ended_at": None},
            {"id": 2, "centre_id": 1, "learner_id": 2, "version_id": version_id,
             "qualification_id": qualification_id, "assessor_id": 3, "iqa_id": 4,
             "registration_number": "R2", "start_date": dt.date(2026, 1, 5),
             "planned_end_date": dt.date(2027, 1, 5), "created_at": CREATED,
             "ended_at": ENDED},
        ])

    upgrade(revision=AFTER)
    with db.engine.connect() as connection:
        statuses = connection.execute(sa.select(enrolments.c.id, enrolments.c.status)
                                      .order_by(enrolments.c.id)).all()
        held = connection.execute(sa.select(assignments).order_by(
            assignments.c.enrolment_id, assignments.c.role)).all()
    assert [tuple(row) for row in statuses] == [(1, "open"), (2, "withdrawn")]
    assert [tuple(row) for row in held] == [
        (1, "assessor", 3, CREATED, None), (1, "iqa", 4, CREATED, None),
        (2, "assessor", 3, CREATED, ENDED), (2, "iqa", 4, CREATED, ENDED)]

    downgrade(revision=BEFORE)
    with db.engine.connect() as connection:
        inspector = sa.inspect(connection)
        tables = set(inspector.get_table_names())
        columns = {c["name"] for c in inspector.get_columns("enrolments")}
        ended = connection.execute(sa.text("SELECT id FROM enrolments "
                                           "WHERE ended_at IS NOT NULL")).scalars().all()
    assert not {"enrolment_assignments", "enrolment_breaks"} & tables
    assert not {"status", "ended_on", "ended_reason"} & columns
    assert ended == [2]
