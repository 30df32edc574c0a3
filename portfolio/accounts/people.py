"""Running a centre's people after they are added: correcting a name or email, changing roles
(a removed role's grant ends and stays as the record), and what their page shows about their
open enrolments. Each change is made by an admin of the person's centre, flushes and emits its
event; the caller commits. Staff records live in ``accounts.staff``."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts import links
from portfolio.accounts.events import user_details_changed, user_roles_changed
from portfolio.accounts.models import ROLE_LABELS, Enrolment, RoleGrant, User
from portfolio.accounts.permissions import can_manage_account
from portfolio.accounts.services import AccountError, grant_role, normalise_email
from portfolio.core.db import utcnow


class FieldRefused(AccountError):
    """A refusal about one answer of a form: the page shows it next to the field ``field``."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def require_manager(person: User, actor: User) -> None:
    if not can_manage_account(actor, person):
        raise AccountError("Only an admin of the person's centre can do that.")


def edit_details(session: Session, person: User, actor: User, *, name: str, email: str) -> None:
    """Correct a person's name and email (their login), unique across the installation.

    Their sessions stay open, for an email change too: a session is the person's, proved by
    their password, which has not changed; the new address is only the name they log in with
    next time. (Ending sessions protects against someone who knows a password, as a password
    change or deactivation does; an address change does not make anyone's password known.)"""
    require_manager(person, actor)
    name, email = name.strip(), normalise_email(email)
    if not name:
        raise FieldRefused("name", "Give the person's name.")
    if not email:
        raise FieldRefused("email", "Give the person's email address.")
    before = {"name": person.name, "email": person.email}
    after = {"name": name, "email": email}
    if after == before:
        raise FieldRefused("name", "Nothing changed: that is the name and email they have.")
    if email != person.email and session.scalar(
            sa.select(User.id).where(User.email == email, User.id != person.id)):
        # Accounts are one per person across the installation; whose it is, and in which
        # centre, is not this admin's to know.
        raise FieldRefused("email", f"{email} is already the login of another account.")
    if email != person.email:
        # Links mailed to the old address must not set the password of the new one's owner.
        links.void_links(session, [person.id])
    person.name, person.email = name, email
    session.flush()
    user_details_changed.emit(session, actor=actor, centre_id=person.centre_id, subject=person,
                              before=before, after=after)


def open_enrolments_held(session: Session, person: User, centre_id: int, role: str
                         ) -> list[Enrolment]:
    """The centre's open enrolments in which ``person`` is the learner, the assessor or the
    IQA (``role``), oldest first."""
    holder = {"learner": Enrolment.learner_id, "assessor": Enrolment.assessor_id,
              "iqa": Enrolment.iqa_id}[role]
    return list(session.scalars(sa.select(Enrolment).where(
        holder == person.id, Enrolment.centre_id == centre_id, Enrolment.ended_at.is_(None))
        .order_by(Enrolment.created_at)))


def open_caseload(session: Session, person: User, centre_id: int) -> list[Enrolment]:
    """The centre's open enrolments ``person`` holds as assessor or IQA, oldest first."""
    return list(session.scalars(sa.select(Enrolment).where(
        sa.or_(Enrolment.assessor_id == person.id, Enrolment.iqa_id == person.id),
        Enrolment.centre_id == centre_id, Enrolment.ended_at.is_(None))
        .order_by(Enrolment.created_at)))


def _refuse_open_enrolments(session: Session, person: User, centre_id: int, role: str) -> None:
    held = len(open_enrolments_held(session, person, centre_id, role))
    if not held:
        return
    enrolments = f"{held} open enrolment{'s' if held != 1 else ''}"
    if role == "learner":
        raise FieldRefused("roles", f"{person.name} is still the learner of {enrolments}: "
                                    f"withdraw or complete {'them' if held > 1 else 'it'} first.")
    label = "assessor" if role == "assessor" else "IQA"
    raise FieldRefused("roles", f"{person.name} is still the {label} of {enrolments}: move "
                                f"{'them' if held > 1 else 'it'} to another {label} first "
                                f"(“Move” on each enrolment's page, listed under “Open "
                                f"caseload” below).")


def _lock_person(session: Session, person: User) -> None:
    """Serialise role changes to one person (two admins at once would otherwise both grant the
    same role), and read their grants as the last change left them."""
    session.execute(sa.select(User.id).where(User.id == person.id).with_for_update())
    session.expire(person, ["grants"])


def change_roles(session: Session, person: User, actor: User, roles: Collection[str]) -> None:
    """Make ``roles`` the roles ``person`` holds in their centre. A removed role's grants end
    now (``expires_at``) and stay as the record of when it was held; an added one is granted by
    ``grant_role``, which keeps learners out of staff roles. Refused while the person still holds
    open enrolments in a role being removed, and for an admin's own admin role.

    The change reaches the person on their next request: each request loads the user and their
    grants afresh (``sessions.load_user``)."""
    require_manager(person, actor)
    _lock_person(session, person)
    centre_id = person.centre_id
    unknown = set(roles) - set(ROLE_LABELS)
    if unknown:
        raise FieldRefused("roles", f"There is no role called {sorted(unknown)[0]!r}.")
    if not roles:
        raise FieldRefused("roles", "Keep at least one role: to stop someone working here, "
                                    "deactivate their account instead.")
    held = person.roles_in(centre_id)
    added = [role for role in ROLE_LABELS if role in roles and role not in held]
    removed = [role for role in held if role not in roles]
    if not added and not removed:
        raise FieldRefused("roles", "Nothing changed: those are the roles they hold.")
    if person.id == actor.id and "centre_admin" in removed:
        raise FieldRefused("roles", "You cannot remove your own centre admin role: another "
                                    "admin of the centre can.")
    for role in removed:
        if role != "centre_admin":
            _refuse_open_enrolments(session, person, centre_id, role)
    now = utcnow()
    for grant in person.grants:
        if grant.role in removed and grant.centre_id == centre_id and grant.scope is None \
                and grant.is_active_at(now):
            grant.expires_at = now
    session.flush()
    for role in added:
        try:
            grant_role(session, person, role, centre_id, granted_by=actor)
        except AccountError as refused:  # a learner given a staff role, or the reverse
            raise FieldRefused("roles", str(refused)) from None
    user_roles_changed.emit(
        session, actor=actor, centre_id=centre_id, subject=person, email=person.email,
        before=held, after=[role for role in ROLE_LABELS if role in roles],
        added=added, removed=removed)


def past_grants(person: User, centre_id: int) -> list[RoleGrant]:
    """The person's ended grants in the centre, latest ended first."""
    now = utcnow()
    return sorted((grant for grant in person.grants
                   if grant.centre_id == centre_id and not grant.is_active_at(now)),
                  key=lambda grant: grant.expires_at, reverse=True)


def current_grants(person: User, centre_id: int) -> list[RoleGrant]:
    now = utcnow()
    return [grant for grant in person.grants
            if grant.centre_id == centre_id and grant.is_active_at(now)]
