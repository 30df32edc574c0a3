"""Who may do what on every assessment route, for two users of each role and another centre.
A refusal is a 404, the same as a missing id, and changes nothing."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from portfolio.assessment.models import Decision, UnitDeclaration, UnitSignOff, UnitUnlock
from portfolio.assessment.units import record_prior_achievement
from tests.helpers.assessment import add_item, criteria_of, meet_unit, unit_node
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token

EVERYONE = ["learner1", "learner2", "assessor1", "assessor2", "iqa1", "iqa2", "admin",
            "other_admin", "other_learner"]
VIEWERS = {"learner1", "assessor1", "iqa1", "admin"}
ASSESSOR = {"assessor1"}
LEARNER = {"learner1"}
UNLOCKERS = {"admin"}
ASSESSORS = {"assessor1", "assessor2", "iqa2"}
CENTRE_ADMINS = {"admin", "other_admin"}


@pytest.fixture()
def state(session, people):
    """learner1's portfolio: an item awaiting judgement (unit 303), unit 301 ready for sign-off,
    unit 302 achieved by credit transfer (to unlock)."""
    enrolment = people.enrolment1
    item = add_item(session, enrolment, criteria_of(session, enrolment, "303", 2))
    meet_unit(session, enrolment, "301", people.assessor1)
    transferred = record_prior_achievement(
        session, enrolment, unit_node(session, enrolment, "302").id, people.assessor1,
        "credit_transfer", "Certificate 1")
    session.commit()
    e = enrolment.id
    return SimpleNamespace(
        item=item, sign_off=transferred,
        judge=f"/evidence/{item.id}/judge",
        progress=f"/enrolments/{e}/progress",
        grid=f"/enrolments/{e}/grid",
        criterion=f"/enrolments/{e}/criteria/{item.claims[0].criterion_id}",
        # Every criterion of unit 301 is met: the learner may declare it.
        declare=f"/enrolments/{e}/units/{unit_node(session, enrolment, '301').id}/declare",
        sign_off_url=f"/enrolments/{e}/units/{unit_node(session, enrolment, '301').id}/sign-off",
        prior=f"/enrolments/{e}/units/{unit_node(session, enrolment, '305').id}/prior",
        unlock=f"/enrolments/{e}/sign-offs/{transferred.id}/unlock",
    )


@pytest.mark.parametrize("who", EVERYONE)
def test_viewing_routes(login, people, state, who):
    client = login(getattr(people, who))
    for route in (state.progress, state.grid, state.criterion):
        status = client.get(route).status_code
        assert status == (200 if who in VIEWERS else 404), (who, route, status)


@pytest.mark.parametrize("who", EVERYONE)
def test_judging(login, people, session, state, who):
    client = login(getattr(people, who))
    criterion = state.item.claims[0].criterion_id
    assert client.get(state.judge).status_code == (200 if who in ASSESSOR else 404)
    response = client.post(state.judge, data={
        "csrf_token": csrf_token(client, "/catalogue/"), f"outcome-{criterion}": "met",
        f"current-{criterion}": ""})
    assert response.status_code == (302 if who in ASSESSOR else 404)
    assert count_rows(session, Decision, Decision.item_id == state.item.id) == (
        1 if who in ASSESSOR else 0)


@pytest.mark.parametrize("who", EVERYONE)
def test_declaring(login, people, session, state, who):
    client = login(getattr(people, who))
    response = client.post(state.declare, data={"csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == (302 if who in LEARNER else 404)
    assert count_rows(session, UnitDeclaration) == (1 if who in LEARNER else 0)


@pytest.mark.parametrize("who", EVERYONE)
def test_signing_off(login, people, session, state, who):
    client = login(getattr(people, who))
    response = client.post(state.sign_off_url,
                           data={"csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == (302 if who in ASSESSOR else 404)
    assert count_rows(session, UnitSignOff) == (2 if who in ASSESSOR else 1)


@pytest.mark.parametrize("who", EVERYONE)
def test_prior_achievement(login, people, session, state, who):
    client = login(getattr(people, who))
    assert client.get(state.prior).status_code == (200 if who in ASSESSOR else 404)
    response = client.post(state.prior, data={"csrf_token": csrf_token(client, "/catalogue/"),
                                              "method": "rpl",
                                              "details": "Employer training record"})
    assert response.status_code == (302 if who in ASSESSOR else 404)
    assert count_rows(session, UnitSignOff, UnitSignOff.method == "rpl") == (
        1 if who in ASSESSOR else 0)


@pytest.mark.parametrize("who", EVERYONE)
def test_unlocking(login, people, session, state, who):
    client = login(getattr(people, who))
    assert client.get(state.unlock).status_code == (200 if who in UNLOCKERS else 404)
    response = client.post(state.unlock, data={"csrf_token": csrf_token(client, "/catalogue/"),
                                               "reason": "Typo"})
    assert response.status_code == (302 if who in UNLOCKERS else 404)
    assert count_rows(session, UnitUnlock) == (1 if who in UNLOCKERS else 0)


@pytest.mark.parametrize("who", EVERYONE)
def test_caseload_and_audit(login, people, who):
    client = login(getattr(people, who))
    assert client.get("/caseload").status_code == (200 if who in ASSESSORS else 404)
    assert client.get("/admin/audit").status_code == (200 if who in CENTRE_ADMINS else 404)


def test_anonymous_visitors_are_sent_to_log_in(client, people, state):
    for route in (state.judge, state.progress, state.grid, state.criterion, state.prior,
                  state.unlock, "/caseload", "/admin/audit"):
        response = client.get(route)
        assert response.status_code == 302 and "/login" in response.headers["Location"], route


def test_posts_without_a_csrf_token_are_refused(login, people, session, state):
    criterion = state.item.claims[0].criterion_id
    client = login(people.assessor1)
    assert client.post(state.judge, data={f"outcome-{criterion}": "met"}).status_code == 400
    assert client.post(state.sign_off_url).status_code == 400
    assert client.post(state.prior, data={"method": "rpl", "details": "x"}).status_code == 400
    client = login(people.learner1)
    assert client.post(state.declare).status_code == 400
    client = login(people.admin)
    assert client.post(state.unlock, data={"reason": "x"}).status_code == 400
    assert count_rows(session, Decision, Decision.item_id == state.item.id) == 0
    assert (count_rows(session, UnitSignOff), count_rows(session, UnitDeclaration),
            count_rows(session, UnitUnlock)) == (1, 0, 0)


def test_ids_that_do_not_belong_together_are_404(login, people, session, state):
    other_unit = unit_node(session, people.enrolment2, "01").id
    theirs = record_prior_achievement(session, people.enrolment2, other_unit,
                                               people.assessor2, "rpl", "Certificate")
    session.commit()
    e = people.enrolment1.id
    client = login(people.assessor1)
    assert client.get("/evidence/999999/judge").status_code == 404
    assert client.get("/enrolments/999999/progress").status_code == 404
    assert client.get(f"/enrolments/{e}/units/{other_unit}/prior").status_code == 404
    client = login(people.admin)
    assert client.get(f"/enrolments/{e}/sign-offs/{theirs.id}/unlock").status_code == 404
    assert client.get(f"/enrolments/{e}/sign-offs/999999/unlock").status_code == 404


def test_an_ended_enrolment_can_no_longer_be_judged(login, people, session, state):
    people.enrolment1.status = "withdrawn"
    people.enrolment1.ended_at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    session.commit()
    client = login(people.assessor1)
    assert client.get(state.judge).status_code == 404
    assert client.get(state.prior).status_code == 404
    assert client.get(state.progress).status_code == 200
