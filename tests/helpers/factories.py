"""Test data: two centres, two users of each role, and enrolments."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from portfolio.accounts.history import EnrolmentAssignment
from portfolio.accounts.models import Centre, Enrolment, RoleGrant, User
from portfolio.accounts.services import hash_password
from portfolio.catalogue import services as catalogue

PASSWORD = "correct horse battery"


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def make_user(session, centre, email, *roles, name=None) -> User:
    """A user holding ``roles`` (unscoped, unexpiring) in ``centre``. The grants are made
    directly, not through ``grant_role``, so tests can set up what it would refuse."""
    user = User(centre_id=centre.id, email=email, name=name or email.split("@")[0].title(),
                password_hash=password_hash(),
                grants=[RoleGrant(centre_id=centre.id, role=role) for role in roles])
    session.add(user)
    session.flush()
    return user


def make_enrolment(session, learner, assessor, iqa, qualification_number="600/1636/X",
                   registration=None) -> Enrolment:
    version = catalogue.find_version(session, qualification_number)
    enrolment = Enrolment(
        centre_id=learner.centre_id, learner_id=learner.id, version_id=version.id,
        qualification_id=version.qualification_id,
        registration_number=registration or f"REG-{learner.id}-{version.id}",
        start_date=dt.date(2026, 9, 1), planned_end_date=dt.date(2027, 8, 31),
        assessor_id=assessor.id, iqa_id=iqa.id)
    session.add(enrolment)
    session.flush()
    # Its first holders, as ``accounts.services.enrol`` records them.
    session.add_all(EnrolmentAssignment(enrolment_id=enrolment.id, role=role, user_id=holder.id)
                    for role, holder in (("assessor", assessor), ("iqa", iqa)))
    session.flush()
    return enrolment


@dataclass
class People:
    centre: Centre
    other_centre: Centre
    admin: User
    assessor1: User
    assessor2: User
    iqa1: User
    iqa2: User
    learner1: User
    learner2: User
    other_admin: User
    other_learner: User
    enrolment1: Enrolment
    enrolment2: Enrolment
    other_enrolment: Enrolment


def make_people(session) -> People:
    centre, other = Centre(name="North College"), Centre(name="South Academy")
    session.add_all([centre, other])
    session.flush()
    admin = make_user(session, centre, "admin@north.test", "centre_admin")
    assessor1 = make_user(session, centre, "assessor1@north.test", "assessor")
    assessor2 = make_user(session, centre, "assessor2@north.test", "assessor")
    iqa1 = make_user(session, centre, "iqa1@north.test", "iqa")
    iqa2 = make_user(session, centre, "iqa2@north.test", "iqa", "assessor")
    learner1 = make_user(session, centre, "learner1@north.test", "learner")
    learner2 = make_user(session, centre, "learner2@north.test", "learner")
    other_admin = make_user(session, other, "admin@south.test", "centre_admin")
    other_assessor = make_user(session, other, "assessor@south.test", "assessor")
    other_iqa = make_user(session, other, "iqa@south.test", "iqa")
    other_learner = make_user(session, other, "learner@south.test", "learner")
    return People(
        centre=centre, other_centre=other, admin=admin, assessor1=assessor1,
        assessor2=assessor2, iqa1=iqa1, iqa2=iqa2, learner1=learner1, learner2=learner2,
        other_admin=other_admin, other_learner=other_learner,
        enrolment1=make_enrolment(session, learner1, assessor1, iqa1, "600/1636/X"),
        enrolment2=make_enrolment(session, learner2, assessor2, iqa2, "600/1257/2"),
        other_enrolment=make_enrolment(session, other_learner, other_assessor, other_iqa,
                                       "600/1636/X"),
    )

