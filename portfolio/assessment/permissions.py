"""Who may judge, declare, sign off and unlock: named predicates, checked on loaded objects by
the views and used by the templates to show or hide actions."""

from __future__ import annotations

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.permissions import is_centre_admin
from portfolio.assessment.progress import Progress, UnitProgress
from portfolio.evidence.models import EvidenceItem


def can_assess(user: User, enrolment: Enrolment) -> bool:
    """The learner's own assessor, while the enrolment is open."""
    return bool(user.is_authenticated and user.id == enrolment.assessor_id
                and user.holds("assessor", enrolment.centre_id) and enrolment.is_open)


def can_declare_units(user: User, enrolment: Enrolment) -> bool:
    return user.is_authenticated and user.id == enrolment.learner_id and enrolment.is_open


def can_unlock_units(user: User, enrolment: Enrolment) -> bool:
    return is_centre_admin(user, enrolment.centre_id) and enrolment.is_open


def can_declare_unit(user: User, progress: Progress, unit: UnitProgress) -> bool:
    """The learner, on a qualification that asks for declarations, for a unit whose every
    criterion is met, not yet declared nor signed off."""
    return (can_declare_units(user, progress.enrolment) and progress.tree.unit_declarations
            and not unit.declared and unit.ready_for_sign_off)


def can_sign_off_unit(user: User, progress: Progress, unit: UnitProgress) -> bool:
    """The assessor, once every criterion is met and the learner has declared where asked."""
    # The unit's state first: asked for every unit of the progress page, it rules out most.
    return (unit.ready_for_sign_off and (unit.declared or not progress.tree.unit_declarations)
            and can_assess(user, progress.enrolment))


def can_record_prior_achievement(user: User, progress: Progress, unit: UnitProgress) -> bool:
    return not unit.is_signed_off and can_assess(user, progress.enrolment)


def can_judge(user: User, item: EvidenceItem) -> bool:
    """The learner's assessor, on evidence the learner has not withdrawn."""
    return can_assess(user, item.enrolment) and not item.is_withdrawn


def can_countersign(user: User) -> bool:
    """An assessor of their centre: the countersigning pages then show only the qualifications
    their staff record says they are qualified for (``countersigning.qualified_for``)."""
    return bool(user.is_authenticated and user.is_active
                and user.holds("assessor", user.centre_id))


def can_countersign_in(user: User, enrolment: Enrolment) -> bool:
    """An assessor of the learner's centre; the service checks the rest (qualified, not the
    maker, not yet countersigned) and says why it refuses."""
    return can_countersign(user) and enrolment.centre_id == user.centre_id


def can_choose_pathway(user: User, enrolment: Enrolment) -> bool:
    """The learner or their assessor, while the enrolment is open."""
    return can_declare_units(user, enrolment) or can_assess(user, enrolment)
