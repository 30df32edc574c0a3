"""The daily digest: for each person who chose it, one mail a day saying how many notifications
are waiting, with a link to the inbox; composed by ``portfolio notifications digest`` and by the
worker (see :mod:`portfolio.core.periodic`).

Running it twice in a day sends one digest: each person's ``last_digest_on`` is claimed by a
conditional update before their mail is written, so two runs at once cannot both win, and the
notifications it counted are marked so that the next day's counts only the new ones.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import User
from portfolio.core.db import utcnow
from portfolio.core.mail import absolute_url, enqueue_mail
from portfolio.notifications.models import Notification, NotificationPreference

SUBJECT = "Your notifications on portfolio"


def send_digests(session: Session, now: dt.datetime | None = None) -> int:
    """Write the day's digest mails in the caller's transaction; returns how many."""
    now = now or utcnow()
    today = now.date()
    not_yet_today = sa.or_(NotificationPreference.last_digest_on.is_(None),
                           NotificationPreference.last_digest_on < today)
    waiting = (Notification.digested_at.is_(None), Notification.read_at.is_(None),
               Notification.created_at <= now)
    due = session.execute(
        sa.select(User.id, User.name, User.email, sa.func.count(Notification.id))
        .join(NotificationPreference, NotificationPreference.user_id == User.id)
        .join(Notification, Notification.recipient_id == User.id)
        .where(NotificationPreference.mail == "digest", not_yet_today, User.is_enabled,
               *waiting)
        .group_by(User.id, User.name, User.email).order_by(User.id)).all()
    sent = 0
    for user_id, name, email, count in due:
        claimed = session.execute(
            sa.update(NotificationPreference)
            .where(NotificationPreference.user_id == user_id, not_yet_today)
            .values(last_digest_on=today)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            continue  # another run has sent today's
        session.execute(
            sa.update(Notification).where(Notification.recipient_id == user_id, *waiting)
            .values(digested_at=now).execution_options(synchronize_session=False))
        noun = "notification" if count == 1 else "notifications"
        enqueue_mail(session, to=email, subject=SUBJECT,
                     text=f"Hello {name},\n\nYou have {count} new {noun} on portfolio:\n"
                          f"{absolute_url('/notifications')}\n\nYou can choose how portfolio "
                          f"emails you at {absolute_url('/account/notifications')}\n")
        sent += 1
    return sent
