"""Who may sample, see a sample and act on its actions: named predicates, checked on loaded
objects by the views and used by the templates to show or hide actions."""

from __future__ import annotations

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.permissions import can_view_enrolment, is_centre_admin
from portfolio.quality.models import PlannedSample, Sample, SampleAction, SamplingPlan


def is_iqa_of_centre(user: User, centre_id: int) -> bool:
    return bool(user.is_authenticated and user.is_active and user.holds("iqa", centre_id))


def can_sample(user: User, enrolment: Enrolment) -> bool:
    """An IQA of the centre who reads the learner's portfolio (as its IQA, or also as an admin or
    assessor there): whose decisions they may sample is the services' rule, per decision."""
    return is_iqa_of_centre(user, enrolment.centre_id) and can_view_enrolment(user, enrolment)


def can_carry_out(user: User, planned: PlannedSample, plan: SamplingPlan) -> bool:
    """The plan's IQA, while the planned sample is still in the plan."""
    return (is_iqa_of_centre(user, plan.centre_id) and user.id == plan.iqa_id
            and planned.plan_id == plan.id and planned.removed_in_id is None)


def can_view_sample(user: User, sample: Sample) -> bool:
    """The IQA who sampled, the assessor sampled, the learner's IQA and the centre's admins (a
    sample is the centre's internal record: the learner is not shown it); and, while it needs
    countersignature, the centre's IQAs, one of whom is to countersign it."""
    if not user.is_authenticated or not user.is_active:
        return False
    return (user.id in (sample.iqa_id, sample.assessor_id, sample.enrolment.iqa_id)
            or is_centre_admin(user, sample.centre_id)
            or (sample.needs_countersignature and is_iqa_of_centre(user, sample.centre_id)))


def can_respond(user: User, action: SampleAction) -> bool:
    """The action's owner, while it is open."""
    return bool(user.is_authenticated and user.is_active and user.id == action.owner_id
                and not action.closed)


def can_close(user: User, action: SampleAction) -> bool:
    """The IQA who raised it, while it is open."""
    return _is_raiser(user, action) and not action.closed


def can_reopen(user: User, action: SampleAction) -> bool:
    return _is_raiser(user, action) and action.closed


def _is_raiser(user: User, action: SampleAction) -> bool:
    return (is_iqa_of_centre(user, action.sample.centre_id)
            and user.id == action.sample.iqa_id)


def can_countersign_samples(user: User) -> bool:
    """An IQA of their centre: which samples they may countersign (on the qualifications they are
    recorded as qualified for, never their own) is the service's rule."""
    return is_iqa_of_centre(user, user.centre_id) if user.is_authenticated else False
