"""For the browser tests: a centre's people and an enrolment made through the services (as the
live server will find them), and logging a Playwright page in through the form."""

from __future__ import annotations

from dataclasses import dataclass

from portfolio.accounts import services as accounts
from portfolio.accounts.models import Centre, Enrolment, User
from portfolio.catalogue import services as catalogue
from tests.helpers.factories import PASSWORD

#: Per role, the local part of the person's email address and their name.
PEOPLE = {"centre_admin": ("admin", "Ada Admin"), "learner": ("learner", "Lena Learner"),
          "assessor": ("assessor", "Asha Assessor"), "iqa": ("iqa", "Ivan IQA")}


@dataclass
class Seeded:
    centre: Centre
    users: dict[str, User]
    enrolment: Enrolment


def seed_enrolment(session, centre_name: str, domain: str, registration: str, start_date,
                   planned_end_date, roles=("learner", "assessor", "iqa"),
                   qualification_number="600/1636/X") -> Seeded:
    """A centre with one person of each of ``roles`` (``learner@<domain>`` and so on, password
    PASSWORD), the learner enrolled on ``qualification_number`` with that assessor and IQA.
    Flushes; the caller commits."""
    centre = Centre(name=centre_name)
    session.add(centre)
    session.flush()
    users = {}
    for role in roles:
        local, name = PEOPLE[role]
        users[role] = accounts.create_user(session, centre, accounts.NewUser(
            f"{local}@{domain}", name, PASSWORD, (role,)), actor=None)
    version = catalogue.find_version(session, qualification_number)
    enrolment = accounts.enrol(session, centre, accounts.NewEnrolment(
        learner_id=users["learner"].id, version_id=version.id, registration_number=registration,
        start_date=start_date, planned_end_date=planned_end_date,
        assessor_id=users["assessor"].id, iqa_id=users["iqa"].id), actor=None)
    return Seeded(centre, users, enrolment)


def log_in_page(page, base: str, email: str, password=PASSWORD) -> None:
    """Log ``page`` in through the login form of the live server at ``base``; returns once the
    page shows the logged-in header."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("button:has-text('Log out')")
