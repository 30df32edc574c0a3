"""A notification per recipient, and each person's choice of how they are mailed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.core.db import Base, UTCDateTime, utcnow

#: How a person hears of their notifications by mail, as the preferences page words it.
MAIL_CHOICES = {
    "immediate": "One email for each notification, as it happens",
    "digest": "One email a day saying how many notifications are waiting",
    "none": "No email: I will look in the app",
}
DEFAULT_MAIL = "immediate"


class Notification(Base):
    """Something that needs one person: a short sentence and a link, read or not."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The bell: a person's unread count. The inbox: a person's newest first, by id.
        sa.Index("ix_notifications_recipient_id_read_at", "recipient_id", "read_at"),
        sa.Index("ix_notifications_recipient_id_id", "recipient_id", "id"),
    )

    #: Primary key; also the inbox's order (newest first) and its paging key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The one person it is for.
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: The centre the change happened in.
    centre_id: Mapped[int | None] = mapped_column(sa.ForeignKey("centres.id"))
    #: What kind of thing needs them (a key of ``notifications.kinds.KINDS``).
    kind: Mapped[str] = mapped_column(sa.String(40))
    #: Who did what, in a short sentence, for the inbox (never mailed).
    text: Mapped[str] = mapped_column(sa.String(300))
    #: Where the thing is: a path on this site.
    link: Mapped[str] = mapped_column(sa.String(500))
    #: When it was made.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the recipient opened it or marked it read; empty while unread.
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When a daily digest counted it; empty until one has (or for people not on a digest).
    digested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} for user {self.recipient_id}>"


class NotificationPreference(Base):
    """How one person is mailed; a person without a row is mailed at once."""

    __tablename__ = "notification_preferences"

    #: The person (one row each).
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    #: ``immediate``, ``digest`` or ``none`` (see :data:`MAIL_CHOICES`).
    mail: Mapped[str] = mapped_column(sa.String(10), default=DEFAULT_MAIL)
    #: The last day (UTC) a digest was composed for them, so a second run that day sends none.
    last_digest_on: Mapped[dt.date | None] = mapped_column(sa.Date)

    def __repr__(self) -> str:
        return f"<NotificationPreference user {self.user_id}: {self.mail}>"
