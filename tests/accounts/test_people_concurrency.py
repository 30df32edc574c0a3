"""Real concurrent requests on PostgreSQL: two admins giving one person the same role at the
same moment. The person's row lock serialises them, so the role is granted once and the second
admin is told nothing changed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import RoleGrant
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.concurrency import post_together
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_people, make_user

pytestmark = pytest.mark.skipif(not on_postgres(),
                                reason="real concurrent transactions need PostgreSQL")


@pytest.fixture()
def fresh(tmp_path, builtin_specs):
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            second = make_user(db.session, people.centre, "admin2@north.test", "centre_admin")
            db.session.commit()
            ids = SimpleNamespace(app=app, admins=[people.admin.email, second.email],
                                  person=people.assessor2.id)
            db.session.remove()
        yield ids


def test_two_admins_granting_the_same_role_at_once(fresh):
    url = f"/admin/users/{fresh.person}/roles"
    roles = {"roles-roles": ["assessor", "iqa"]}
    responses = post_together(fresh.app, [(admin, url, roles) for admin in fresh.admins])
    statuses = sorted(getattr(r, "status_code", r) for r in responses)
    assert statuses == [302, 422], responses
    with fresh.app.app_context():
        granted = db.session.scalars(sa.select(RoleGrant.id).where(
            RoleGrant.user_id == fresh.person, RoleGrant.role == "iqa")).all()
        db.session.remove()
    assert len(granted) == 1
