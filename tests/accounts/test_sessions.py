"""Login sessions kept on the server: logging out, changing the password and deactivation end
every copy of the session cookie; the pages that do it refuse bad input and change nothing."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portfolio.accounts import services
from portfolio.accounts.models import LoginSession, User
from portfolio.accounts.sessions import SEEN_EVERY
from portfolio.core.audit import AuditEvent
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.concurrency import TIMEOUT
from tests.helpers.factories import PASSWORD, make_people
from tests.helpers.live_server import Visitor, serving_app
from tests.helpers.web import csrf_token, flashes, text

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture()
def live(tmp_path, builtin_specs):
    """The port of a live server on a database of its own with the test people, and their
    emails and ids and the app. (Flask's test client would keep the loaded user between
    requests, in the test's app context, so the user loader's checks need a live server.)"""
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            ids = SimpleNamespace(learner=people.learner1.email, learner_id=people.learner1.id,
                                  admin=people.admin.email, app=app)
            db.session.commit()
            db.session.remove()
        with serving_app(app) as port:
            yield port, ids


def logged_in(port, email, password=PASSWORD) -> Visitor:
    browser = Visitor(port)
    assert browser.log_in(email, password).status == 302
    return browser


def can_see_pages(browser) -> bool:
    status = browser.get("/catalogue/").status
    assert status in (200, 302)
    return status == 200


def test_logging_out_ends_every_copy_of_the_cookie(live):
    port, ids = live
    browser = logged_in(port, ids.learner)
    copy = browser.tab()
    assert can_see_pages(copy)
    assert browser.post("/logout", {}).status == 302
    assert not can_see_pages(browser) and not can_see_pages(copy)


def test_changing_the_password_ends_the_other_sessions(live):
    port, ids = live
    changing, other = logged_in(port, ids.learner), logged_in(port, ids.learner)
    copy_of_other = other.tab()
    changed = changing.post("/account/password", {
        "current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert changed.status == 302
    assert can_see_pages(changing)  # the session that made the change goes on
    assert not can_see_pages(other) and not can_see_pages(copy_of_other)
    assert Visitor(port).log_in(ids.learner).status == 401
    assert Visitor(port).log_in(ids.learner, NEW_PASSWORD).status == 302


def test_deactivation_ends_every_session_and_reactivation_needs_a_new_login(live):
    port, ids = live
    learner = logged_in(port, ids.learner)
    copy = learner.tab()
    admin = logged_in(port, ids.admin)
    assert admin.post(f"/admin/users/{ids.learner_id}/deactivate", {}).status == 302
    assert not can_see_pages(learner) and not can_see_pages(copy)
    assert Visitor(port).log_in(ids.learner).status == 401
    assert admin.post(f"/admin/users/{ids.learner_id}/reactivate", {}).status == 302
    assert not can_see_pages(copy)  # an ended session stays ended
    assert can_see_pages(logged_in(port, ids.learner))


def _change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/password", data={
        "current": current, "new": new, "confirm": confirm or new,
        "csrf_token": csrf_token(client, "/account/password")})


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"current": "not my password"}, 422, "Your current password is not the one you typed."),
    ({"new": "1234567890"}, 422, "a run of keys or letters"),
    ({"new": PASSWORD}, 422, "The new password is the one you have now"),
    ({"confirm": "something else entirely"}, 200, "The two new passwords are not the same."),
])
def test_a_refused_password_change_says_why_and_changes_nothing(
        login, people, session, change, status, message):
    client = login(people.learner1)
    before = people.learner1.password_hash
    response = _change(client, **change)
    assert response.status_code == status
    assert message in text(response).replace("&#39;", "'")
    session.refresh(people.learner1)
    assert people.learner1.password_hash == before
    assert client.get("/catalogue/").status_code == 200


def test_a_password_change_is_audited(login, people, session):
    assert _change(login(people.learner1)).status_code == 302
    event = session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "user.password_changed"))
    assert (event.actor_id, event.object_id) == (people.learner1.id, people.learner1.id)


def test_the_nav_links_to_the_password_page(login, people):
    assert 'href="/account/password"' in text(login(people.learner1).get("/catalogue/"))


def test_only_an_admin_of_the_persons_centre_deactivates_them(login, people, session):
    admin = login(people.admin)
    for user in (people.other_learner, people.other_admin):
        response = admin.post(f"/admin/users/{user.id}/deactivate",
                              data={"csrf_token": csrf_token(admin, "/admin/users")})
        assert response.status_code == 404
        assert session.get(User, user.id).is_enabled
    learner = login(people.learner1)
    response = learner.post(f"/admin/users/{people.learner2.id}/deactivate",
                            data={"csrf_token": csrf_token(learner)})
    assert response.status_code == 404


def test_an_admin_cannot_deactivate_themselves(session, people):
    with pytest.raises(services.AccountError, match="your own account"):
        services.deactivate_user(session, people.admin, actor=people.admin)
    assert people.admin.is_enabled


def test_deactivation_is_audited_and_shown(login, people, session):
    admin = login(people.admin)
    response = admin.post(f"/admin/users/{people.learner1.id}/deactivate",
                          data={"csrf_token": csrf_token(admin, "/admin/users")},
                          follow_redirects=True)
    assert "Learner1 is deactivated." in flashes(text(response))
    assert ">Reactivate<" in text(response)
    assert session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "user.deactivated", AuditEvent.object_id == people.learner1.id))
    assert session.scalars(sa.select(LoginSession).where(
        LoginSession.user_id == people.learner1.id, LoginSession.ended_at.is_(None))).all() == []


def _learners_session(ids, **changes) -> LoginSession:
    """The learner's one login session, with ``changes`` made and committed."""
    with ids.app.app_context():
        login_session = db.session.scalar(sa.select(LoginSession).where(
            LoginSession.user_id == ids.learner_id))
        for name, value in changes.items():
            setattr(login_session, name, value)
        db.session.commit()
        db.session.refresh(login_session)
        db.session.expunge(login_session)
        db.session.remove()
    return login_session


def test_a_session_of_a_deactivated_user_is_refused(live):
    port, ids = live
    learner = logged_in(port, ids.learner)
    with ids.app.app_context():  # even if something forgot to end the sessions
        db.session.get(User, ids.learner_id).is_enabled = False
        db.session.commit()
        db.session.remove()
    assert not can_see_pages(learner)


def test_a_request_marks_its_session_seen_every_few_minutes(live):
    port, ids = live
    learner = logged_in(port, ids.learner)
    recently = _learners_session(ids).last_seen_at - SEEN_EVERY / 2
    _learners_session(ids, last_seen_at=recently)
    assert can_see_pages(learner)
    assert _learners_session(ids).last_seen_at == recently  # not a write on every request
    long_ago = recently - SEEN_EVERY
    _learners_session(ids, last_seen_at=long_ago)
    assert can_see_pages(learner)
    # Recorded once the response has gone, so the page never waits for it.
    deadline = time.monotonic() + TIMEOUT
    while _learners_session(ids).last_seen_at <= long_ago + SEEN_EVERY:
        assert time.monotonic() < deadline, "the visit was never recorded"
        time.sleep(0.05)
