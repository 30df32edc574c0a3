"""Who may see a centre's people and a learner's record: named predicates, checked on loaded
objects. A refusal is a 404, the same as a missing id, so ids reveal nothing."""

from __future__ import annotations

from portfolio.accounts.models import Enrolment, User


def is_centre_admin(user: User, centre_id: int) -> bool:
    return bool(user.is_authenticated and user.holds("centre_admin", centre_id))


def can_manage_account(user: User, account: User) -> bool:
    """Deactivating and reactivating an account: the admins of its own centre (an account is
    one person's across the installation; other centres only grant it roles)."""
    return is_centre_admin(user, account.centre_id)


def can_view_enrolment(user: User, enrolment: Enrolment) -> bool:
    """The learner, their assessor, their IQA, and their centre's admins."""
    if not user.is_authenticated or not user.is_active:
        return False
    return (user.id in (enrolment.learner_id, enrolment.assessor_id, enrolment.iqa_id)
            or is_centre_admin(user, enrolment.centre_id))


def can_manage_enrolment(user: User, enrolment: Enrolment) -> bool:
    """Editing, moving, breaks, withdrawing and completing: the admins of the enrolment's centre
    while it is open (assessors and IQAs see its history; who holds a learner is the centre's
    decision, not the holder's)."""
    return is_centre_admin(user, enrolment.centre_id) and enrolment.is_open


def can_send_password_link(user: User, account: User) -> bool:
    """An admin of the account's own centre, for an active account (another centre that granted
    it roles may not: a link sets the password of the person's one account)."""
    return can_manage_account(user, account) and account.is_enabled
