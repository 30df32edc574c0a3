"""The notifications feature's domain events."""

from __future__ import annotations

from portfolio.core.events import Event
from portfolio.notifications.models import MAIL_CHOICES

mail_preference_changed = Event(
    "notifications.mail_preference_changed",
    lambda data: f"chose how to be emailed: {MAIL_CHOICES.get(data.get('mail'), '?').lower()}")
