"""The embedded database with a few people writing at once: requests wait their turn, none
fails. (PostgreSQL's row locks are tested in tests/*/test_concurrency.py.)"""

from __future__ import annotations

import pytest

from portfolio.assessment.progress import progress_for
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.assessment import add_item, criteria_of, meet_unit
from tests.helpers.concurrency import post_together
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_people

pytestmark = pytest.mark.skipif(on_postgres(), reason="the embedded database's own locking")

WRITERS = 6


def test_simultaneous_judgements_and_sign_offs_all_succeed(tmp_path, builtin_specs):
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            enrolment = people.enrolment1
            criteria = criteria_of(db.session, enrolment, "301")[:WRITERS]
            item = add_item(db.session, enrolment, criteria, title="Call log")
            for number in ("302", "303"):
                meet_unit(db.session, enrolment, number, people.assessor1)
            db.session.commit()
            judge = f"/evidence/{item.id}/judge"
            sign_off = f"/enrolments/{enrolment.id}/units/{{}}/sign-off"
            units = {u.number: u.id for u in enrolment.version.units}
            assessor = people.assessor1.email
            db.session.remove()

        posts = [(assessor, judge, {f"outcome-{c}": "met"}) for c in criteria]
        posts += [(assessor, sign_off.format(units[n]), {}) for n in ("302", "303")]
        responses = post_together(app, posts)

        assert [getattr(r, "status_code", r) for r in responses] == [302] * len(posts)
        with app.app_context():
            progress = progress_for(db.session, [db.session.get(type(enrolment), enrolment.id)])
            states = progress[enrolment.id]
            assert all(states.state(c).status == "met" for c in criteria)
            assert {u.unit.number for u in states.units if u.is_achieved} == {"302", "303"}
            db.session.remove()
