"""Staff records for the countersignature tests, written directly so that a test can place a
start in the role on any day (``record_standing`` checks against today)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portfolio.accounts import services as accounts
from portfolio.accounts.models import User
from portfolio.accounts.staff import StaffRecord
from portfolio.catalogue import services as catalogue
from tests.helpers.assessment import add_item, criteria_of, decide
from tests.helpers.factories import PASSWORD

#: The qualification whose document asks for countersignature within 18 months.
COUNTERSIGNED_QN = "600/9662/7"


def record_staff(session, person, status: str, started_on: dt.date,
                 qualification_number: str = COUNTERSIGNED_QN, role: str = "assessor",
                 recorded_by=None) -> StaffRecord:
    version = catalogue.find_version(session, qualification_number)
    record = StaffRecord(user_id=person.id, qualification_id=version.qualification_id, role=role,
                         status=status, started_on=started_on,
                         recorded_by_id=(recorded_by or person).id)
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True)
class AwaitingCountersignature:
    trainee: User
    learner: User
    enrolment_id: int
    decision_id: int


def seed_awaiting_countersignature(session, centre, qualified: User, iqa: User,
                                   domain: str) -> AwaitingCountersignature:
    """In ``centre``: a trainee assessor working towards their qualification on 600/9662/7 since
    100 days ago, whose learner's unit 1 criterion 1.1 they judged met (awaiting
    countersignature), and ``qualified`` recorded as a qualified assessor on it. Through the
    services, as the live server finds them; flushes, the caller commits."""
    trainee, learner = (
        accounts.create_user(session, centre, accounts.NewUser(
            f"{local}@{domain}", name, PASSWORD, (role,)), actor=None)
        for local, name, role in (("trainee", "Tariq Trainee", "assessor"),
                                  ("diploma", "Dee Ploma", "learner")))
    version = catalogue.find_version(session, COUNTERSIGNED_QN)
    today = dt.date.today()
    enrolment = accounts.enrol(session, centre, accounts.NewEnrolment(
        learner_id=learner.id, version_id=version.id, registration_number=f"CS-{learner.id}",
        start_date=today - dt.timedelta(days=30), planned_end_date=today + dt.timedelta(days=300),
        assessor_id=trainee.id, iqa_id=iqa.id), actor=None)
    record_staff(session, trainee, "working_towards", today - dt.timedelta(days=100))
    record_staff(session, qualified, "qualified", dt.date(2020, 1, 1))
    criteria = criteria_of(session, enrolment, "1", 2)
    item = add_item(session, enrolment, criteria, title="Job search log")
    [decision] = decide(session, item, trainee, criteria[:1])
    return AwaitingCountersignature(trainee, learner, enrolment.id, decision.id)
