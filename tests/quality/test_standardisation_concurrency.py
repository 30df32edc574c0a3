"""Real concurrent transactions on PostgreSQL: the last two judgements of a round recorded at the
same moment still open it, once. Each takes the activity's lock, so the second counts the
first's judgements; without it each would see the other's as missing and the round would stay
blind with everyone's judgements in."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.extensions import db
from portfolio.quality.standardisation_models import (
    StandardisationJudgement,
    StandardisationRoundOpening,
)
from tests.helpers.app import app_on_new_database
from tests.helpers.concurrency import post_together
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_people
from tests.helpers.standardisation import judge_all, plan, with_item

pytestmark = pytest.mark.skipif(not on_postgres(),
                                reason="real concurrent transactions need PostgreSQL")


def test_the_last_two_judgements_at_once_open_the_round_once(tmp_path, builtin_specs):
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            activity = plan(db.session, people.iqa1, [people.assessor1, people.assessor2],
                            people.enrolment1)
            evidence = with_item(db.session, activity, people.enrolment1)
            judge_all(db.session, activity, people.iqa1)
            url = f"/quality/standardisation/{activity.id}/evidence/{evidence.id}/judge"
            form = {key: value for c in evidence.criteria for key, value in (
                (f"outcome_{c.criterion_id}", "met"),
                (f"rationale_{c.criterion_id}", "Shows it."))}
            emails = [people.assessor1.email, people.assessor2.email]
            db.session.commit()
        responses = post_together(app, [(email, url, form) for email in emails])
        assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count())
                                     .select_from(StandardisationJudgement)) == 6
            assert db.session.scalar(sa.select(sa.func.count())
                                     .select_from(StandardisationRoundOpening)) == 1
