"""The accounts feature's domain events."""

from __future__ import annotations

from portfolio.core.events import Event


def _login_failed(data) -> str:
    sentence = f"failed to log in as {data.get('email', '?')}"
    return sentence + " (refused: too many failed attempts)" if data.get("throttled") else sentence


login_failed = Event("login.failed", _login_failed)
user_created = Event("user.created", lambda data: (
    f"created the account {data.get('email', '?')} ({', '.join(data.get('roles', []))})"))
enrolment_created = Event(
    "enrolment.created",
    "enrolled the learner on {qualification} version {version}, registration {registration_number}")
