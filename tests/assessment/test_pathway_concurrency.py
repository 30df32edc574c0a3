"""Real concurrent requests on PostgreSQL: the learner choosing the same pathway twice at the same
moment (a double click, two tabs) records it once; the enrolment lock makes the second request see
the first's choice."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.assessment.models import PathwayChoice
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.concurrency import post_at_once
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_people

pytestmark = pytest.mark.skipif(not on_postgres(),
                                reason="real concurrent transactions need PostgreSQL")


@pytest.mark.parametrize("attempt", range(5))
def test_the_same_choice_at_once_is_recorded_once(tmp_path, builtin_specs, attempt):
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            db.session.commit()
            email, enrolment_id = people.learner2.email, people.enrolment2.id
            db.session.remove()
        responses = post_at_once(app, email, f"/enrolments/{enrolment_id}/pathway",
                                 {"units": ["03", "04"]})
        assert sorted(getattr(r, "status_code", r) for r in responses) == [302, 422], responses
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(PathwayChoice)) == 1
            db.session.remove()
