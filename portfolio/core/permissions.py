"""How views check permissions; the predicates themselves live with the feature they protect
(``accounts/permissions.py``, ``evidence/permissions.py``, ``assessment/permissions.py``).

A predicate is a typed function ``(user, loaded object) -> bool``. Views load an object by id, then
call :func:`require`; a false answer is a 404, the same as a missing object, so ids reveal nothing.
Each feature's blueprint makes its predicates template globals, so templates show or hide actions
by the same rules and never improvise their own conditions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
from flask_login import current_user

T = TypeVar("T")


def require(predicate: Callable[..., bool], obj: T | None) -> T:
    """Abort with 404 unless ``predicate(current_user, obj)``; returns ``obj`` for chaining."""
    if obj is None or not predicate(current_user, obj):
        abort(404)
    return obj


def roles_required(*roles: str):
    """For views with no object to check: the user must hold one of ``roles`` in their centre."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not (current_user.is_authenticated
                    and any(current_user.holds(role) for role in roles)):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator
