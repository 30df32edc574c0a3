"""Making notifications, reading and marking them, and each person's mail preference.

:func:`notify` runs in the transaction of the change it tells of (the receivers call it), so a
notification and its mail commit or roll back with the change. Mail names the recipient and links
to the site, nothing more: the sentence, with its learner names and evidence titles, stays in the
app behind a login.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from portfolio.accounts.models import User
from portfolio.core.db import utcnow
from portfolio.core.errors import DomainError
from portfolio.core.mail import absolute_url, enqueue_mail
from portfolio.core.transaction import after_commit, after_rollback
from portfolio.notifications.events import mail_preference_changed
from portfolio.notifications.models import (
    DEFAULT_MAIL,
    MAIL_CHOICES,
    Notification,
    NotificationPreference,
)

logger = logging.getLogger(__name__)

#: Each kind of notification and the subject of its mail (no names, no titles).
KINDS = {
    "evidence_awaiting": "Evidence is waiting for your decision",
    "decision_recorded": "An assessor has judged your evidence",
    "unit_ready_to_sign_off": "A unit is ready to sign off",
    "unit_ready_to_declare": "A unit is ready for your declaration",
    "unit_signed_off": "A unit has been signed off",
    "unit_unlocked": "A unit has been unlocked",
    "enrolment_moved": "A learner's enrolment has moved",
    "sample_recorded": "An IQA has sampled your decisions",
    "sample_action": "An IQA action has changed",
    "standardisation_invited": "You are invited to a standardisation",
    "standardisation_opened": "A standardisation round is open",
    "standardisation_action": "An action from a standardisation is yours",
    "countersigned": "Your decision, sign-off or sample has been countersigned",
    "sampling_strategy_revised": "The centre's sampling strategy has changed",
}
#: Longest sentence kept (the column's size).
TEXT_LENGTH = 300
#: Notifications on one page of the inbox.
PAGE = 50

#: Where a session keeps what its open transaction has already told, so that one change told
#: many times over (a decision per criterion of one item) makes one notification per person.
_TOLD = "portfolio.notifications.told"


class NotificationError(DomainError):
    """A refused preference."""


def first_time(session: Session, key: object) -> bool:
    """True the first time ``key`` is asked about in the session's current transaction."""
    told = session.info.get(_TOLD)
    if told is None:
        told = session.info[_TOLD] = set()
        forget = functools.partial(session.info.pop, _TOLD, None)
        after_commit(session, forget)
        after_rollback(session, forget)
    if key in told:
        return False
    told.add(key)
    return True


def notify(session: Session, recipient_ids: Iterable[int | None], *, actor_id: int | None,
           centre_id: int | None, kind: str, text: str, link: str,
           about: object = None) -> list[Notification]:
    """One notification per recipient, never to the actor, nor to a disabled account, nor twice
    in one transaction for the same ``kind`` and ``about`` (by default the link)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    wanted = [recipient_id for recipient_id in dict.fromkeys(recipient_ids)
              if recipient_id is not None and recipient_id != actor_id
              and first_time(session, (recipient_id, kind, about or link))]
    if not wanted:
        return []
    recipients = session.execute(
        sa.select(User, NotificationPreference.mail)
        .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(User.id.in_(wanted), User.is_enabled)).all()
    made = []
    for user, mail in recipients:
        notification = Notification(recipient_id=user.id, centre_id=centre_id, kind=kind,
                                    text=_shortened(text), link=link)
        session.add(notification)
        made.append(notification)
        if (mail or DEFAULT_MAIL) == "immediate":
            _mail_at_once(session, user, kind, link)
    session.flush()
    return made


def _shortened(text: str) -> str:
    """The sentence within its column, cut with an ellipsis (long titles and names)."""
    return text if len(text) <= TEXT_LENGTH else text[:TEXT_LENGTH - 1].rstrip() + "…"


def _mail_at_once(session: Session, user: User, kind: str, link: str) -> None:
    settings = current_app.config["PORTFOLIO_SETTINGS"]
    if not settings.smtp_url:
        return
    if not settings.base_url:
        # The change itself must not fail for want of a link: the notification is in the app.
        logger.warning("PORTFOLIO_BASE_URL is not set: no mail for notification %s", kind)
        return
    enqueue_mail(session, to=user.email, subject=KINDS[kind],
                 text=f"Hello {user.name},\n\n{KINDS[kind]}:\n{absolute_url(link)}\n\n"
                      f"You can choose how portfolio emails you at "
                      f"{absolute_url('/account/notifications')}\n")


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.recipient_id == user_id, Notification.read_at.is_(None)))


def inbox_page(session: Session, user_id: int, before: int | None = None
               ) -> tuple[list[Notification], int | None]:
    """A page of the person's notifications, newest first, older than id ``before`` when given;
    and the id to ask for the next (older) page with, or None at the end. One query."""
    query = (sa.select(Notification).where(Notification.recipient_id == user_id)
             .order_by(Notification.id.desc()).limit(PAGE + 1))
    if before is not None:
        query = query.where(Notification.id < before)
    rows = list(session.scalars(query))
    return rows[:PAGE], (rows[PAGE - 1].id if len(rows) > PAGE else None)


def open_notification(session: Session, notification: Notification) -> str:
    """Mark it read (the view has checked it is the user's); returns where it links."""
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.flush()
    return notification.link


def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread notification of the person read; returns how many were."""
    return session.execute(
        sa.update(Notification).where(Notification.recipient_id == user_id,
                                      Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def mail_preference(session: Session, user_id: int) -> str:
    preference = session.get(NotificationPreference, user_id)
    return preference.mail if preference is not None else DEFAULT_MAIL


def set_mail_preference(session: Session, user: User, mail: str) -> None:
    if mail not in MAIL_CHOICES:
        raise NotificationError("Choose how you want to be emailed.")
    preference = session.get(NotificationPreference, user.id)
    if preference is None:
        preference = NotificationPreference(user_id=user.id, mail=mail)
        session.add(preference)
    else:
        preference.mail = mail
    session.flush()
    mail_preference_changed.emit(session, actor=user, subject=user, mail=mail)
