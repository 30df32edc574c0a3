"""The accounts feature's domain events."""

from __future__ import annotations

from portfolio.accounts.models import ROLE_LABELS
from portfolio.core.events import Event


def _login_failed(data) -> str:
    sentence = f"failed to log in as {data.get('email', '?')}"
    return sentence + " (refused: too many failed attempts)" if data.get("throttled") else sentence


login_failed = Event("login.failed", _login_failed)
password_changed = Event("user.password_changed", "changed their password")
user_deactivated = Event("user.deactivated", "deactivated the account {email}")
user_reactivated = Event("user.reactivated", "reactivated the account {email}")


def _user_created(data) -> str:
    roles = ", ".join(ROLE_LABELS.get(role, role).lower() for role in data.get("roles", []))
    return f"added {data.get('email', '?')} to the centre ({roles})"


user_created = Event("user.created", _user_created)
enrolment_created = Event(
    "enrolment.created",
    "enrolled the learner on {qualification} version {version}, registration {registration_number}")
users_imported = Event(
    "users.imported",
    "imported {learners} learners with {enrolments} enrolments from a CSV file")
enrolment_edited = Event(
    "enrolment.edited",
    "changed the enrolment's details: registration {registration_number}, "
    "{start_date} to {planned_end_date}")
#: Carries the old and new holders' ids (``old_assessor_id``, ``new_assessor_id``,
#: ``old_iqa_id``, ``new_iqa_id``) so notifications can tell both assessors.
enrolment_moved = Event("enrolment.moved", "moved the enrolment to new holders ({moved})")
enrolment_break_recorded = Event(
    "enrolment.break_recorded", "recorded a break in learning from {starts_on}: {reason}")
enrolment_break_ended = Event("enrolment.break_ended", "ended a break in learning on {ends_on}")
enrolment_withdrawn = Event("enrolment.withdrawn", "withdrew the learner on {ended_on}: {reason}")
enrolment_completed = Event("enrolment.completed", "completed the enrolment on {ended_on}")


def _roles(roles) -> str:
    return ", ".join(ROLE_LABELS.get(role, role).lower() for role in roles) or "none"


def _details_changed(data) -> str:
    before, after = data.get("before", {}), data.get("after", {})
    return "changed the account's " + "; ".join(
        f"{key} from {before.get(key)} to {after[key]}" for key in after
        if after[key] != before.get(key))


#: ``before`` and ``after`` hold the name and email.
user_details_changed = Event("user.details_changed", _details_changed)
user_roles_changed = Event(
    "user.roles_changed",
    lambda data: f"changed the roles of {data.get('email', '?')} from "
                 f"{_roles(data.get('before', []))} to {_roles(data.get('after', []))}")
staff_record_made = Event(
    "staff_record.made",
    "recorded {name} as {role} on {qualification}: {status} since {started_on}")

def _link_sentence(data) -> str:
    kind = "a password reset link" if data.get("purpose") == "reset" else \
        "a set-your-password link"
    return f"issued {kind} for {data.get('email', '?')}"


#: A password link made (``purpose``: ``set`` or ``reset``); the token itself is never recorded.
password_link_issued = Event("user.password_link_issued", _link_sentence)
password_set_by_link = Event("user.password_set_by_link",
                             "set their password with an emailed link ({purpose})")
centre_created = Event("centre.created", "created the centre {name}")
