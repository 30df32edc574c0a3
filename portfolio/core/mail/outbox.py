"""The outbox: one row per mail to send, written in the transaction of the change it tells of.

A rolled-back change leaves no mail; a committed one leaves a mail that survives a mail server
that is down, and a restart. A row is one message to one person: a daily digest is composed from
several notifications into one row, by whoever builds digests.

Mail carries no personal data beyond a name and a link (the page behind the link asks for a
login); callers build links with :func:`absolute_url`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from email.utils import make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, Session, mapped_column

from portfolio.core.db import Base, UTCDateTime, utcnow
from portfolio.core.errors import DomainError
from portfolio.core.transaction import after_commit

#: Longest subject accepted: a line people read in a list, not a message.
MAX_SUBJECT = 200

#: Set after a commit that enqueued mail, so the worker in this process sends it at once rather
#: than at its next poll. A worker in another process polls.
mail_waiting = threading.Event()


class MailRefused(DomainError):
    """A mail that cannot be sent as given (no address, a header that would break)."""


class OutboxMail(Base):
    """A mail to send, being retried, sent, or given up (with the reason)."""

    __tablename__ = "outbox_mails"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The one recipient.
    to_address: Mapped[str] = mapped_column(sa.String(254))
    #: Subject line, one line.
    subject: Mapped[str] = mapped_column(sa.String(MAX_SUBJECT))
    #: Plain-text body (sent as text/plain, UTF-8).
    text_body: Mapped[str] = mapped_column(sa.Text)
    #: Message-ID header, fixed when enqueued so a mail sent twice (a worker that died after
    #: sending, before recording it) is recognisably the same message.
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    #: When the mail was written (its Date header).
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Sending attempts begun so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: When a worker may next try it; empty once sent or given up. A worker that claims the
    #: mail moves this past the end of its attempt, so no other takes it meanwhile.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True,
                                                                default=utcnow)
    #: When the mail server accepted it.
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the worker stopped trying (after ``PORTFOLIO_MAIL_MAX_ATTEMPTS`` failures).
    given_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Why the last attempt failed, for the operator.
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    @property
    def state(self) -> str:
        if self.sent_at is not None:
            return "sent"
        return "given up" if self.given_up_at is not None else "waiting"

    def __repr__(self) -> str:
        return f"<OutboxMail {self.id} {self.state} attempts={self.attempts}>"


def enqueue_mail(session: Session, *, to: str, subject: str, text: str) -> OutboxMail:
    """Add a mail to the outbox in the caller's transaction; it is sent once that commits."""
    return enqueue_mails(session, [(to, subject, text)])[0]


def enqueue_mails(session: Session, mails: Iterable[tuple[str, str, str]]) -> list[OutboxMail]:
    """:func:`enqueue_mail` for many ``(to, subject, text)`` at once, written in one flush (an
    import's thousands of mails)."""
    rows = [_outbox_row(to, subject, text) for to, subject, text in mails]
    session.add_all(rows)
    session.flush()
    after_commit(session, mail_waiting.set)
    return rows


def _outbox_row(to: str, subject: str, text: str) -> OutboxMail:
    """The row of one mail, refusing an address or subject that would break its headers."""
    to = to.strip()
    local, _, domain = to.rpartition("@")
    # One plain address: nothing that would add a recipient or a header.
    if not local or not domain or len(to) > 254 or any(
            c.isspace() or c in '<>,;:"()[]\\' or not c.isprintable() for c in to):
        raise MailRefused(f"Cannot send mail to {to!r}: that is not one email address.")
    subject = subject.strip()
    if not subject or any(c in subject for c in "\r\n") or len(subject) > MAX_SUBJECT:
        raise MailRefused(f"A mail subject is one line of 1 to {MAX_SUBJECT} characters, "
                          f"got {subject!r:.60}")
    sender = parseaddr(current_app.config["PORTFOLIO_SETTINGS"].mail_from)[1]
    sender_domain = sender.rpartition("@")[2]
    return OutboxMail(to_address=to, subject=subject, text_body=text,
                      message_id=make_msgid(domain=sender_domain or "portfolio.invalid"))


def absolute_url(path: str) -> str:
    """The address of ``path`` (``/enrolments/3``) for a mail, from ``PORTFOLIO_BASE_URL``."""
    base = current_app.config["PORTFOLIO_SETTINGS"].base_url
    if not base:
        raise MailRefused("PORTFOLIO_BASE_URL is not set, so a mail cannot link to the site: "
                          "set it to the address people use (https://portfolio.example.org).")
    return base.rstrip("/") + "/" + path.lstrip("/")

