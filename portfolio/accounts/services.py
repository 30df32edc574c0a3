"""Accounts operations: passwords, throttled authentication, users and enrolments. They flush;
the caller commits once."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from portfolio.accounts import passwords
from portfolio.accounts.events import enrolment_created, login_failed, user_created
from portfolio.accounts.models import ROLE_LABELS, Centre, Enrolment, LoginAttempt, RoleGrant, User
from portfolio.catalogue.models import QualificationVersion
from portfolio.core.db import utcnow
from portfolio.core.errors import DomainError

logger = logging.getLogger(__name__)

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not a password anybody has")

THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


class AccountError(DomainError):
    """A request refused with a message for the person who made it."""


class LoginRefused(AccountError):
    """Wrong credentials or too many failures. The attempt and its audit event are kept: they
    count towards throttling."""

    keeps_changes = True


def hash_password(password: str) -> str:
    """The hash to store for a new password, refusing one that would be guessed quickly."""
    if (problem := passwords.weakness(password)) is not None:
        raise AccountError(problem)
    return _hasher.hash(password)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(session: Session, email: str, password: str, address: str) -> User:
    """The user whose email and password these are, or :class:`AccountError`.

    Refused while the account or the address has too many recent failures, whatever the
    password; every attempt is recorded, and failures are audited.
    """
    email = normalise_email(email)
    since = utcnow() - THROTTLE_WINDOW

    def failures(column, value) -> int:
        return session.scalar(
            sa.select(sa.func.count()).select_from(LoginAttempt)
            .where(column == value, LoginAttempt.attempted_at >= since,
                   LoginAttempt.succeeded.is_(False)))

    user = session.scalar(sa.select(User).where(User.email == email))
    throttled = (failures(LoginAttempt.email, email) >= MAX_FAILURES_PER_ACCOUNT
                 or failures(LoginAttempt.address, address) >= MAX_FAILURES_PER_ADDRESS)
    matches = _password_matches(user.password_hash if user else _DUMMY_HASH, password)
    succeeded = bool(user and matches and user.is_enabled and not throttled)
    session.add(LoginAttempt(email=email, address=address, succeeded=succeeded))
    if succeeded:
        user.last_login_at = utcnow()
        session.flush()
        return user
    login_failed.emit(session, actor=None, centre_id=user.centre_id if user else None,
                      address=address, email=email, throttled=throttled)
    session.flush()
    if throttled:
        # Worth an operator's eye: someone is guessing this account's password or from there.
        logger.warning("login throttled for %s from %s", email, address)
        minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
        raise LoginRefused(f"Too many failed attempts. Try again in {minutes} minutes.")
    raise LoginRefused("That email and password do not match an active account.")


@dataclass(frozen=True)
class NewUser:
    email: str
    name: str
    password: str
    roles: tuple[str, ...]


def create_user(session: Session, centre: Centre, new: NewUser, actor: User | None) -> User:
    email = normalise_email(new.email)
    if not new.roles:
        raise AccountError("Choose at least one role.")
    if "learner" in new.roles and len(new.roles) > 1:
        raise AccountError("A learner account cannot also hold a staff role.")
    if session.scalar(sa.select(User.id).where(User.email == email)):
        raise AccountError(f"There is already an account for {email}.")
    user = User(centre_id=centre.id, email=email, name=new.name.strip(),
                password_hash=hash_password(new.password))
    session.add(user)
    session.flush()
    for role in dict.fromkeys(new.roles):
        grant_role(session, user, role, granted_by=actor)
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


def enrol(session: Session, centre: Centre, new: NewEnrolment, actor: User,
          today: dt.date | None = None) -> Enrolment:
    """Register a learner on a qualification version, refusing what a centre must not do."""
    today = today or dt.date.today()

    def member(user_id: int, role: str, label: str) -> User:
        user = session.get(User, user_id)
        if user is None or user.centre_id != centre.id or not user.holds(role, centre.id):
            raise AccountError(f"Choose a {label} from this centre.")
        if not user.is_enabled:
            raise AccountError(f"{user.name} is deactivated.")
        return user

    learner = member(new.learner_id, "learner", "learner")
    member(new.assessor_id, "assessor", "assessor")
    member(new.iqa_id, "iqa", "internal quality assurer")
    if new.assessor_id == new.iqa_id:
        raise AccountError("The IQA cannot be the learner's assessor: an IQA never samples "
                           "their own assessment decisions.")
    version = session.get(QualificationVersion, new.version_id)
    if version is None or not version.is_visible_to(centre.id):
        raise AccountError("That qualification is not in the catalogue.")
    if not version.is_open_for_registration(today):
        raise AccountError(f"{version.title} closed to new registrations on "
                           f"{version.operational_end:%d %B %Y}.")
    if new.planned_end_date < new.start_date:
        raise AccountError("The planned end date is before the start date.")
    registration = new.registration_number.strip()
    if not registration:
        raise AccountError("Give the learner's registration number.")
    if session.scalar(sa.select(Enrolment.id).where(
            Enrolment.learner_id == learner.id,
            Enrolment.qualification_id == version.qualification_id,
            Enrolment.ended_at.is_(None))):
        raise AccountError(f"{learner.name} is already enrolled on {version.title}.")
    if session.scalar(sa.select(Enrolment.id).where(
            Enrolment.centre_id == centre.id, Enrolment.registration_number == registration)):
        raise AccountError(f"Registration number {registration} is already in use.")

    enrolment = Enrolment(
        centre_id=centre.id, learner_id=learner.id, version_id=version.id,
        qualification_id=version.qualification_id, registration_number=registration,
        start_date=new.start_date, planned_end_date=new.planned_end_date,
        assessor_id=new.assessor_id, iqa_id=new.iqa_id)
    session.add(enrolment)
    session.flush()
    enrolment_created.emit(
        session, actor=actor, centre_id=centre.id, learner_id=learner.id, subject=enrolment,
        qualification=version.qualification_number, version=version.version,
        registration_number=registration, assessor_id=new.assessor_id, iqa_id=new.iqa_id)
    return enrolment


def lock_enrolment(session: Session, enrolment: Enrolment) -> None:
    """Serialise changes to one learner's record: concurrent transactions touching the same
    enrolment (two sign-offs, a withdrawal and a judgement) take turns, and each sees what the
    other committed. Call before reading the state a change depends on. (SQLite has no row locks;
    it serialises all writers.)"""
    session.execute(sa.select(Enrolment.id).where(Enrolment.id == enrolment.id).with_for_update())


def centre_staff(session: Session, centre_id: int, role: str) -> list[User]:
    """The enabled users of a centre who hold ``role`` there now (unscoped grants only)."""
    return list(session.scalars(
        sa.select(User).where(User.centre_id == centre_id, User.holding(role, centre_id),
                              User.is_enabled).order_by(User.name)))


def enrolments_for(session: Session, user: User) -> list[Enrolment]:
    """The enrolments a user works with: their own, their caseload, or their centre's."""
    query = sa.select(Enrolment).where(Enrolment.centre_id == user.centre_id)
    if not user.holds("centre_admin"):
        query = query.where(sa.or_(Enrolment.learner_id == user.id,
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
