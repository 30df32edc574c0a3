"""The import checks a whole file in a few queries, so it states the rules of ``create_user``,
``grant_role`` and ``enrol`` in batch form: for each rule, the import refuses what the service
refuses, with the service's own message, placed on the column it concerns."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.accounts import services
from portfolio.accounts.imports import ImportRefused, import_learners
from portfolio.catalogue import services as catalogue
from tests.accounts.test_user_import import DOMAIN, csv_file, line
from tests.helpers.factories import make_user

START, END = dt.date(2026, 9, 1), dt.date(2027, 8, 31)


def _closed(session, people):
    catalogue.find_version(session, "600/1257/2").operational_end = dt.date(2026, 6, 30)
    return {"qualification": "600/1257/2"}, {"version": "600/1257/2"}


def _same_person(session, people):
    both = make_user(session, people.centre, "both@north.test", "assessor", "iqa")
    return {"assessor": both.email, "iqa": both.email}, {"assessor": both, "iqa": both}


def _registration_used(session, people):
    used = people.enrolment1.registration_number
    return {"registration": used}, {"registration": used}


def _dates(session, people):
    return {"start": "2027-09-01", "end": "2027-08-31"}, {"start": dt.date(2027, 9, 1)}


def _account_here(session, people):
    make_user(session, people.centre, f"here@{DOMAIN}", "learner")
    return {"email": f"here@{DOMAIN}"}, {"email": f"here@{DOMAIN}"}


def _staff_elsewhere(session, people):
    make_user(session, people.other_centre, "staff@south-academy.ac.uk", "iqa")
    return {"email": "staff@south-academy.ac.uk"}, {"email": "staff@south-academy.ac.uk"}


def _enrolled_elsewhere(session, people):
    # The service names them by their name; the import by the address the admin typed, since
    # the name is the other centre's record. Named by their address here, the two agree.
    email = "lee@south-academy.ac.uk"
    learner = make_user(session, people.other_centre, email, "learner", name=email)
    other = people.other_enrolment
    other.learner_id = learner.id
    return {"email": learner.email}, {"email": learner.email}


@pytest.mark.parametrize(("arrange", "column"), [
    (_closed, "start"), (_same_person, "iqa_email"), (_registration_used, "registration_number"),
    (_dates, "planned_end"), (_account_here, "email"), (_staff_elsewhere, "email"),
    (_enrolled_elsewhere, "qualification"),
])
def test_the_import_refuses_what_the_services_refuse_with_their_message(
        session, people, arrange, column):
    cells, service_input = arrange(session, people)
    session.flush()
    with pytest.raises(ImportRefused) as caught:
        import_learners(session, people.centre, csv_file(line(1, **cells)), actor=people.admin)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (2, column)

    with pytest.raises(services.AccountError) as refused, session.begin_nested():
        _through_services(session, people, **service_input)
    assert problem.message == str(refused.value)


def _through_services(session, people, email=f"new@{DOMAIN}", version="600/1636/X",
                      registration="IMP-0001", start=START, assessor=None, iqa=None):
    learner = services.create_user(session, people.centre, services.NewUser(
        email, "New Learner", "an initial passphrase", ("learner",)), actor=people.admin)
    services.enrol(session, people.centre, services.NewEnrolment(
        learner_id=learner.id, version_id=catalogue.find_version(session, version).id,
        registration_number=registration, start_date=start, planned_end_date=END,
        assessor_id=(assessor or people.assessor1).id, iqa_id=(iqa or people.iqa1).id),
        actor=people.admin, today=start)
