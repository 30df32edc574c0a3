"""A person's page and its forms through the app: only the admins of the person's centre reach
it (404 for everyone else, on every route), refusals are shown next to their field, role changes
reach the person on their next request, and everyone sees their own profile."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from portfolio.accounts import enrolments as lifecycle
from portfolio.accounts import people as running
from portfolio.accounts import staff
from portfolio.catalogue import services as catalogue
from tests.helpers.factories import make_user
from tests.helpers.web import csrf_token, flashes, text

EVERYONE = ["learner1", "assessor1", "assessor2", "iqa1", "iqa2", "admin", "other_admin",
            "other_learner"]
ACTIONS = {"details": {"name": "New Name", "email": "new.name@north.example.org"},
           "roles": {"roles": ["assessor", "iqa"]},
           "staff-records": {"role": "assessor", "status": "working_towards",
                             "started_on": "2025-01-06"}}


def _post(client, person, action, **data):
    fields = {f"{action}-{key}": value for key, value in data.items()}
    return client.post(f"/admin/users/{person.id}/{action}",
                       data={"csrf_token": csrf_token(client, "/catalogue/"), **fields})


def _error_of(page: str, field_id: str) -> str:
    """The messages shown next to the field with this id."""
    found = re.search(rf'id="{field_id}-error">(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


@pytest.mark.parametrize("who", EVERYONE)
def test_only_the_admins_of_the_persons_centre_reach_the_page_and_its_forms(
        login, people, session, who):
    person = people.assessor1
    client = login(getattr(people, who))
    page = client.get(f"/admin/users/{person.id}")
    allowed = who == "admin"
    assert page.status_code == (200 if allowed else 404)
    qualification_id = catalogue.find_version(session, "600/1636/X").qualification_id
    for action, data in ACTIONS.items():
        if action == "staff-records":
            data = {**data, "qualification_id": qualification_id}
        response = _post(client, person, action, **data)
        assert response.status_code == (302 if allowed else 404), (action, text(response))
    session.refresh(person)
    assert (person.name == "New Name") == allowed
    assert (len(staff.history_of(session, person.id)) == 1) == allowed


def test_another_centres_admin_gets_a_404_for_each_of_their_own_people_the_other_way(
        login, people):
    client = login(people.other_admin)
    assert client.get(f"/admin/users/{people.admin.id}").status_code == 404
    client = login(people.admin)
    assert client.get(f"/admin/users/{people.other_learner.id}").status_code == 404
    assert client.get("/admin/users/999999").status_code == 404
    assert f'href="/admin/users/{people.assessor1.id}"' in text(client.get("/admin/users"))


def test_the_page_shows_roles_past_and_present_caseload_and_records(login, people, session):
    client = login(people.admin)
    lifecycle.withdraw_enrolment(session, people.enrolment2, people.admin,
                                 on=dt.date.today(), reason="Left")
    assert _post(client, people.iqa2, "roles", roles=["iqa"]).status_code == 302
    page = text(client.get(f"/admin/users/{people.iqa2.id}"))
    assert re.search(r'id="past-roles".*Assessor', page, re.S)
    assert re.search(r'id="current-roles".*Internal quality assurer', page, re.S)
    assert "Open caseload: 0" in page
    page = text(client.get(f"/admin/users/{people.assessor1.id}"))
    assert "Open caseload: 1" in page and 'id="open-caseload"' in page


def test_refusals_are_shown_next_to_their_field_and_change_nothing(login, people, session):
    make_user(session, people.other_centre, "taken@south.example.org", "assessor")
    client = login(people.admin)
    response = _post(client, people.assessor1, "details", name="Asha",
                     email="Taken@South.example.org")
    assert response.status_code == 422
    assert "already the login of another account" in _error_of(text(response), "details-email")
    assert flashes(text(response)) == []
    response = _post(client, people.assessor1, "roles", roles=["iqa"])
    assert response.status_code == 422
    assert "still the assessor of 1 open enrolment" in _error_of(text(response), "roles-roles")
    response = _post(client, people.assessor1, "staff-records", role="assessor",
                     status="working_towards", started_on="2999-01-01",
                     qualification_id=catalogue.find_version(session, "600/1636/X")
                     .qualification_id)
    assert response.status_code == 422
    assert "still to come" in _error_of(text(response), "staff-records-started_on")
    response = _post(client, people.assessor1, "details", name="Asha", email="not an address")
    assert "Invalid email address" in _error_of(text(response), "details-email")
    session.refresh(people.assessor1)
    assert people.assessor1.name == "Assessor1" and people.assessor1.roles == ["assessor"]
    assert staff.history_of(session, people.assessor1.id) == []


def test_a_role_change_reaches_the_person_on_their_next_request(login, people, session):
    second = make_user(session, people.centre, "admin2@north.test", "centre_admin")
    session.commit()
    theirs = login(second)  # their session stays open throughout
    assert theirs.get("/admin/users").status_code == 200
    # Another admin's change, committed between two of their requests.
    running.change_roles(session, second, people.admin, ["assessor"])
    session.commit()
    assert theirs.get("/admin/users").status_code == 404
    assert "Caseload" in text(theirs.get("/catalogue/"))


def test_deactivating_from_the_page_comes_back_to_it_and_says_what_needs_moving(login, people):
    client = login(people.admin)
    response = client.post(f"/admin/users/{people.assessor1.id}/deactivate",
                           data={"csrf_token": csrf_token(client, "/catalogue/"),
                                 "next": f"/admin/users/{people.assessor1.id}"})
    assert response.headers["Location"] == f"/admin/users/{people.assessor1.id}"
    page = text(client.get(f"/admin/users/{people.assessor1.id}"))
    assert "Their 1 open enrolment needs a new assessor or IQA" in page
    assert 'href="/admin/enrolments#to-reassign"' in page


@pytest.mark.parametrize("who", ["assessor1", "learner1", "admin", "other_learner"])
def test_everyone_sees_their_own_profile_read_only(login, people, session, who):
    person = getattr(people, who)
    if who == "assessor1":
        staff.record_standing(session, person, staff.Standing(
            catalogue.find_version(session, "600/1636/X").qualification_id, "assessor",
            "qualified", dt.date(2025, 1, 6), "TAQA"), people.admin)
        session.commit()
    page = text(login(person).get("/account"))
    assert person.email in page and "<form" not in page.split("<main")[1].split("Log out")[0]
    assert ("Qualified (TAQA)" in page) == (who == "assessor1")
    assert person.role_labels.split(",")[0] in page


def test_the_profile_needs_a_login(client):
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
