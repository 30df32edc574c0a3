"""Named permission predicates, checked on loaded objects and used by templates to hide buttons.

They read attributes only (duck typing), so this framework module imports no feature package.
Views load an object by id, then call a predicate; a false answer is a 404, the same as a missing
object, so ids reveal nothing.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user


def is_centre_admin(user, centre_id: int) -> bool:
    return bool(user.is_authenticated and user.is_centre_admin and user.centre_id == centre_id)


def can_view_enrolment(user, enrolment) -> bool:
    """The learner, their assessor, their IQA, and their centre's admins."""
    if not user.is_authenticated or not user.is_active:
        return False
    return (user.id in (enrolment.learner_id, enrolment.assessor_id, enrolment.iqa_id)
            or is_centre_admin(user, enrolment.centre_id))


def can_add_evidence(user, enrolment) -> bool:
    return user.is_authenticated and user.id == enrolment.learner_id and enrolment.is_active


def can_view_evidence(user, item) -> bool:
    return can_view_enrolment(user, item.enrolment)


def can_change_evidence(user, item) -> bool:
    """Only the learner, and only while no assessor has judged the item and it is not withdrawn."""
    return (user.is_authenticated and user.id == item.enrolment.learner_id
            and not item.is_withdrawn and not item.is_judged)


def require(predicate, obj):
    """Abort with 404 unless ``predicate(current_user, obj)``; returns ``obj`` for chaining."""
    if obj is None or not predicate(current_user, obj):
        abort(404)
    return obj


def roles_required(*roles: str):
    """For views with no object to check: the user must hold one of ``roles``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not any(getattr(current_user, f"is_{role}", False) for role in roles):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_assess(user, enrolment) -> bool:
    """The learner's own assessor, while the enrolment is open."""
    return bool(user.is_authenticated and user.is_assessor and user.id == enrolment.assessor_id
                and enrolment.is_active)


def can_declare_units(user, enrolment) -> bool:
    return user.is_authenticated and user.id == enrolment.learner_id and enrolment.is_active


def can_unlock_units(user, enrolment) -> bool:
    return is_centre_admin(user, enrolment.centre_id)
