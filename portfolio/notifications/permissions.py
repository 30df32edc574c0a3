"""Who may see a notification: its recipient, and nobody else (an admin neither)."""

from __future__ import annotations

from portfolio.accounts.models import User
from portfolio.notifications.models import Notification


def is_recipient(user: User, notification: Notification) -> bool:
    return user.is_authenticated and notification.recipient_id == user.id
