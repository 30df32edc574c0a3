"""Real concurrent countersigning on PostgreSQL: two qualified assessors submit the same decision
at the same moment; exactly one countersignature is kept and the other is told."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.accounts import services as accounts
from portfolio.assessment.models import Countersignature
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.browser import seed_enrolment
from tests.helpers.concurrency import post_together
from tests.helpers.countersigning import record_staff, seed_awaiting_countersignature
from tests.helpers.databases import on_postgres
from tests.helpers.factories import PASSWORD
from tests.helpers.web import text

pytestmark = pytest.mark.skipif(not on_postgres(),
                                reason="real concurrent transactions need PostgreSQL")

DOMAIN = "race.example.org"


def test_two_countersign_the_same_decision_at_once(tmp_path, builtin_specs):
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            seeded = seed_enrolment(db.session, "Race College", DOMAIN, "RC-0",
                                    dt.date.today() - dt.timedelta(days=30),
                                    dt.date.today() + dt.timedelta(days=300),
                                    roles=("learner", "assessor", "iqa"))
            awaiting = seed_awaiting_countersignature(
                db.session, seeded.centre, seeded.users["assessor"], seeded.users["iqa"], DOMAIN)
            second = accounts.create_user(db.session, seeded.centre, accounts.NewUser(
                f"second@{DOMAIN}", "Sam Second", PASSWORD, ("assessor",)), actor=None)
            record_staff(db.session, second, "qualified", dt.date(2020, 1, 1))
            db.session.commit()
            emails = [seeded.users["assessor"].email, second.email]
            db.session.remove()
        data = {"decisions": str(awaiting.decision_id)}
        responses = post_together(app, [(email, "/countersignatures", data)
                                         for email in emails])
        statuses = sorted(r.status_code for r in responses)
        assert statuses[0] == 302 and statuses[1] in (409, 422), responses
        refused = next(r for r in responses if r.status_code != 302)
        assert ("already countersigned" in text(refused)
                or "at the same moment" in text(refused))
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(
                Countersignature)) == 1
