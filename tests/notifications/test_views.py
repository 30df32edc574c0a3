"""The bell, the inbox and the mail preference page: each person sees only their own
notifications, opening one is a POST that marks it read, and the inbox's queries do not grow
with the number of notifications."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portfolio.core.audit import AuditEvent
from portfolio.notifications.models import Notification, NotificationPreference
from portfolio.notifications.services import PAGE
from tests.helpers.queries import count_queries, count_rows, statements_of_get
from tests.helpers.web import csrf_token, flashes, text


def add_notifications(session, user, count, start=0):
    session.add_all(Notification(recipient_id=user.id, centre_id=user.centre_id,
                                 kind="evidence_awaiting", text=f"Notification {n}",
                                 link=f"/evidence/{n}/judge")
                    for n in range(start, start + count))
    session.flush()


def mine(session, user):
    return list(session.scalars(sa.select(Notification).where(
        Notification.recipient_id == user.id).order_by(Notification.id)))


def checked(page: str) -> str:
    """The value of the checked radio button."""
    return re.search(r'<input[^>]* checked[^>]*value="(\w+)"', page).group(1)


def bell(page: str) -> str:
    return re.search(r'class="bell">(.*?)</a>', page, re.S).group(1)


def test_the_bell_counts_the_unread_of_the_user_only(login, people, session):
    add_notifications(session, people.assessor1, 3)
    add_notifications(session, people.assessor2, 5)
    mine(session, people.assessor1)[0].read_at = sa.func.now()
    session.flush()
    page = text(login(people.assessor1).get("/catalogue/"))
    assert "2" in bell(page) and "unread" in bell(page)
    page = text(login(people.learner1).get("/catalogue/"))
    assert bell(page) == "Notifications"


def test_the_inbox_shows_newest_first_with_read_or_unread_in_words(login, people, session):
    add_notifications(session, people.assessor1, 2)
    mine(session, people.assessor1)[0].read_at = sa.func.now()
    add_notifications(session, people.assessor2, 1, start=9)
    session.flush()
    page = text(login(people.assessor1).get("/notifications"))
    assert page.index("Notification 1") < page.index("Notification 0")
    assert re.findall(r'class="state">(\w+)<', page) == ["Unread", "Read"]
    assert "Notification 9" not in page


def test_the_inbox_pages_fifty_at_a_time(login, people, session):
    add_notifications(session, people.assessor1, PAGE + 5)
    client = login(people.assessor1)
    first = text(client.get("/notifications"))
    assert first.count('class="state"') == PAGE
    older = re.search(r'href="/notifications\?before=(\d+)"', first).group(1)
    second = text(client.get(f"/notifications?before={older}"))
    assert second.count('class="state"') == 5
    assert "Notification 4<" in second and "Notification 5<" not in second
    assert "before=" not in second


def test_opening_a_notification_marks_it_read_and_follows_its_link(login, people, session):
    add_notifications(session, people.assessor1, 1)
    [notification] = mine(session, people.assessor1)
    client = login(people.assessor1)
    response = client.post(f"/notifications/{notification.id}/open",
                           data={"csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == 302
    assert response.headers["Location"] == notification.link
    session.refresh(notification)
    assert notification.read_at is not None


def test_opening_needs_the_csrf_token_and_a_get_changes_nothing(login, people, session):
    add_notifications(session, people.assessor1, 1)
    [notification] = mine(session, people.assessor1)
    client = login(people.assessor1)
    assert client.post(f"/notifications/{notification.id}/open").status_code == 400
    assert client.get(f"/notifications/{notification.id}/open").status_code == 405
    session.refresh(notification)
    assert notification.read_at is None


@pytest.mark.parametrize("intruder", ["assessor2", "admin", "other_admin", "learner1"])
def test_another_users_notification_is_not_found(login, people, session, intruder):
    add_notifications(session, people.assessor1, 1)
    [notification] = mine(session, people.assessor1)
    client = login(getattr(people, intruder))
    response = client.post(f"/notifications/{notification.id}/open",
                           data={"csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == 404
    assert client.post("/notifications/999999/open",
                       data={"csrf_token": csrf_token(client, "/catalogue/")}).status_code == 404
    session.refresh(notification)
    assert notification.read_at is None


def test_mark_all_read_marks_only_the_users_own(login, people, session):
    add_notifications(session, people.assessor1, 3)
    add_notifications(session, people.assessor2, 2)
    client = login(people.assessor1)
    response = client.post("/notifications/read",
                           data={"csrf_token": csrf_token(client, "/catalogue/")},
                           follow_redirects=True)
    assert "Every notification is marked read." in flashes(text(response))
    assert all(n.read_at is not None for n in mine(session, people.assessor1))
    assert all(n.read_at is None for n in mine(session, people.assessor2))


def test_the_mail_preference_is_saved_and_a_bad_choice_is_refused(login, people, session):
    client = login(people.learner1)
    page = text(client.get("/account/notifications"))
    assert checked(page) == "immediate"
    response = client.post("/account/notifications", data={
        "mail": "hourly", "csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == 422
    assert "Not a valid choice" in text(response)
    assert count_rows(session, NotificationPreference) == 0

    response = client.post("/account/notifications", data={
        "mail": "digest", "csrf_token": csrf_token(client, "/catalogue/")},
        follow_redirects=True)
    assert "Your email preference is saved." in flashes(text(response))
    assert session.get(NotificationPreference, people.learner1.id).mail == "digest"
    [event] = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "notifications.mail_preference_changed"))
    assert event.actor_id == people.learner1.id
    assert checked(text(client.get("/account/notifications"))) == "digest"


def test_pages_need_a_login_and_an_anonymous_page_counts_nothing(client):
    assert client.get("/notifications").status_code == 302
    assert client.get("/account/notifications").status_code == 302
    with count_queries() as statements:
        assert client.get("/login").status_code == 200
    assert not any("notifications" in statement for statement in statements)


def _inbox_statements(client, session) -> list[str]:
    return statements_of_get(client, session, "/notifications")


def test_the_inbox_takes_the_same_queries_for_10_and_200_notifications(login, people, session):
    user_id = people.assessor1.id
    client = login(people.assessor1)
    add_notifications(session, people.assessor1, 10)
    small = _inbox_statements(client, session)
    from portfolio.accounts.models import User
    add_notifications(session, session.get(User, user_id), 190, start=10)
    large = _inbox_statements(client, session)
    assert len(small) == len(large), "\n".join(large)
    assert sum("notifications" in s for s in large) == 2  # the bell and the page
