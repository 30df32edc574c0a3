"""The sampling pages: who may reach each route (two IQAs, two assessors, a learner, an admin of
the centre and of another), recording through the form with refusals kept at their fields, the
progress page's notes, the IQA landing on their home, and its queries constant in the learners."""

from __future__ import annotations

import datetime as dt
import html
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portfolio.quality import actions
from portfolio.quality.models import ActionEntry, PlanRevision, Sample
from tests.helpers.assessment import unit_node
from tests.helpers.factories import make_enrolment, make_user
from tests.helpers.queries import count_rows, statements_of_get
from tests.helpers.sampling import (
    ACTION,
    FEEDBACK,
    judged_unit,
    make_plan,
    planned_sample,
    sample_with_action,
)
from tests.helpers.web import csrf_token, text

EVERYONE = ["learner1", "assessor1", "assessor2", "iqa1", "iqa2", "admin", "other_admin"]


@pytest.fixture()
def state(session, people):
    """Unit 204 of learner1 judged by assessor1; a planned sample of it in iqa1's plan; a sample
    of unit 301 with an open action for assessor1."""
    enrolment = people.enrolment1
    item, decisions = judged_unit(session, enrolment, people.assessor1)
    planned = planned_sample(session, people.iqa1, people.assessor1, enrolment)
    other_item, other_decisions = judged_unit(session, enrolment, people.assessor1, "301")
    sample = sample_with_action(session, people.iqa1, enrolment, other_decisions[0].unit_id,
                                other_decisions, [other_item])
    session.commit()
    unit_id = unit_node(session, enrolment, "204").id
    return SimpleNamespace(
        item=item, decisions=decisions, unit_id=unit_id, planned=planned, sample=sample,
        action=sample.actions[0],
        open=f"/quality/enrolments/{enrolment.id}/units/{unit_id}/sample",
        open_planned=f"/quality/planned/{planned.id}/sample",
        page=f"/quality/samples/{sample.id}")


def form_data(state, **overrides) -> dict:
    data = {"decisions": [str(d.id) for d in state.decisions], "items": [str(state.item.id)],
            "outcome": "action_required", "feedback": FEEDBACK,
            "actions-0-owner_id": str(state.decisions[0].assessor_id),
            "actions-0-text": ACTION,
            "actions-0-due_on": (dt.date.today() + dt.timedelta(days=7)).isoformat()}
    for check in ("valid", "authentic", "current", "sufficient", "reliable"):
        data[check] = "yes"
        data[f"{check}_note"] = ""
    data.update(overrides)
    return data


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_open_a_sample(login, people, state, who):
    client = login(getattr(people, who))
    for url, allowed in ((state.open, {"iqa1"}), (state.open_planned, {"iqa1"}),
                         (state.page, {"iqa1", "assessor1", "admin"}),
                         ("/quality", {"iqa1", "iqa2", "assessor1", "assessor2"})):
        status = client.get(url).status_code
        assert status == (200 if who in allowed else 404), (who, url, status)


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_record_a_sample(login, people, session, state, who):
    client = login(getattr(people, who))
    token = csrf_token(client, "/catalogue/")
    for url in (state.open, state.open_planned):
        response = client.post(url, data={**form_data(state), "csrf_token": token})
        assert response.status_code == (302 if who == "iqa1" else 404), (who, url)
    assert count_rows(session, Sample) == (3 if who == "iqa1" else 1)


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_act_on_an_action(login, people, session, state, who):
    client = login(getattr(people, who))
    token = csrf_token(client, "/catalogue/")
    base = f"/quality/actions/{state.action.id}"
    answers = {}
    for verb in ("respond", "close", "reopen"):
        answers[verb] = client.post(f"{base}/{verb}", data={
            f"action-{state.action.id}-text": "Done.",
            "csrf_token": token}).status_code
    expected = {"assessor1": {"respond": 302, "close": 404, "reopen": 404},
                # The IQA closes the open action, then may reopen it.
                "iqa1": {"respond": 404, "close": 302, "reopen": 302}}.get(
        who, {"respond": 404, "close": 404, "reopen": 404})
    assert answers == expected
    assert count_rows(session, ActionEntry) == sum(1 for s in expected.values() if s == 302)


def test_recording_through_the_form(login, people, session, state):
    client = login(people.iqa1)
    page = text(client.get(state.open_planned))
    assert "Stage: <strong>Interim</strong>" in page and "planned as interim" in page
    for d in state.decisions:
        assert f'name="decisions" value="{d.id}" checked' in page
    token = csrf_token(client, "/catalogue/")
    refused = client.post(state.open_planned, data={**form_data(
        state, feedback="", **{"actions-0-due_on": "2001-01-01", "valid": "no"}),
        "csrf_token": token})
    assert refused.status_code == 422
    page = html.unescape(text(refused))
    assert "Nothing was recorded: 3 answers need changing." in page
    for message in ("Say why the sample is not valid.", "Give the assessor feedback",
                    "The day it is due cannot be in the past."):
        assert message in page
    # Everything typed is kept.
    assert ACTION in page and 'value="2001-01-01"' in page
    assert count_rows(session, Sample) == 1
    done = client.post(state.open_planned, data={**form_data(state), "csrf_token": token})
    assert done.status_code == 302
    sample = session.scalar(sa.select(Sample).where(Sample.planned_sample_id == state.planned.id))
    assert done.headers["Location"] == f"/quality/samples/{sample.id}"
    page = html.unescape(text(client.get(done.headers["Location"])))
    assert "Outcome: <strong>Action required</strong>" in page and ACTION in page
    again = client.post(state.open_planned, data={**form_data(state), "csrf_token": token})
    assert again.status_code == 422 and "carried out by Iqa1" in html.unescape(text(again))


def test_own_decisions_are_shown_not_selectable(login, people, session):
    """iqa2 also assesses: on learner2, whose assessor they are not but whose IQA they are, a
    decision of theirs shows with the reason and without a box."""
    enrolment = people.enrolment2
    item, decisions = judged_unit(session, enrolment, people.iqa2, "01", decided=1)
    session.commit()
    client = login(people.iqa2)
    page = html.unescape(text(client.get(
        f"/quality/enrolments/{enrolment.id}/units/{decisions[0].unit_id}/sample")))
    assert f'name="decisions" value="{decisions[0].id}"' not in page
    assert "Not selectable:" in page and "your own decision" in page


def test_the_progress_page_shows_open_actions_and_sampling(login, people, state):
    page = html.unescape(text(login(people.assessor1).get(
        f"/enrolments/{people.enrolment1.id}/progress")))
    assert f"Open IQA action “{ACTION}” for Assessor1" in page
    assert "Sample unit 204" not in page
    page = text(login(people.iqa1).get(f"/enrolments/{people.enrolment1.id}/progress"))
    assert f'href="{state.open}">Sample unit 204</a>' in page


def test_an_iqa_lands_on_the_quality_home(login, people, state):
    response = login(people.iqa1).get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/quality"
    # iqa2 also assesses: their home stays the list of all their enrolments.
    assert login(people.iqa2).get("/").status_code == 200


def test_the_home_lists_due_samples_and_actions(login, people, session, state):
    overdue = planned_sample(session, people.iqa1, people.assessor1, people.enrolment1, "301",
                             due_on=dt.date.today() - dt.timedelta(days=3),
                             revision=session.get(PlanRevision, state.planned.added_in_id))
    later = planned_sample(session, people.iqa1, people.assessor1, people.enrolment1, "302",
                           due_on=dt.date.today() + dt.timedelta(days=40),
                           revision=session.get(PlanRevision, state.planned.added_in_id))
    session.commit()
    page = html.unescape(text(login(people.iqa1).get("/quality")))
    assert "Samples due this month" in page and f"/quality/planned/{state.planned.id}/sample" in page
    assert f"/quality/planned/{overdue.id}/sample" in page and "overdue" in page
    assert f"/quality/planned/{later.id}/sample" not in page
    assert ACTION[:40] in page
    page = html.unescape(text(login(people.assessor1).get("/quality")))
    assert "Actions for you to answer" in page and ACTION[:40] in page
    assert "Samples due this month" not in page


def test_the_home_does_not_grow_with_the_learners(login, people, session):
    client = login(people.iqa1)
    ids = SimpleNamespace(centre=people.centre.id, assessor=people.assessor1.id,
                          iqa=people.iqa1.id)
    revision = make_plan(session, people.iqa1, people.assessor1, people.enrolment1)
    counts = []
    for round_ in range(2):
        centre, assessor, iqa = (session.get(type(people.centre), ids.centre),
                                 session.get(type(people.assessor1), ids.assessor),
                                 session.get(type(people.iqa1), ids.iqa))
        for n in range(3):
            learner = make_user(session, centre, f"q{round_}-{n}@north.test", "learner")
            enrolment = make_enrolment(session, learner, assessor, iqa)
            item, decisions = judged_unit(session, enrolment, assessor)
            sample_with_action(session, iqa, enrolment, decisions[0].unit_id, decisions, [item])
            planned_sample(session, iqa, assessor, enrolment, "301",
                           revision=session.merge(revision))
        counts.append(len(statements_of_get(client, session, "/quality")))
    assert counts[0] == counts[1], counts


def test_the_audit_trail_reads_samples_and_links_them(login, people, session, state):
    actions.respond(session, state.action, people.assessor1, "Statement added.")
    session.commit()
    page = html.unescape(text(login(people.admin).get("/admin/audit")))
    assert ("sampled unit 301 (interim): 11 decisions of Assessor1, action required, "
            "1 action(s) raised") in page
    assert f"responded to IQA action #{state.action.id}: Statement added." in page
    assert page.count(f'href="/quality/samples/{state.sample.id}"') == 2
