"""Two submissions of the same planned sample at the same moment (PostgreSQL, a fresh database,
two logged-in clients in their own threads): one is recorded, the other refused, never both.
On an open record the enrolment's lock makes the second see the first; on an ended one, which
takes no lock, the unique index on the planned sample refuses the loser."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from portfolio.core.db import utcnow
from portfolio.extensions import db
from portfolio.quality.models import Sample
from tests.helpers.app import app_on_new_database
from tests.helpers.concurrency import post_at_once
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_people
from tests.helpers.queries import count_rows
from tests.helpers.sampling import ACTION, FEEDBACK, judged_unit, planned_sample
from tests.helpers.web import text

pytestmark = pytest.mark.skipif(not on_postgres(),
                                reason="real concurrent transactions need PostgreSQL")


@pytest.mark.parametrize("ended", [False, True], ids=["open record", "ended record"])
def test_a_planned_sample_submitted_twice_at_once_is_recorded_once(tmp_path, builtin_specs,
                                                                   ended):
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            enrolment = people.enrolment1
            item, decisions = judged_unit(db.session, enrolment, people.assessor1)
            planned = planned_sample(db.session, people.iqa1, people.assessor1, enrolment)
            if ended:
                enrolment.status, enrolment.ended_at = "completed", utcnow()
            db.session.commit()
            data = {"decisions": [str(d.id) for d in decisions], "items": [str(item.id)],
                    "outcome": "action_required", "feedback": FEEDBACK,
                    "actions-0-owner_id": str(people.assessor1.id), "actions-0-text": ACTION,
                    "actions-0-due_on": (dt.date.today() + dt.timedelta(days=7)).isoformat(),
                    **{check: "yes" for check in ("valid", "authentic", "current",
                                                  "sufficient", "reliable")}}
            url, email = f"/quality/planned/{planned.id}/sample", people.iqa1.email
            db.session.remove()
        responses = post_at_once(app, email, url, data)
        statuses = sorted(r.status_code for r in responses)
        assert statuses[0] == 302 and statuses[1] in (409, 422), statuses
        loser = html.unescape(text(max(responses, key=lambda r: r.status_code)))
        assert "carried out by Iqa1" in loser or "recorded by someone else" in loser
        with app.app_context():
            assert count_rows(db.session, Sample) == 1
            db.session.remove()
