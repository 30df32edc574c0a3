"""Who may set a centre's sampling strategy and make, see and change sampling plans: named
predicates over loaded objects; a refusal is a 404."""

from __future__ import annotations

from portfolio.accounts.models import Centre, User
from portfolio.quality.models import SamplingPlan


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_set_strategy(user: User, centre: Centre) -> bool:
    """The centre's admins."""
    return _active(user) and user.holds("centre_admin", centre.id)


def can_make_plans(user: User, centre: Centre) -> bool:
    """The centre's IQAs."""
    return _active(user) and user.holds("iqa", centre.id)


def can_view_plans(user: User, centre: Centre) -> bool:
    """The list of plans: the centre's IQAs (their own) and admins (every plan)."""
    return can_make_plans(user, centre) or can_set_strategy(user, centre)


def can_view_plan(user: User, plan: SamplingPlan) -> bool:
    """The plan's IQA and the admins of its centre; not the assessor sampled, nor other IQAs."""
    return _active(user) and (user.id == plan.iqa_id
                              or user.holds("centre_admin", plan.centre_id))


def can_edit_plan(user: User, plan: SamplingPlan) -> bool:
    """The plan's IQA, while they hold the IQA role in its centre."""
    return _active(user) and user.id == plan.iqa_id and user.holds("iqa", plan.centre_id)


PREDICATES = {f.__name__: f for f in (can_set_strategy, can_make_plans, can_view_plans,
                                      can_view_plan, can_edit_plan)}
