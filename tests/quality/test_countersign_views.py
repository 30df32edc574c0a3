"""The countersigning pages: who may see and use them (two assessors, an IQA who also assesses,
a learner, the centre's admin and another centre's), countersigning several at once or one from
its decision page, and the refusals as the page shows them."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.assessment.models import Countersignature
from tests.helpers.assessment import decide
from tests.helpers.countersigning import record_staff
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token, flashes, text
from tests.quality.test_countersign import diploma  # noqa: F401 - the fixture

EVERYONE = ["assessor1", "assessor2", "iqa1", "iqa2", "learner1", "admin", "other_admin",
            "other_learner"]


@pytest.fixture()
def awaiting(session, people, diploma):  # noqa: F811
    """assessor1's two decisions awaiting countersignature; assessor2 is qualified."""
    decisions = decide(session, diploma.item, people.assessor1, diploma.criteria[:2])
    session.commit()
    return decisions


@pytest.mark.parametrize("who", EVERYONE)
def test_only_a_qualified_assessor_of_the_centre_sees_the_pages(login, people, awaiting, who):
    client = login(getattr(people, who))
    allowed = who == "assessor2"
    for url in ("/countersignatures", f"/countersignatures/decisions/{awaiting[0].id}"):
        response = client.get(url)
        assert response.status_code == (200 if allowed else 404), (who, url)
    if allowed:
        page = text(client.get("/countersignatures"))
        assert "Dee Ploma" in page and "Unit 1 criterion 1.1: Met" in page
        assert "Assessor1" in page and "Job search log" in page


@pytest.mark.parametrize("who", [w for w in EVERYONE if w != "assessor2"])
def test_nobody_else_can_countersign(session, login, people, awaiting, who):
    client = login(getattr(people, who))
    response = client.post("/countersignatures", data={
        "decisions": [awaiting[0].id], "csrf_token": csrf_token(client, "/catalogue/")})
    # Another centre's people never learn the record exists; the centre's own are told why.
    assert response.status_code in (404, 422), who
    if who in ("assessor1", "iqa2"):
        assert response.status_code == 422
    else:
        assert response.status_code == 404
    assert count_rows(session, Countersignature) == 0


def test_several_are_countersigned_at_once_and_leave_the_list(session, login, people,
                                                              awaiting):
    client = login(people.assessor2)
    response = client.post("/countersignatures", data={
        "decisions": [d.id for d in awaiting], "csrf_token": csrf_token(client, "/catalogue/")},
        follow_redirects=True)
    assert "Countersigned 2 records: they count from now on." in flashes(text(response))
    assert "Nothing is waiting for your countersignature." in text(response)
    assert count_rows(session, Countersignature) == 2


def test_one_is_countersigned_from_its_decision_page_and_a_second_submit_is_refused(
        session, login, people, awaiting):
    client = login(people.assessor2)
    url = f"/countersignatures/decisions/{awaiting[0].id}"
    page = text(client.get(url))
    assert "Countersign this decision" in page and "Job search log" in page
    data = {"decisions": [awaiting[0].id], "csrf_token": csrf_token(client, "/catalogue/")}
    assert client.post("/countersignatures", data=data).status_code == 302
    again = client.post("/countersignatures", data=data)
    assert again.status_code == 422
    assert "is already countersigned, by Assessor2." in text(again)
    assert "Countersigned by Assessor2" in text(client.get(url))


def test_nothing_ticked_is_refused_on_the_page(login, people, awaiting):
    client = login(people.assessor2)
    response = client.post("/countersignatures",
                           data={"csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == 422
    assert "Choose at least one decision or sign-off to countersign." in text(response)


def test_a_qualified_assessor_of_another_qualification_only_sees_nothing(session, login, people,
                                                                         awaiting):
    session.execute(sa.delete(Countersignature))
    record_staff(session, people.iqa2, "qualified", dt.date(2020, 1, 1), "600/1636/X")
    session.commit()
    client = login(people.iqa2)
    assert "Nothing is waiting for your countersignature." in text(
        client.get("/countersignatures"))
    assert client.get(f"/countersignatures/decisions/{awaiting[0].id}").status_code == 404


def test_the_learner_and_the_assessor_see_awaiting_countersignature(login, people, awaiting,
                                                                     diploma):  # noqa: F811
    for viewer in (diploma.learner, people.assessor1):
        client = login(viewer)
        progress = text(client.get(f"/enrolments/{diploma.enrolment.id}/progress"))
        assert "0 / " in progress and "(2 awaiting countersignature)" in progress
        grid = text(client.get(f"/enrolments/{diploma.enrolment.id}/grid"))
        assert "Met, awaiting countersignature" in grid
    evidence = text(login(diploma.learner).get(f"/enrolments/{diploma.enrolment.id}/evidence"))
    assert "Awaiting a decision" in evidence  # the item's other criteria are still undecided


def test_a_duplicate_past_the_check_is_answered_by_the_unique_index(
        session, login, people, awaiting, monkeypatch):
    """What two simultaneous submits come to when both pass the service's check before either
    commits: the second insert breaks the unique index, and the page says someone was first."""
    from portfolio.assessment import countersigning
    from portfolio.assessment.countersigning_views import ALREADY

    session.add(Countersignature(decision_id=awaiting[0].id, by_id=people.iqa2.id))
    session.commit()
    monkeypatch.setattr(countersigning, "_problem", lambda *args: None)
    client = login(people.assessor2)
    response = client.post("/countersignatures", data={
        "decisions": [awaiting[0].id], "csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == 409
    assert ALREADY in text(response).replace("&#39;", "'")
    assert count_rows(session, Countersignature) == 1
