"""Real concurrent requests on PostgreSQL: an enrolment withdrawn while its assessor judges, or
moved by two admins at once. The enrolment lock serialises them, so no decision lands on an
ended record and the history of holders never has two open rows for one role."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portfolio.accounts.history import EnrolmentAssignment
from portfolio.accounts.models import Enrolment
from portfolio.assessment.models import Decision
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.assessment import add_item, criteria_of
from tests.helpers.concurrency import post_together
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_people

pytestmark = pytest.mark.skipif(not on_postgres(),
                                reason="real concurrent transactions need PostgreSQL")


@pytest.fixture()
def fresh(tmp_path, builtin_specs):
    """A migrated database with, committed, learner1's item claiming two criteria of 301."""
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            criteria = criteria_of(db.session, people.enrolment1, "301", 2)
            item = add_item(db.session, people.enrolment1, criteria)
            db.session.commit()
            ids = SimpleNamespace(
                app=app, item=item.id, enrolment=people.enrolment1.id, criteria=criteria,
                admin=people.admin.email, assessor1=people.assessor1.email,
                assessor2=people.assessor2.id, iqa1=people.iqa1.id)
            db.session.remove()
        yield ids


def test_withdrawing_while_the_assessor_judges(fresh):
    """Either order may win; neither may leave a decision recorded after the end."""
    judgement = {f"outcome-{c}": "met" for c in fresh.criteria}
    withdraw = {"withdraw-ended_on": dt.date.today().isoformat(), "withdraw-reason": "Left"}
    responses = post_together(fresh.app, [
        (fresh.assessor1, f"/evidence/{fresh.item}/judge", judgement),
        (fresh.admin, f"/enrolments/{fresh.enrolment}/withdraw", withdraw)])
    statuses = [getattr(r, "status_code", r) for r in responses]
    with fresh.app.app_context():
        ended_at = db.session.get(Enrolment, fresh.enrolment).ended_at
        decided = list(db.session.scalars(sa.select(Decision.decided_at).where(
            Decision.enrolment_id == fresh.enrolment)))
        db.session.remove()
    assert ended_at is not None and statuses[1] == 302, statuses
    # Judged first (302), or refused: the page gone (404), or the judging page again with the
    # service's message (422, as every refused judgement) when the withdrawal committed while
    # the judgement waited.
    assert statuses[0] in (302, 404, 422), statuses
    assert (statuses[0] == 302) == bool(decided), statuses
    assert all(when <= ended_at for when in decided), (statuses, decided, ended_at)


def test_two_admins_moving_the_same_enrolment_at_once(fresh):
    move = {"move-assessor_id": fresh.assessor2, "move-iqa_id": fresh.iqa1}
    url = f"/enrolments/{fresh.enrolment}/move"
    responses = post_together(fresh.app, [(fresh.admin, url, move), (fresh.admin, url, move)])
    statuses = sorted(getattr(r, "status_code", r) for r in responses)
    # The second waits for the first, then finds nothing left to move.
    assert statuses == [302, 422], responses
    with fresh.app.app_context():
        open_rows = db.session.scalars(sa.select(EnrolmentAssignment.user_id).where(
            EnrolmentAssignment.enrolment_id == fresh.enrolment,
            EnrolmentAssignment.role == "assessor", EnrolmentAssignment.to_at.is_(None))).all()
        db.session.remove()
    assert open_rows == [fresh.assessor2]
