"""The password links' pages through the test client: forgot password answers the same whatever
the address, and is limited; a link's page sets the password once; an admin's reset button works
for their own centre's people only; without mail, the pages say so and change nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import g

from portfolio.accounts import links
from portfolio.accounts.services import deactivate_user
from portfolio.core.audit import AuditEvent
from tests.helpers.factories import PASSWORD, make_user
from tests.helpers.mail import link_token, outbox, with_mail
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token, flashes, log_in, text

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture()
def mail(app):
    with_mail(app)


@pytest.fixture()
def sam(session, people):
    """A learner whose address the forms accept (they refuse ``.test`` domains, as mail servers
    would)."""
    return make_user(session, people.centre, "sam.learner@north-college.ac.uk", "learner")


@pytest.fixture()
def kit(session, people):
    return make_user(session, people.centre, "kit.learner@north-college.ac.uk", "learner")


def fresh_client(app):
    """Another browser. The tests' requests share the app context pushed around them, and with
    it ``g``, where Flask-WTF keeps the CSRF token it made and Flask-Login the user it loaded."""
    g.pop("csrf_token", None)
    g.pop("_login_user", None)
    return app.test_client()


def forgot(client, email, address="10.0.0.1"):
    # The page and the form from one address: the session is bound to its client's address.
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/password/forgot", data={
        "email": email, "csrf_token": csrf_token(client, "/password/forgot")})


def without_tokens(page: str) -> str:
    """A page with its CSRF tokens taken out (they differ from one form to the next)."""
    return re.sub(r'(content|value)="[^"]*\.[^"]*"', "", page)


def test_forgot_password_answers_the_same_for_any_address(app, mail, session, people, sam, kit):
    deactivate_user(session, kit, people.admin)
    session.commit()  # what the views' transactions start from
    answers = []
    for email in (sam.email, "nobody@north-college.ac.uk", kit.email):
        response = forgot(fresh_client(app), email)
        answers.append((response.status_code, without_tokens(text(response))))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 200 and "If an active account uses that address" in answers[0][1]
    (mail_sent,) = outbox(session)
    assert mail_sent.to_address == sam.email
    assert mail_sent.subject == "Reset your portfolio password"
    assert link_token(mail_sent.text_body)
    assert PASSWORD not in mail_sent.text_body and "North" not in mail_sent.text_body
    issued = session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "user.password_link_issued"))
    assert (issued.actor_id, issued.object_id, issued.address) == (None, sam.id, "10.0.0.1")


def test_forgot_password_is_limited_per_address_and_per_client(app, mail, session, sam, kit):
    session.commit()
    client = fresh_client(app)
    for _ in range(links.REQUESTS_PER_EMAIL + 2):
        assert forgot(client, sam.email).status_code == 200
    assert len(outbox(session)) == links.REQUESTS_PER_EMAIL  # no flood of one inbox

    for n in range(links.REQUESTS_PER_ADDRESS - links.REQUESTS_PER_EMAIL - 2):
        forgot(client, f"guess{n}@north-college.ac.uk")
    refused = forgot(client, kit.email)
    assert refused.status_code == 429
    assert 'id="email-error"' in text(refused) and "from your network" in text(refused)
    assert not outbox(session, kit.email)
    assert forgot(client, kit.email, "10.0.0.9").status_code == 200  # from elsewhere
    assert len(outbox(session, kit.email)) == 1


def test_a_mistyped_address_gets_a_message_next_to_the_field(app, mail, session):
    response = forgot(fresh_client(app), "not an address")
    assert 'id="email-error"' in text(response)
    assert count_rows(session, links.PasswordLinkRequest) == 0


def test_a_link_sets_the_password_once(app, mail, session, people):
    token = links.issue_link(session, people.learner1, "reset")
    session.commit()
    client = fresh_client(app)
    page = client.get(f"/password/set/{token}")
    assert page.status_code == 200 and "Choose your password" in text(page)
    assert page.headers["Cache-Control"] == "no-store"
    form_token = csrf_token(client, f"/password/set/{token}")

    mismatch = client.post(f"/password/set/{token}", data={
        "new": NEW_PASSWORD, "confirm": "something else", "csrf_token": form_token})
    assert 'id="confirm-error"' in text(mismatch) and "not the same" in text(mismatch)
    weak = client.post(f"/password/set/{token}", data={
        "new": "qwertyuiop", "confirm": "qwertyuiop", "csrf_token": form_token})
    assert weak.status_code == 422
    assert 'id="new-error"' in text(weak) and "run of keys" in text(weak)

    done = client.post(f"/password/set/{token}", data={
        "new": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": form_token})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert log_in(fresh_client(app), people.learner1, PASSWORD).status_code == 401
    assert log_in(fresh_client(app), people.learner1, NEW_PASSWORD).status_code == 302

    again = client.post(f"/password/set/{token}", data={
        "new": "yet another passphrase", "confirm": "yet another passphrase",
        "csrf_token": form_token})
    assert again.status_code == 410
    assert "This link has expired or has been used: ask for a new one." in text(again)
    assert 'href="/password/forgot"' in text(again)


@pytest.mark.parametrize("token", ["unknown-token", "x" * 43])
def test_an_unknown_link_gets_the_same_page(client, token):
    page = client.get(f"/password/set/{token}")
    assert page.status_code == 410 and "expired or has been used" in text(page)


def test_an_admin_sends_their_own_centres_people_reset_links(app, mail, session, people, login):
    session.commit()
    admin = login(people.admin)
    button = f'action="/admin/users/{people.learner1.id}/reset-link"'
    assert button in text(admin.get("/admin/users"))
    response = admin.post(f"/admin/users/{people.learner1.id}/reset-link",
                          data={"csrf_token": csrf_token(admin, "/admin/users")})
    assert response.status_code == 302
    assert flashes(text(admin.get("/admin/users")))[0].startswith("A password reset link")
    (sent,) = outbox(session, people.learner1.email)
    assert links.usable_link(session, link_token(sent.text_body)).purpose == "reset"

    token = csrf_token(admin, "/admin/users")
    for other in (people.other_learner, people.other_admin):  # another centre's people
        assert admin.post(f"/admin/users/{other.id}/reset-link",
                          data={"csrf_token": token}).status_code == 404
    deactivate_user(session, people.learner2, people.admin)
    session.commit()
    assert admin.post(f"/admin/users/{people.learner2.id}/reset-link",
                      data={"csrf_token": token}).status_code == 404

    other_admin = login(people.other_admin)
    assert other_admin.post(f"/admin/users/{people.learner1.id}/reset-link", data={
        "csrf_token": csrf_token(other_admin, "/admin/users")}).status_code == 404
    assessor = login(people.assessor1)
    assert assessor.post(f"/admin/users/{people.learner1.id}/reset-link", data={
        "csrf_token": csrf_token(assessor, "/catalogue/")}).status_code == 404
    assert len(outbox(session)) == 1


def test_without_mail_the_pages_say_so_and_change_nothing(client, session, people, login):
    session.commit()
    page = client.get("/password/forgot")
    assert page.status_code == 503 and "Mail is not set up" in text(page)

    admin = login(people.admin)
    users = count_rows(session, people.admin.__class__)
    response = admin.post("/admin/users", data={
        "name": "Sam Person", "email": "sam.person@north-college.ac.uk",
        "account_type": "learner", "csrf_token": csrf_token(admin, "/admin/users")})
    assert response.status_code == 422 and "Mail is not set up" in text(response)
    assert count_rows(session, people.admin.__class__) == users
    reset = admin.post(f"/admin/users/{people.learner1.id}/reset-link",
                       data={"csrf_token": csrf_token(admin, "/admin/users")})
    assert reset.status_code == 302
    assert "Mail is not set up" in flashes(text(admin.get("/admin/users")))[0]
    assert count_rows(session, links.PasswordLink) == 0 and not outbox(session)


def test_an_imported_learner_is_mailed_a_set_link(app, mail, session, people):
    from portfolio.accounts.imports import import_learners

    data = (b"email,name,qualification,registration_number,start,planned_end,assessor_email,"
            b"iqa_email\nnew.learner@north-college.ac.uk,New Learner,600/1636/X,IMP-1,"
            b"2026-09-01,2027-08-31," + people.assessor1.email.encode() + b","
            + people.iqa1.email.encode() + b"\n")
    result = import_learners(session, people.centre, data, actor=people.admin)
    (sent,) = outbox(session)
    assert sent.to_address == "new.learner@north-college.ac.uk"
    link = links.usable_link(session, link_token(sent.text_body))
    assert (link.user_id, link.purpose) == (result.new_user_ids[0], "set")
    assert session.scalar(sa.select(sa.func.count()).select_from(links.PasswordLink)) == 1
