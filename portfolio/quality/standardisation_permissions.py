"""Who may do what in standardisation: named predicates over loaded objects, checked by the
views (a refusal is a 404) and used by the templates to show or hide actions.

Taking part needs both the invitation and a current assessor or IQA role in the centre: someone
who has left the centre's staff no longer reads the learners' evidence discussed."""

from __future__ import annotations

from portfolio.accounts.models import Centre, User
from portfolio.accounts.permissions import is_centre_admin
from portfolio.quality.standardisation_models import (
    StandardisationActivity,
    StandardisationEvidence,
)


def _is_staff(user: User, centre_id: int) -> bool:
    return user.holds("assessor", centre_id) or user.holds("iqa", centre_id)


def is_participant(user: User, activity: StandardisationActivity) -> bool:
    return bool(user.is_authenticated and user.is_active
                and any(p.user_id == user.id for p in activity.participants)
                and _is_staff(user, activity.centre_id))


def is_lead(user: User, activity: StandardisationActivity) -> bool:
    return (is_participant(user, activity) and user.id == activity.lead_id
            and user.holds("iqa", activity.centre_id))


def can_plan_standardisation(user: User, centre: Centre) -> bool:
    """The centre's IQAs (who lead what they plan) and its admins."""
    return bool(user.is_authenticated and user.is_active
                and (user.holds("iqa", centre.id) or is_centre_admin(user, centre.id)))


def can_list_standardisation(user: User, centre: Centre) -> bool:
    """The centre's staff: each sees the activities they take part in, admins all of them."""
    return bool(user.is_authenticated and user.is_active
                and (_is_staff(user, centre.id) or is_centre_admin(user, centre.id)))


def can_view_activity(user: User, activity: StandardisationActivity) -> bool:
    """The participants, and the centre's admins (who see who has judged, not what, until the
    round opens)."""
    return is_participant(user, activity) or is_centre_admin(user, activity.centre_id)


def can_judge_in_round(user: User, activity: StandardisationActivity) -> bool:
    return is_participant(user, activity) and not activity.is_open


def can_change_evidence_discussed(user: User, activity: StandardisationActivity) -> bool:
    return is_lead(user, activity) and not activity.is_open


def can_read_discussed_evidence(user: User, evidence: StandardisationEvidence) -> bool:
    """The participants, while they are: the learners' items and files are theirs to read for
    this activity only."""
    return is_participant(user, evidence.activity)


def can_see_agreement(user: User, activity: StandardisationActivity) -> bool:
    return can_view_activity(user, activity) and activity.is_open
