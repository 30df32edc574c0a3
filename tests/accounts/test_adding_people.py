"""Adding a person whose email already has an account in another centre: the admin's answer is
the one a new person gets, the person is granted the roles here, keeps their own password and is
mailed a note saying so (never a link that sets a password), and nothing of the other centre
shows."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import RoleGrant, User
from portfolio.core.audit import AuditEvent
from tests.helpers.factories import make_user
from tests.helpers.mail import link_token, outbox, with_mail
from tests.helpers.web import csrf_token, flashes, text

NAME = "Sam Person"
# The form checks emails as a mail server would, so no ".test" domains here.
NEW = "sam.person@north-college.ac.uk"


@pytest.fixture(autouse=True)
def mail(app):
    with_mail(app)


@pytest.fixture()
def stranger(session, people):
    """The admin of South Academy."""
    return make_user(session, people.other_centre, "kim.admin@south-academy.ac.uk",
                     "centre_admin")


@pytest.fixture()
def south_learner(session, people):
    return make_user(session, people.other_centre, "lee.learner@south-academy.ac.uk",
                     "learner")


def add(client, email, roles=("assessor",)):
    account = "learner" if "learner" in roles else "staff"
    return client.post("/admin/users", data={
        "name": NAME, "email": email, "account_type": account,
        "staff_roles": [role for role in roles if role != "learner"],
        "csrf_token": csrf_token(client, "/admin/users")})


def email_errors(page: str) -> list[str]:
    """The messages next to the form's email field."""
    if 'id="email-error"' not in page:
        return []
    block = page.split('id="email-error"', 1)[1].split("</div>", 1)[0]
    return [html.unescape(m) for m in re.findall(r"</span>(.*?)</p>", block)]


def answer(client, response, email) -> tuple:
    """What the admin sees, with the email typed taken out."""
    page = client.get(response.headers["Location"]) if response.status_code == 302 else response
    return (response.status_code, response.headers.get("Location"),
            [m.replace(email, "EMAIL") for m in flashes(text(page)) + email_errors(text(page))])


def test_an_account_elsewhere_is_added_like_a_new_person(login, people, session, stranger):
    admin = login(people.admin)
    before = stranger.password_hash
    new = answer(admin, add(admin, NEW), NEW)
    existing = answer(admin, add(admin, stranger.email), stranger.email)
    assert new == existing
    assert new[0] == 302 and "or to log in with the one they have" in new[2][0]

    session.expire_all()
    stranger = session.get(User, stranger.id)
    assert stranger.holds("assessor", people.centre.id)  # granted here
    assert stranger.centre_id == people.other_centre.id and stranger.holds("centre_admin")
    assert stranger.password_hash == before
    (to_new,), (to_stranger,) = outbox(session, NEW), outbox(session, stranger.email)
    assert link_token(to_new.text_body)
    assert to_stranger.subject == "You have been added to North College"
    assert "/password/set/" not in to_stranger.text_body  # no way into their account
    assert "Log in with your existing password" in to_stranger.text_body
    events = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "user.created", AuditEvent.centre_id == people.centre.id)
        .order_by(AuditEvent.id)).all()
    assert [e.data for e in events] == [
        {"email": NEW, "roles": ["assessor"]},
        {"email": stranger.email, "roles": ["assessor"]}]

    page = text(admin.get("/admin/users"))
    row = page[page.index(stranger.email):].split("</tr>", 1)[0]
    assert "Assessor" in row and "Centre admin" not in row  # the roles held here only
    assert "South" not in page
    # Assignable like anyone added here: the role is the centre's to use.
    assessors = text(admin.get("/admin/enrolments")).split('name="assessor_id"', 1)[1]
    assert f'>{stranger.name}</option>' in assessors.split("</select>", 1)[0]


def test_refusals_do_not_depend_on_an_account_elsewhere(login, people, session, stranger):
    admin = login(people.admin)
    new = answer(admin, add(admin, NEW, roles=("learner", "assessor")), NEW)
    existing = answer(admin, add(admin, stranger.email, roles=("learner", "assessor")),
                      stranger.email)
    assert new == existing and new[0] == 200  # the form again, with its message
    assert "A learner holds no staff role" in text(add(admin, NEW, roles=("learner", "iqa")))
    assert not outbox(session)


def test_a_role_the_rule_forbids_is_refused_without_naming_the_other_centre(
        login, people, session, south_learner):
    admin = login(people.admin)
    learner = south_learner
    response = add(admin, learner.email, roles=("assessor",))
    assert response.status_code == 422
    assert email_errors(text(response)) == [
        f"{learner.email} cannot be given those roles in this centre."]
    assert not session.scalar(sa.select(RoleGrant).where(
        RoleGrant.user_id == learner.id, RoleGrant.centre_id == people.centre.id))


def test_adding_someone_already_in_the_centre_is_refused(login, people, session, stranger):
    colleague = make_user(session, people.centre, "ana.colleague@north-college.ac.uk", "iqa")
    admin = login(people.admin)
    assert add(admin, stranger.email).status_code == 302
    for email in (colleague.email, stranger.email):
        response = add(admin, email)
        assert response.status_code == 422
        assert email_errors(text(response)) == [f"There is already an account for {email}."]
