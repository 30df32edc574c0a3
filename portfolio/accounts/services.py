"""Accounts operations: passwords, authentication, users and enrolments. They flush;
the caller commits once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts import passwords
from portfolio.accounts.events import (
    enrolment_created,
    password_changed,
    user_created,
    user_deactivated,
    user_reactivated,
)
from portfolio.accounts.history import EnrolmentAssignment
from portfolio.accounts.models import (
    ROLE_LABELS,
    Centre,
    Enrolment,
    RoleGrant,
    User,
)
from portfolio.accounts.permissions import can_manage_account
from portfolio.accounts.sessions import end_sessions
from portfolio.accounts.throttling import LoginRefused, check_password, hasher
from portfolio.catalogue.models import QualificationVersion
from portfolio.core.db import utcnow
from portfolio.core.errors import DomainError


class AccountError(DomainError):
    """A request refused with a message for the person who made it."""


#: Stored for an account created without a password (added by an admin or the operator, or
#: imported): no Argon2 hash looks like this, so no password verifies against it until the
#: person sets one through their set-your-password link (``accounts.links``).
UNUSABLE_PASSWORD = "!no password set"


def hash_password(password: str) -> str:
    """The hash to store for a new password, refusing one that would be guessed quickly."""
    if (problem := passwords.weakness(password)) is not None:
        raise AccountError(problem)
    return hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(session: Session, email: str, password: str, address: str) -> User:
    """The user whose email and password these are, or :class:`LoginRefused` (throttled, see
    :mod:`portfolio.accounts.throttling`)."""
    user = check_password(session, normalise_email(email), password, address)
    user.last_login_at = utcnow()
    session.flush()
    return user


def change_password(session: Session, user: User, current: str, new: str, *, address: str,
                    keep: str | None = None) -> None:
    """Replace ``user``'s password once the current one is proved (throttled like a login), and
    end every other session of theirs (``keep``: the token of the session making the change)."""
    try:
        check_password(session, user.email, current, address)
    except LoginRefused as refused:
        if refused.throttled:
            raise
        raise LoginRefused("Your current password is not the one you typed.",
                           throttled=False) from None
    if new == current:
        raise AccountError("The new password is the one you have now: choose another.")
    user.password_hash = hash_password(new)
    end_sessions(session, user, keep=keep)
    password_changed.emit(session, actor=user, subject=user)
    session.flush()


def deactivate_user(session: Session, user: User, actor: User | None) -> None:
    """Stop ``user`` logging in and end every session of theirs (``actor`` None: the operator,
    at the command line)."""
    _set_enabled(session, user, False, actor)


def reactivate_user(session: Session, user: User, actor: User) -> None:
    _set_enabled(session, user, True, actor)


def _set_enabled(session: Session, user: User, enabled: bool, actor: User | None) -> None:
    """By an admin of the user's centre, never on themselves (a centre keeps its admin), or by
    the operator (``actor`` None)."""
    if actor is not None and not can_manage_account(actor, user):
        raise AccountError("Only an admin of the person's centre can do that.")
    if actor is not None and user.id == actor.id:
        raise AccountError("You cannot deactivate or reactivate your own account.")
    if user.is_enabled == enabled:
        state = "active" if enabled else "deactivated"
        raise AccountError(f"{user.name} is already {state}.")
    user.is_enabled = enabled
    if not enabled:
        end_sessions(session, user)
    (user_reactivated if enabled else user_deactivated).emit(
        session, actor=actor, centre_id=user.centre_id, subject=user, email=user.email)
    session.flush()


@dataclass(frozen=True)
class NewUser:
    email: str
    name: str
    #: None for a person who sets their own through a link (``accounts.invitations``); the demo
    #: and tests give one.
    password: str | None
    roles: tuple[str, ...]


def create_user(session: Session, centre: Centre, new: NewUser, actor: User | None) -> User:
    """Add a person to ``centre`` with ``new.roles``.

    Accounts are one per person across the installation and roles are granted per centre, so
    an email that already has an account in another centre is given the roles here instead of
    a new account. The answer is the same as for a new person, because another centre's people
    are not this centre's to know of; that person keeps their own password (an initial one is
    checked like any other and then unused), and a refusal there names no other centre. Without
    a password the account has :data:`UNUSABLE_PASSWORD` until its owner sets one.
    """
    email = normalise_email(new.email)
    if not new.roles:
        raise AccountError("Choose at least one role.")
    if "learner" in new.roles and len(new.roles) > 1:
        raise AccountError("A learner account cannot also hold a staff role.")
    password_hash = UNUSABLE_PASSWORD if new.password is None else hash_password(new.password)
    user = session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(centre_id=centre.id, email=email, name=new.name.strip(),
                    password_hash=password_hash)
        session.add(user)
        session.flush()
    elif user.centre_id == centre.id or session.scalar(sa.select(RoleGrant.id).where(
            RoleGrant.user_id == user.id, RoleGrant.centre_id == centre.id).limit(1)):
        raise AccountError(f"There is already an account for {email}.")
    try:
        for role in dict.fromkeys(new.roles):
            grant_role(session, user, role, centre.id, granted_by=actor)
    except AccountError:
        # Only a role held in another centre can refuse here: say nothing about it.
        raise AccountError(f"{email} cannot be given those roles in this centre.") from None
    user_created.emit(session, actor=actor, centre_id=centre.id, subject=user, email=email,
                      roles=list(new.roles))
    return user


def grant_role(session: Session, user: User, role: str, centre_id: int | None = None, *,
               scope: tuple[str, int] | None = None, expires_at: dt.datetime | None = None,
               granted_by: User | None = None) -> RoleGrant:
    """Give ``user`` a role in a centre (default: their own), optionally over one scope such as
    ``("learner", 12)`` and until ``expires_at``.

    The one place that keeps a learner from holding a staff role (and staff from becoming
    learners), counting the user's unexpired grants in every centre and scope.
    """
    if role not in ROLE_LABELS:
        raise AccountError(f"There is no role called {role!r}.")
    centre_id = user.centre_id if centre_id is None else centre_id
    now = utcnow()
    active = [grant for grant in user.grants if grant.is_active_at(now)]
    label = ROLE_LABELS[role].lower()
    if role != "learner" and any(grant.role == "learner" for grant in active):
        raise AccountError(f"{user.name} is a learner and cannot also hold a staff role.")
    if role == "learner" and any(grant.role != "learner" for grant in active):
        raise AccountError(f"{user.name} holds a staff role and cannot also be a learner.")
    if any(grant.role == role and grant.centre_id == centre_id and grant.scope == scope
           for grant in active):
        over = f"for that {scope[0]}" if scope else "in that centre"
        raise AccountError(f"{user.name} already holds the {label} role {over}.")
    grant = RoleGrant(centre_id=centre_id, role=role, scope_type=scope[0] if scope else None,
                      scope_id=scope[1] if scope else None, expires_at=expires_at,
                      granted_at=now, granted_by_id=granted_by.id if granted_by else None)
    user.grants.append(grant)
    session.flush()
    return grant


@dataclass(frozen=True)
class NewEnrolment:
    learner_id: int
    version_id: int
    registration_number: str
    start_date: dt.date
    planned_end_date: dt.date
    assessor_id: int
    iqa_id: int


IQA_IS_ASSESSOR = ("The IQA cannot be the learner's assessor: an IQA never samples their own "
                   "assessment decisions.")


def centre_member(session: Session, centre_id: int, user_id: int, role: str) -> User:
    """The enabled user ``user_id`` holding ``role`` in the centre, or a refusal saying so."""
    user = session.get(User, user_id)
    if user is None or not user.holds(role, centre_id):
        raise AccountError(f"Choose a {ROLE_LABELS[role].lower()} from this centre.")
    if not user.is_enabled:
        raise AccountError(f"{user.name} is deactivated.")
    return user


def check_enrolment_details(session: Session, centre_id: int, registration_number: str,
                            start_date: dt.date, planned_end_date: dt.date, *,
                            enrolment_id: int | None = None) -> str:
    """What every enrolment's details must satisfy, new or edited (``enrolment_id``: the one
    being edited, whose own number is no clash); returns the registration number, trimmed."""
    if planned_end_date < start_date:
        raise AccountError("The planned end date is before the start date.")
    registration = registration_number.strip()
    if not registration:
        raise AccountError("Give the learner's registration number.")
    clash = sa.select(Enrolment.id).where(Enrolment.centre_id == centre_id,
                                          Enrolment.registration_number == registration)
    if enrolment_id is not None:
        clash = clash.where(Enrolment.id != enrolment_id)
    if session.scalar(clash):
        raise AccountError(f"Registration number {registration} is already in use.")
    return registration


def enrol(session: Session, centre: Centre, new: NewEnrolment, actor: User,
          today: dt.date | None = None) -> Enrolment:
    """Register a learner on a qualification version, refusing what a centre must not do."""
    today = today or dt.date.today()
    learner = centre_member(session, centre.id, new.learner_id, "learner")
    centre_member(session, centre.id, new.assessor_id, "assessor")
    centre_member(session, centre.id, new.iqa_id, "iqa")
    if new.assessor_id == new.iqa_id:
        raise AccountError(IQA_IS_ASSESSOR)
    version = session.get(QualificationVersion, new.version_id)
    if version is None or not version.is_visible_to(centre.id):
        raise AccountError("That qualification is not in the catalogue.")
    if not version.is_open_for_registration(today):
        raise AccountError(f"{version.title} closed to new registrations on "
                           f"{version.operational_end:%d %B %Y}.")
    registration = check_enrolment_details(session, centre.id, new.registration_number,
                                           new.start_date, new.planned_end_date)
    if session.scalar(sa.select(Enrolment.id).where(
            Enrolment.learner_id == learner.id,
            Enrolment.qualification_id == version.qualification_id,
            Enrolment.ended_at.is_(None))):
        raise AccountError(f"{learner.name} is already enrolled on {version.title}.")

    enrolment = Enrolment(
        centre_id=centre.id, learner_id=learner.id, version_id=version.id,
        qualification_id=version.qualification_id, registration_number=registration,
        start_date=new.start_date, planned_end_date=new.planned_end_date,
        assessor_id=new.assessor_id, iqa_id=new.iqa_id)
    session.add(enrolment)
    session.flush()
    session.add_all(first_holders(enrolment, actor))
    enrolment_created.emit(
        session, actor=actor, centre_id=centre.id, learner_id=learner.id, subject=enrolment,
        qualification=version.qualification_number, version=version.version,
        registration_number=registration, assessor_id=new.assessor_id, iqa_id=new.iqa_id)
    return enrolment


class EnrolmentEnded(AccountError):
    pass


def first_holders(enrolment: Enrolment, actor: User | None) -> list[EnrolmentAssignment]:
    """The history rows of a new enrolment's first assessor and IQA."""
    return [EnrolmentAssignment(enrolment_id=enrolment.id, role=role, user_id=holder,
                                assigned_by_id=getattr(actor, "id", None))
            for role, holder in (("assessor", enrolment.assessor_id), ("iqa", enrolment.iqa_id))]


def lock_enrolment(session: Session, enrolment: Enrolment) -> None:
    """Serialise changes to one learner's record: concurrent transactions touching the same
    enrolment (two sign-offs, a withdrawal and a judgement) take turns, and each sees what the
    other committed. Call before reading the state a change depends on. (SQLite has no row locks;
    it serialises all writers.)

    Every change to a record takes this lock, so it is also where an ended enrolment refuses
    them: its status is read under the lock, after any withdrawal that was waiting for it."""
    status = session.scalar(sa.select(Enrolment.status).where(Enrolment.id == enrolment.id)
                            .with_for_update())
    if status != "open":
        raise EnrolmentEnded(f"This enrolment is {status}: its record is read-only.")


def centre_staff(session: Session, centre_id: int, role: str) -> list[User]:
    """The enabled users of a centre who hold ``role`` there now (unscoped grants only)."""
    return list(session.scalars(
        sa.select(User).where(User.holding(role, centre_id), User.is_enabled)
        .order_by(User.name)))


def enrolments_for(session: Session, user: User) -> list[Enrolment]:
    """The enrolments a user works with: their own, their caseload, or their centre's."""
    if user.holds("centre_admin"):
        query = sa.select(Enrolment).where(Enrolment.centre_id == user.centre_id)
    else:  # in any centre: people hold roles in centres other than their own
        query = sa.select(Enrolment).where(sa.or_(Enrolment.learner_id == user.id,
                                                  Enrolment.assessor_id == user.id,
                                                  Enrolment.iqa_id == user.id))
    return list(session.scalars(query.order_by(Enrolment.created_at)))


DEMO_CENTRE = "Demo Training Centre"
DEMO_PASSWORD = "portfolio-demo"
DEMO_PEOPLE = [
    ("admin@demo.test", "Ada Admin", ("centre_admin",)),
    ("assessor1@demo.test", "Asha Assessor", ("assessor",)),
    ("assessor2@demo.test", "Ben Assessor", ("assessor",)),
    ("iqa@demo.test", "Iris Quality", ("iqa",)),
    ("learner1@demo.test", "Lee Learner", ("learner",)),
    ("learner2@demo.test", "Mo Learner", ("learner",)),
    ("learner3@demo.test", "Nia Learner", ("learner",)),
]
DEMO_ENROLMENTS = [
    ("learner1@demo.test", "600/1257/2", "assessor1@demo.test", "DEMO-0001"),
    ("learner2@demo.test", "600/9662/7", "assessor1@demo.test", "DEMO-0002"),
    ("learner3@demo.test", "601/5359/3", "assessor2@demo.test", "DEMO-0003"),
]


def seed_demo_centre(session: Session, catalogue_versions: dict[str, QualificationVersion],
                     today: dt.date | None = None) -> list[tuple[str, str, str]]:
    """Create the demo centre once; returns (email, password, roles) for each login. Refused on
    an installation with any other centre: its well-known passwords have no place beside real
    people's records."""
    today = today or dt.date.today()
    if session.scalar(sa.select(Centre.id).where(Centre.name != DEMO_CENTRE).limit(1)):
        raise AccountError("This installation has centres of its own: the demo centre, whose "
                           "passwords are public, is only for an empty one.")
    centre = session.scalar(sa.select(Centre).where(Centre.name == DEMO_CENTRE))
    if centre is None:
        centre = Centre(name=DEMO_CENTRE)
        session.add(centre)
        session.flush()
        people = {email: create_user(session, centre, NewUser(email, name, DEMO_PASSWORD, roles),
                                     actor=None)
                  for email, name, roles in DEMO_PEOPLE}
        admin, iqa = people["admin@demo.test"], people["iqa@demo.test"]
        for learner, qualification_number, assessor, registration in DEMO_ENROLMENTS:
            enrol(session, centre, NewEnrolment(
                learner_id=people[learner].id,
                version_id=catalogue_versions[qualification_number].id,
                registration_number=registration, start_date=today,
                planned_end_date=today + dt.timedelta(days=365),
                assessor_id=people[assessor].id, iqa_id=iqa.id), actor=admin, today=today)
    return [(email, DEMO_PASSWORD, ", ".join(roles)) for email, _, roles in DEMO_PEOPLE]
