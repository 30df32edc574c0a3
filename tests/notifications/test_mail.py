"""Notifications by mail through a real SMTP server (aiosmtpd) and a database of their own: an
immediate mail names the recipient and links to the thing, and nothing else; a daily digest
arrives once a day however often it is composed, from the command or from the worker."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.core.db import utcnow
from portfolio.core.mail import OutboxMail
from portfolio.core.mail.worker import MailWorker, deliver_all
from portfolio.extensions import db
from portfolio.notifications.digest import send_digests
from portfolio.notifications.models import Notification, NotificationPreference
from tests.helpers.app import app_on_new_database
from tests.helpers.assessment import add_item, criteria_of
from tests.helpers.factories import make_people
from tests.helpers.queries import count_rows
from tests.helpers.smtp import SmtpServer

BASE = "https://portfolio.example.org"
TITLE = "Complaint from Mrs Jane Example"


@pytest.fixture()
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture()
def mail_app(tmp_path, smtp, builtin_specs):
    specs = [builtin_specs["600/1636/X"], builtin_specs["600/1257/2"]]
    with app_on_new_database(tmp_path, specs, settings={
            "smtp_url": smtp.url, "mail_from": "Portfolio <noreply@north.test>",
            "base_url": BASE, "smtp_timeout_seconds": 2}) as app, app.app_context():
        yield app


def body(message) -> str:
    return message.get_content().replace("\r\n", "\n")


def prefer(session, user, mail):
    session.add(NotificationPreference(user_id=user.id, mail=mail))
    session.flush()


def test_an_immediate_mail_names_the_assessor_and_links_to_the_evidence_only(mail_app, smtp):
    people = make_people(db.session)
    item = add_item(db.session, people.enrolment1,
                    criteria_of(db.session, people.enrolment1, "301", 2), title=TITLE)
    item_id = item.id
    db.session.commit()
    assert deliver_all(mail_app.config["PORTFOLIO_SETTINGS"]) == 1

    [message] = smtp.wait_for(1)
    assert message["To"] == "assessor1@north.test"
    assert message["Subject"] == "Evidence is waiting for your decision"
    text = body(message)
    assert text.startswith("Hello Assessor1,\n")
    assert f"{BASE}/evidence/{item_id}/judge" in text
    for private in (TITLE, "Jane", "Learner1", "learner1@"):
        assert private not in text and private not in message["Subject"]


def test_digest_and_none_preferences_send_no_immediate_mail(mail_app):
    people = make_people(db.session)
    prefer(db.session, people.assessor1, "digest")
    prefer(db.session, people.learner2, "none")
    add_item(db.session, people.enrolment1, criteria_of(db.session, people.enrolment1, "301", 1))
    db.session.commit()
    assert count_rows(db.session, Notification) == 1
    assert count_rows(db.session, OutboxMail) == 0


def test_without_a_mail_server_notifications_are_made_and_no_mail_written(app, session, people):
    add_item(session, people.enrolment1, criteria_of(session, people.enrolment1, "301", 1))
    assert count_rows(session, Notification) == 1
    assert count_rows(session, OutboxMail) == 0


def _notify(session, user, count):
    session.add_all(Notification(recipient_id=user.id, centre_id=user.centre_id,
                                 kind="evidence_awaiting", text=f"{TITLE} {n}",
                                 link=f"/evidence/{n}/judge") for n in range(count))
    session.flush()


def test_the_digest_command_sends_one_digest_a_day_however_often_it_runs(mail_app, smtp):
    people = make_people(db.session)
    prefer(db.session, people.assessor2, "digest")
    _notify(db.session, people.assessor2, 3)
    _notify(db.session, people.assessor1, 2)  # immediate: no digest
    db.session.commit()
    runner = mail_app.test_cli_runner()
    first = runner.invoke(args=["notifications", "digest"])
    second = runner.invoke(args=["notifications", "digest"])
    assert (first.exit_code, first.output) == (0, "1 digest mail written to the outbox.\n")
    assert second.output == "0 digest mails written to the outbox.\n"
    assert deliver_all(mail_app.config["PORTFOLIO_SETTINGS"]) == 1

    [message] = smtp.wait_for(1)
    assert message["To"] == "assessor2@north.test"
    assert message["Subject"] == "Your notifications on portfolio"
    assert "Hello Assessor2,\n\nYou have 3 new notifications on portfolio:\n" \
           f"{BASE}/notifications\n" in body(message)
    assert TITLE not in body(message)
    assert db.session.scalar(sa.select(sa.func.count()).where(
        Notification.digested_at.is_not(None))) == 3


def test_the_next_days_digest_counts_only_what_is_new_and_unread(mail_app):
    people = make_people(db.session)
    prefer(db.session, people.assessor2, "digest")
    _notify(db.session, people.assessor2, 3)
    assert send_digests(db.session) == 1
    _notify(db.session, people.assessor2, 2)
    db.session.scalars(sa.select(Notification).order_by(Notification.id.desc())).first() \
        .read_at = utcnow()
    assert send_digests(db.session) == 0  # the same day
    tomorrow = utcnow() + dt.timedelta(days=1)
    assert send_digests(db.session, tomorrow) == 1
    assert send_digests(db.session, tomorrow) == 0
    texts = [m.text_body for m in db.session.scalars(sa.select(OutboxMail).order_by(
        OutboxMail.id))]
    assert ["3 new notifications" in texts[0], "1 new notification " in texts[1]] == [True, True]
    db.session.commit()


def test_the_worker_sends_the_digest_on_its_own(mail_app, smtp):
    people = make_people(db.session)
    prefer(db.session, people.learner1, "digest")
    _notify(db.session, people.learner1, 1)
    db.session.commit()
    worker = MailWorker(mail_app, poll_seconds=0.2).start()
    try:
        [message] = smtp.wait_for(1)
    finally:
        worker.stop()
    assert message["To"] == "learner1@north.test"
    assert "You have 1 new notification on portfolio" in body(message)
    db.session.rollback()
    assert db.session.get(NotificationPreference, people.learner1.id).last_digest_on \
        == utcnow().date()
