"""The outbox against a real SMTP server (aiosmtpd) and a real database of its own: mail leaves
only after its transaction commits, survives a mail server that is down, goes once however many
workers run, and never holds up a request."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa

from portfolio.cli import worker_command
from portfolio.core.db import utcnow
from portfolio.core.mail import OutboxMail, enqueue_mail
from portfolio.core.mail.worker import BATCH, MailWorker, deliver_all, deliver_due
from portfolio.core.web import committing
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.factories import make_people
from tests.helpers.live_server import serving
from tests.helpers.smtp import HungSmtpServer, SmtpServer, free_port
from tests.helpers.web import csrf_token, log_in

SENDER = "Portfolio <noreply@north.test>"


def mail_settings(url, **more):
    return {"settings": {"smtp_url": url, "mail_from": SENDER, "mail_retry_seconds": 1,
                         "base_url": "https://portfolio.example.org",
                         "smtp_timeout_seconds": 2, **more}}


@pytest.fixture()
def smtp():
    with SmtpServer() as server:
        yield server


def outbox():
    """The outbox's rows as they are now, detached, with no transaction left open (on SQLite
    an open one would hold the write lock the worker needs)."""
    db.session.rollback()
    mails = list(db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id)))
    db.session.expunge_all()
    db.session.rollback()
    return mails


def wait_until(condition, timeout=20):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_committed_mail_arrives_as_utf8_text_with_its_headers(tmp_path, smtp):
    with app_on_new_database(tmp_path, [], **mail_settings(smtp.url)) as app, \
            app.app_context():
        mail = enqueue_mail(db.session, to="learner1@north.test", subject="Évidence reçue",
                            text="Bonjour Zoë,\n\nhttps://portfolio.example.org/enrolments/1\n")
        message_id = mail.message_id
        db.session.commit()
        assert deliver_all(app.config["PORTFOLIO_SETTINGS"]) == 1

        [message] = smtp.wait_for(1)
        assert message["From"] == SENDER
        assert message["To"] == "learner1@north.test"
        assert message["Subject"] == "Évidence reçue"
        assert message["Message-ID"] == message_id
        assert abs(parsedate_to_datetime(message["Date"]) - utcnow()) < dt.timedelta(minutes=1)
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        body = message.get_content().replace("\r\n", "\n")  # lines end in CRLF on the wire
        assert body == "Bonjour Zoë,\n\nhttps://portfolio.example.org/enrolments/1\n"
        assert smtp.envelopes == [("noreply@north.test", ["learner1@north.test"])]
        [row] = outbox()
        assert (row.state, row.attempts, row.last_error) == ("sent", 1, None)
        assert deliver_all(app.config["PORTFOLIO_SETTINGS"]) == 0  # sent once only


def test_a_rolled_back_mail_is_never_sent(tmp_path, smtp):
    with app_on_new_database(tmp_path, [], **mail_settings(smtp.url)) as app, \
            app.app_context():
        enqueue_mail(db.session, to="learner1@north.test", subject="Never", text="Body")
        db.session.rollback()
        assert deliver_all(app.config["PORTFOLIO_SETTINGS"]) == 0
        assert outbox() == []
    assert smtp.messages == []


def test_the_worker_wakes_when_a_commit_enqueues_mail_rather_than_at_its_next_poll(
        tmp_path, smtp):
    with app_on_new_database(tmp_path, [], **mail_settings(smtp.url)) as app, \
            app.app_context():
        worker = MailWorker(app, poll_seconds=600).start()
        try:
            time.sleep(0.5)  # the worker has looked, found nothing and sleeps
            enqueue_mail(db.session, to="learner1@north.test", subject="Now", text="Body")
            db.session.commit()
            started = time.monotonic()
            smtp.wait_for(1)
            assert time.monotonic() - started < 5
        finally:
            worker.stop()


def test_with_the_mail_server_down_mail_waits_and_arrives_once_it_is_back(tmp_path):
    port = free_port()
    server = SmtpServer(port).start()
    with app_on_new_database(tmp_path, [], **mail_settings(server.url)) as app, \
            app.app_context():
        worker = MailWorker(app, poll_seconds=0.2).start()
        try:
            enqueue_mail(db.session, to="learner1@north.test", subject="First", text="1")
            db.session.commit()
            server.wait_for(1)

            server.stop()  # the mail server goes away mid-run
            enqueue_mail(db.session, to="learner2@north.test", subject="Second", text="2")
            db.session.commit()
            wait_until(lambda: outbox()[1].attempts >= 2)
            second = outbox()[1]
            assert second.state == "waiting"
            assert "ConnectionRefusedError" in second.last_error

            server = SmtpServer(port).start()  # back, on the same port
            [arrived] = server.wait_for(1)
            assert arrived["Subject"] == "Second"
            wait_until(lambda: outbox()[1].state == "sent")
            assert outbox()[1].last_error is None
        finally:
            worker.stop()
            server.stop()


def test_a_mail_is_given_up_after_its_attempts_and_the_operator_sees_why(tmp_path):
    url = f"smtp://127.0.0.1:{free_port()}"  # nobody listens
    with app_on_new_database(tmp_path, [], **mail_settings(url, mail_max_attempts=3)) as app, \
            app.app_context():
        settings = app.config["PORTFOLIO_SETTINGS"]
        enqueue_mail(db.session, to="learner1@north.test", subject="Hello", text="Body")
        db.session.commit()
        waits = []
        for _ in range(3):
            before = utcnow()
            deliver_due(settings, now=before + dt.timedelta(hours=2))
            [mail] = outbox()
            if mail.next_attempt_at is not None:
                waits.append(round((mail.next_attempt_at - before).total_seconds()))
        assert waits == [1, 2]  # doubled at each failure
        assert (mail.state, mail.attempts) == ("given up", 3)
        assert "ConnectionRefusedError" in mail.last_error
        assert deliver_due(settings, now=utcnow() + dt.timedelta(days=1)).claimed == 0

        result = app.test_cli_runner().invoke(args=["mail", "status"])
        assert result.exit_code == 1
        assert "waiting: 0  sent: 0  given up: 1" in result.output
        assert f"mail {mail.id} to learner1@north.test, 3 attempts" in result.output
        assert "ConnectionRefusedError" in result.output


def test_two_workers_at_once_deliver_each_mail_exactly_once(tmp_path):
    """The first worker is held by the server in the middle of its batch while the second
    runs: the second sends everything else and nothing the first has claimed."""
    count, release = 60, threading.Event()
    with SmtpServer(hold_first=release) as smtp, app_on_new_database(
            tmp_path, [], **mail_settings(smtp.url)) as app:
        with app.app_context():
            for number in range(count):
                enqueue_mail(db.session, to=f"learner{number}@north.test",
                             subject=f"Mail {number}", text="Body")
            db.session.commit()
        settings = app.config["PORTFOLIO_SETTINGS"]
        sent, errors = {}, []

        def work(name):
            try:
                with app.app_context():
                    sent[name] = deliver_all(settings)
                    db.session.remove()
            except BaseException as error:
                errors.append(error)

        first = threading.Thread(target=work, args=("first",))
        first.start()
        assert smtp.held.wait(20)
        second = threading.Thread(target=work, args=("second",))
        second.start()
        second.join(60)
        release.set()
        first.join(60)
        assert errors == []
        assert sent == {"first": BATCH, "second": count - BATCH}
        ids = [message["Message-ID"] for message in smtp.messages]
        assert len(ids) == count and len(set(ids)) == count
        with app.app_context():
            assert {(mail.state, mail.attempts) for mail in outbox()} == {("sent", 1)}


def test_a_request_that_writes_mail_answers_at_once_while_the_mail_server_hangs(
        tmp_path, builtin_specs):
    with HungSmtpServer() as hung, app_on_new_database(
            tmp_path, builtin_specs.values(), **mail_settings(hung.url)) as app:

        def tell():
            with committing("Sent.") as done:
                enqueue_mail(db.session, to="learner1@north.test", subject="News", text="Hi")
            return ("sent", 200) if done else (done.message, done.status)

        app.add_url_rule("/test-mail", "test_mail", tell, methods=["POST"])
        with app.app_context():
            make_people(db.session)
            db.session.commit()
            worker = MailWorker(app, poll_seconds=0.2).start()
        try:
            client = app.test_client()
            assert log_in(client, "admin@north.test").status_code == 302
            token = csrf_token(client, "/catalogue/")
            assert client.post("/test-mail", data={"csrf_token": token}).status_code == 200
            hung.wait_for_connection()  # the worker is stuck talking to the hung server

            started = time.monotonic()
            response = client.post("/test-mail", data={"csrf_token": token})
            assert response.status_code == 200
            assert time.monotonic() - started < 1
        finally:
            worker.stop()
        with app.app_context():
            mails = outbox()
            assert [mail.state for mail in mails] == ["waiting", "waiting"]
            assert "timed out" in mails[0].last_error


def test_a_password_is_not_sent_to_a_server_without_starttls(tmp_path, smtp):
    url = f"smtp://portfolio:secret@127.0.0.1:{smtp.port}"
    with app_on_new_database(tmp_path, [], **mail_settings(url)) as app, app.app_context():
        enqueue_mail(db.session, to="learner1@north.test", subject="Hello", text="Body")
        db.session.commit()
        assert deliver_all(app.config["PORTFOLIO_SETTINGS"]) == 0
        [mail] = outbox()
        assert mail.state == "waiting"
        assert "offers no STARTTLS: the mail password is not sent unencrypted" in mail.last_error
        assert "secret" not in mail.last_error
    assert smtp.messages == []


def command_settings(app, smtp) -> dict[str, str]:
    return {"PORTFOLIO_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "PORTFOLIO_SMTP_URL": smtp.url, "PORTFOLIO_MAIL_FROM": SENDER,
            "PORTFOLIO_BASE_URL": "https://portfolio.example.org"}


def test_the_worker_command_sends_the_outbox_until_stopped(tmp_path, smtp):
    with app_on_new_database(tmp_path, [], **mail_settings(smtp.url)) as app:
        with app.app_context():
            enqueue_mail(db.session, to="learner1@north.test", subject="Hello", text="Body")
            db.session.commit()
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PORTFOLIO_")}
        worker = subprocess.Popen(
            [sys.executable, "-c", "from portfolio.cli import main; main()", "worker"],
            env={**inherited, "PORTFOLIO_INSTANCE_PATH": str(tmp_path),
                 **command_settings(app, smtp)},
            stderr=subprocess.PIPE, text=True)
        try:
            [message] = smtp.wait_for(1)
            assert message["Subject"] == "Hello"
        finally:
            worker.send_signal(signal.SIGTERM)  # by its own pid
            _, log = worker.communicate(timeout=30)
        assert worker.returncode == 0, log
        assert "mail worker sending the outbox through smtp://127.0.0.1" in log


def test_serve_sends_the_outbox_in_process(tmp_path, smtp):
    with app_on_new_database(tmp_path, [], **mail_settings(smtp.url)) as app:
        with app.app_context():
            enqueue_mail(db.session, to="learner1@north.test", subject="Served", text="Body")
            db.session.commit()
        with serving(tmp_path, command_settings(app, smtp)):
            [message] = smtp.wait_for(1)
        assert message["Subject"] == "Served"


def test_the_worker_command_refuses_to_run_without_a_mail_server(cli):
    result = cli.invoke(worker_command)
    assert result.exit_code == 2
    assert "PORTFOLIO_SMTP_URL is not set" in result.output
