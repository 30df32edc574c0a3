"""Sending the outbox: claim due mail in a short transaction, send it with none open, record
what happened in another.

A claim moves a mail's next attempt past the end of the attempt (a lease), so workers in other
threads or processes skip it; on PostgreSQL the claim also skips rows another worker is claiming
(``FOR UPDATE SKIP LOCKED``), on SQLite claims queue for the write lock (``BEGIN IMMEDIATE``,
see :func:`portfolio.core.db.configure_engine`). A worker that dies mid-batch leaves its mails
to be retried when the lease ends, with the same Message-ID. A failed mail is retried after
``PORTFOLIO_MAIL_RETRY_SECONDS``, doubled at each failure up to an hour, and given up after
``PORTFOLIO_MAIL_MAX_ATTEMPTS`` attempts or at once when the server refuses it for good (5xx).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask

from portfolio.config import Settings
from portfolio.core.db import utcnow
from portfolio.core.mail.outbox import OutboxMail, mail_waiting
from portfolio.core.mail.smtp import MailServerError, SmtpConnection, compose
from portfolio.core.periodic import Schedule
from portfolio.extensions import db

logger = logging.getLogger(__name__)

#: Mails claimed and sent over one connection.
BATCH = 20
#: Longest wait between two failures of one mail, in seconds.
MAX_BACKOFF = 3600
#: Longest a worker sleeps before looking for due mail it was not woken for, in seconds.
POLL_SECONDS = 15


@dataclass
class Round:
    """What one batch did: ids sent, and the error of each failed id."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, tuple[str, bool]] = field(default_factory=dict)  # id: (error, permanent)

    @property
    def claimed(self) -> int:
        return len(self.sent) + len(self.failed)


def deliver_due(settings: Settings, now: dt.datetime | None = None) -> Round:
    """Claim up to :data:`BATCH` mails due at ``now``, send them, record the outcome. Needs an
    application context; commits its own short transactions."""
    now = now or utcnow()
    messages = _claim(settings, now)
    result = Round()
    if not messages:
        return result
    try:
        # The site's public name, when set, is the name the mail server is greeted with.
        with SmtpConnection(settings.smtp_url, settings.smtp_timeout_seconds,
                            urlsplit(settings.base_url).hostname) as smtp:
            for mail_id, message in messages:
                try:
                    smtp.send(message)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
                    code = getattr(error, "smtp_code", None) or _refusal_code(error)
                    result.failed[mail_id] = (_reason(error), code >= 500)
                else:
                    result.sent.append(mail_id)
    except MailServerError as error:
        # The connection failed: every mail not yet accepted waits for the next attempt.
        for mail_id, _ in messages:
            if mail_id not in result.sent and mail_id not in result.failed:
                result.failed[mail_id] = (str(error), False)
    _record(settings, result, utcnow())
    return result


def deliver_all(settings: Settings) -> int:
    """Send every mail due now, batch after batch; returns how many were sent."""
    sent = 0
    while (result := deliver_due(settings)).claimed:
        sent += len(result.sent)
    return sent


def next_due(now: dt.datetime) -> float | None:
    """Seconds until the earliest waiting mail is due (0 if one is), None if none waits."""
    earliest = db.session.scalar(sa.select(sa.func.min(OutboxMail.next_attempt_at)))
    db.session.rollback()
    if earliest is None:
        return None
    return max(0.0, (earliest - now).total_seconds())


def _claim(settings: Settings, now: dt.datetime) -> list[tuple[int, object]]:
    query = (sa.select(OutboxMail).where(OutboxMail.next_attempt_at <= now)
             .order_by(OutboxMail.next_attempt_at, OutboxMail.id).limit(BATCH))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    lease = dt.timedelta(seconds=settings.smtp_timeout_seconds * (BATCH + 3))
    messages = []
    for mail in db.session.scalars(query):
        mail.attempts += 1
        mail.next_attempt_at = now + lease
        messages.append((mail.id, compose(mail, settings.mail_from)))
    db.session.commit()
    return messages


def _record(settings: Settings, result: Round, now: dt.datetime) -> None:
    if result.sent:
        db.session.execute(
            sa.update(OutboxMail).where(OutboxMail.id.in_(result.sent))
            .values(sent_at=now, next_attempt_at=None, last_error=None))
    for mail in db.session.scalars(sa.select(OutboxMail)
                                   .where(OutboxMail.id.in_(list(result.failed)))):
        error, permanent = result.failed[mail.id]
        mail.last_error = error
        if permanent or mail.attempts >= settings.mail_max_attempts:
            mail.next_attempt_at, mail.given_up_at = None, now
            logger.error("outbox mail %s given up after %s attempts: %s",
                         mail.id, mail.attempts, error)
        else:
            delay = min(settings.mail_retry_seconds * 2 ** (mail.attempts - 1), MAX_BACKOFF)
            mail.next_attempt_at = now + dt.timedelta(seconds=delay)
            logger.warning("outbox mail %s not sent (attempt %s), next try in %s s: %s",
                           mail.id, mail.attempts, delay, error)
    db.session.commit()


def _refusal_code(error: smtplib.SMTPRecipientsRefused) -> int:
    return min(code for code, _ in error.recipients.values())


def _reason(error: smtplib.SMTPException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {text.decode(errors='replace')}"
                         for code, text in error.recipients.values())
    return f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}"


class MailWorker:
    """Sends the outbox until stopped: at once after a commit in this process that enqueued
    mail, when a retry falls due, and every :data:`POLL_SECONDS` for mail other processes
    enqueued. ``portfolio worker`` runs it in the foreground, ``portfolio serve`` in a thread."""

    def __init__(self, app: Flask, poll_seconds: float = POLL_SECONDS):
        self.app = app
        self.settings: Settings = app.config["PORTFOLIO_SETTINGS"]
        self.poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> MailWorker:
        self._thread = threading.Thread(target=self.run, name="mail-worker", daemon=True)
        self._thread.start()
        return self

    def stop_soon(self) -> None:
        """Ask the worker to stop once the batch under way is recorded."""
        self._stopping.set()
        mail_waiting.set()

    def stop(self) -> None:
        self.stop_soon()
        if self._thread is not None:
            # A send under way ends within the mail server's timeout.
            self._thread.join(self.settings.smtp_timeout_seconds * 4)

    def run(self) -> None:
        settings = self.settings
        if not settings.smtp_url:
            logger.warning("PORTFOLIO_SMTP_URL is not set: mail waits in the outbox until it is")
            return
        if not settings.base_url:
            logger.warning("PORTFOLIO_BASE_URL is not set: mail that links to the site is "
                           "refused when written")
        logger.info("mail worker sending the outbox through %s://%s", *_safe_address(settings))
        # Jobs the features registered (the daily digest) run here: they write mail.
        schedule = Schedule()
        with self.app.app_context():
            while not self._stopping.is_set():
                mail_waiting.clear()
                wait = self.poll_seconds
                try:
                    job_due = schedule.run_due(utcnow())
                    deliver_all(settings)
                    for due in (next_due(utcnow()), job_due):
                        if due is not None:
                            wait = min(wait, due)
                except Exception:
                    # A database that is briefly away must not end the worker: try again later.
                    logger.exception("the mail worker failed; trying again in %s s", wait)
                finally:
                    db.session.remove()
                mail_waiting.wait(wait)


def _safe_address(settings: Settings) -> tuple[str, str]:
    """Scheme and host:port of the mail server, without its password."""
    parts = urlsplit(settings.smtp_url)
    return parts.scheme, f"{parts.hostname}:{parts.port or ''}".rstrip(":")
