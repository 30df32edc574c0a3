"""Mail settings and writing to the outbox: bad input is refused with a message and adds nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.config import Settings, SettingsError
from portfolio.core.mail import MailRefused, OutboxMail, absolute_url, enqueue_mail
from portfolio.extensions import db
from tests.helpers.app import make_app


@pytest.mark.parametrize(("environ", "message"), [
    ({"PORTFOLIO_SMTP_URL": "http://mail.example.org", "PORTFOLIO_MAIL_FROM": "a@b.org"},
     "PORTFOLIO_SMTP_URL: expected smtp://host"),
    ({"PORTFOLIO_SMTP_URL": "smtp://", "PORTFOLIO_MAIL_FROM": "a@b.org"},
     "PORTFOLIO_SMTP_URL: expected smtp://host"),
    ({"PORTFOLIO_SMTP_URL": "smtp://mail.example.org:587"}, "PORTFOLIO_MAIL_FROM: required"),
    ({"PORTFOLIO_BASE_URL": "portfolio.example.org"}, "PORTFOLIO_BASE_URL: expected an absolute"),
])
def test_mail_settings_that_cannot_work_stop_the_start(environ, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_environ(environ)


def test_a_password_in_the_smtp_url_is_not_repeated_in_the_message():
    with pytest.raises(SettingsError) as refused:
        Settings.from_environ({"PORTFOLIO_SMTP_URL": "ftp://user:s3cret@mail.example.org"})
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(("to", "subject", "message"), [
    ("not an address", "Hello", "Cannot send mail to 'not an address'"),
    ("a@north.test, b@north.test", "Hello", "not one email address"),
    ("a@north.test\r\nBcc: b@north.test", "Hello", "not one email address"),
    ("@north.test", "Hello", "not one email address"),
    ("learner1@north.test", "Hello\r\nBcc: everyone@example.org", "one line"),
    ("learner1@north.test", "  ", "one line"),
    ("learner1@north.test", "x" * 201, "one line of 1 to 200"),
])
def test_a_mail_that_cannot_be_sent_is_refused_and_adds_nothing(session, to, subject, message):
    with pytest.raises(MailRefused, match=message):
        enqueue_mail(session, to=to, subject=subject, text="Body")
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 0


def test_a_mail_gets_a_message_id_in_the_sender_domain(tmp_path, database_url):
    app = make_app(tmp_path, database_url, settings={
        "smtp_url": "smtp://127.0.0.1:1", "mail_from": "Portfolio <noreply@north.test>"})
    with app.app_context():
        mail = enqueue_mail(db.session, to=" learner1@north.test", subject=" Hi ", text="Body")
        assert (mail.to_address, mail.subject) == ("learner1@north.test", "Hi")
        assert mail.message_id.endswith("@north.test>")
        assert mail.state == "waiting"
        db.session.rollback()
        db.engine.dispose()


def test_links_in_mail_need_the_base_url(app):
    with pytest.raises(MailRefused, match="PORTFOLIO_BASE_URL is not set"):
        absolute_url("/enrolments/3")
    app.config["PORTFOLIO_SETTINGS"] = Settings(base_url="https://portfolio.example.org/")
    assert absolute_url("/enrolments/3") == "https://portfolio.example.org/enrolments/3"
