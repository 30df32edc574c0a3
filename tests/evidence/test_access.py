"""Who may see what: every evidence route, for two users of each role and another centre."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.evidence.models import EvidenceItem
from tests.helpers.evidence import criterion_ids, submit_item, upload
from tests.helpers.samples import jpeg_with_location
from tests.helpers.web import csrf_token

VIEWERS = {"learner1", "assessor1", "iqa1", "admin"}
CHANGERS = {"learner1"}
EVERYONE = ["learner1", "learner2", "assessor1", "assessor2", "iqa1", "iqa2", "admin",
            "other_admin", "other_learner"]


@pytest.fixture()
def evidence(login, people, session):
    client = login(people.learner1)
    uploaded = upload(client, people.enrolment1, jpeg_with_location(), "p.jpg").get_json()["id"]
    submit_item(client, people.enrolment1, [uploaded], criterion_ids(people.enrolment1, 1))
    item = session.scalar(sa.select(EvidenceItem).order_by(EvidenceItem.id.desc()))
    return item, item.files[0]


@pytest.mark.parametrize("who", EVERYONE)
def test_read_routes(login, people, evidence, who):
    item, stored = evidence
    client = login(getattr(people, who))
    expected_ok = who in VIEWERS
    routes = [
        f"/enrolments/{people.enrolment1.id}/evidence",
        f"/evidence/{item.id}",
        f"/evidence/{item.id}/files/{stored.id}",
        f"/evidence/{item.id}/files/{stored.id}/thumbnail",
        f"/evidence/{item.id}/files/{stored.id}/preview",
    ]
    for route in routes:
        status = client.get(route).status_code
        assert status == (302 if "/files/" in route else 200) if expected_ok else status == 404, (
            who, route, status)


@pytest.mark.parametrize("who", EVERYONE)
def test_change_routes(login, people, evidence, session, who):
    item, _ = evidence
    client = login(getattr(people, who))
    token = csrf_token(client, "/catalogue/")
    claims = client.post(f"/evidence/{item.id}/claims",
                         data={"criteria": criterion_ids(people.enrolment1, 2), "csrf_token": token})
    withdraw = client.post(f"/evidence/{item.id}/withdraw", data={"csrf_token": token})
    session.refresh(item)
    if who in CHANGERS:
        assert (claims.status_code, withdraw.status_code) == (302, 302)
        assert item.is_withdrawn
    else:
        assert (claims.status_code, withdraw.status_code) == (404, 404)
        assert not item.is_withdrawn and len(item.claims) == 1


@pytest.mark.parametrize("who", [w for w in EVERYONE if w != "learner1"])
def test_only_the_learner_uploads_and_adds(login, people, who):
    client = login(getattr(people, who))
    assert upload(client, people.enrolment1, b"%PDF-1.4\n", "x.pdf").status_code == 404
    assert client.get(f"/enrolments/{people.enrolment1.id}/evidence/new").status_code == 404


def test_a_file_id_from_another_item_is_404(login, people, evidence, session):
    item, _ = evidence
    client = login(people.learner2)
    theirs = upload(client, people.enrolment2, b"%PDF-1.4\n" + b" " * 100, "y.pdf").get_json()["id"]
    submit_item(client, people.enrolment2, [theirs], criterion_ids(people.enrolment2, 1))
    client = login(people.learner1)
    assert client.get(f"/evidence/{item.id}/files/{theirs}").status_code == 404


def test_unknown_ids_are_404(login, people):
    client = login(people.admin)
    assert client.get("/evidence/999999").status_code == 404
    assert client.get("/enrolments/999999/evidence").status_code == 404
