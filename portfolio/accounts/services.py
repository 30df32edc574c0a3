"""Accounts operations: passwords, throttled authentication, users and enrolments. They flush;
the caller commits once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from portfolio.accounts.models import Centre, Enrolment, LoginAttempt, User
from portfolio.catalogue.models import QualificationVersion
from portfolio.core import audit
from portfolio.core.db import utcnow

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not a password anybody has")

THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A request refused with a message for the person who made it."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
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
    audit.record(session, "login.failed", actor=None,
                 centre_id=user.centre_id if user else None,
                 data={"email": email, "throttled": throttled}, address=address)
    session.flush()
    if throttled:
        minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
        raise AccountError(f"Too many failed attempts. Try again in {minutes} minutes.")
    raise AccountError("That email and password do not match an active account.")


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
                password_hash=hash_password(new.password),
                **{f"is_{role}": True for role in new.roles})
    session.add(user)
    session.flush()
    audit.record(session, "user.created", actor=actor, centre_id=centre.id, obj=user,
                 data={"email": email, "roles": list(new.roles)})
    return user


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
        if user is None or user.centre_id != centre.id or not getattr(user, f"is_{role}"):
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
    if version is None:
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
    audit.record(session, "enrolment.created", actor=actor, centre_id=centre.id,
                 learner_id=learner.id, obj=enrolment,
                 data={"qualification": version.qualification_number, "version": version.version,
                       "registration_number": registration, "assessor_id": new.assessor_id,
                       "iqa_id": new.iqa_id})
    return enrolment


def lock_enrolment(session: Session, enrolment: Enrolment) -> None:
    """Serialise changes to one learner's record: concurrent transactions touching the same
    enrolment (two sign-offs, a withdrawal and a judgement) take turns, and each sees what the
    other committed. Call before reading the state a change depends on. (SQLite has no row locks;
    it serialises all writers.)"""
    session.execute(sa.select(Enrolment.id).where(Enrolment.id == enrolment.id).with_for_update())


def centre_staff(session: Session, centre_id: int, role: str) -> list[User]:
    return list(session.scalars(
        sa.select(User).where(User.centre_id == centre_id, getattr(User, f"is_{role}"),
                              User.is_enabled).order_by(User.name)))


def enrolments_for(session: Session, user: User) -> list[Enrolment]:
    """The enrolments a user works with: their own, their caseload, or their centre's."""
    query = sa.select(Enrolment).where(Enrolment.centre_id == user.centre_id)
    if not user.is_centre_admin:
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
    """Create the demo centre once; returns (email, password, roles) for each login."""
    today = today or dt.date.today()
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
