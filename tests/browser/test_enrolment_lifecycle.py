"""Every form of the enrolment page submitted once by an admin in Chromium on a 390 px screen:
edit, move, a break and its end, completion, and a withdrawal; the page must fit the screen."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.accounts import services as accounts
from portfolio.accounts.models import Enrolment
from portfolio.extensions import db
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.factories import PASSWORD

pytestmark = pytest.mark.browser

DOMAIN = "lifecycle.example.org"


def _seed(app) -> dict:
    """A centre with an admin, two assessors, an IQA and two learners enrolled."""
    with app.app_context():
        today = dt.date.today()
        seeded = seed_enrolment(db.session, "Lifecycle College", DOMAIN, "LIFE-1",
                                today - dt.timedelta(days=30), today + dt.timedelta(days=300),
                                roles=("centre_admin", "learner", "assessor", "iqa"))
        centre, users = seeded.centre, seeded.users
        second = accounts.create_user(db.session, centre, accounts.NewUser(
            f"assessor2@{DOMAIN}", "Bo Second", PASSWORD, ("assessor",)), actor=None)
        learner2 = accounts.create_user(db.session, centre, accounts.NewUser(
            f"learner2@{DOMAIN}", "Lou Leaving", PASSWORD, ("learner",)), actor=None)
        other = accounts.enrol(db.session, centre, accounts.NewEnrolment(
            learner2.id, seeded.enrolment.version_id, "LIFE-2", today - dt.timedelta(days=30),
            today + dt.timedelta(days=300), users["assessor"].id, users["iqa"].id),
            actor=users["centre_admin"])
        db.session.commit()
        return {"first": seeded.enrolment.id, "second": other.id, "assessor2": second.id}


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"


def _submit(page, form: str) -> str:
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")
    return page.locator(".flash").first.inner_text()


def test_every_enrolment_form_once_on_a_phone(live_app, browser, tmp_path):
    ids = _seed(live_app)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    base = live_app.config["LIVE_URL"]
    today = dt.date.today()
    try:
        log_in_page(page, base, f"admin@{DOMAIN}")
        page.goto(f"{base}/enrolments/{ids['first']}/record")
        _fits(page)
        page.fill("#edit-registration_number", "LIFE-1A")
        assert _submit(page, "#edit-form") == "The enrolment's details are changed."
        page.select_option("#move-assessor_id", str(ids["assessor2"]))
        assert _submit(page, "#move-form") == "The enrolment is moved."
        page.fill("#break-reason", "Illness")
        page.fill("#break-planned_end_date", (today + dt.timedelta(days=400)).isoformat())
        assert _submit(page, "#break-form") == "The break is recorded."
        assert "On a break since" in page.inner_text("#enrolment-status")
        _fits(page)
        page.screenshot(path=str(tmp_path / "on-a-break.png"), full_page=True)
        assert _submit(page, "#end-break-form") == "The break is ended."
        # Completing is for good: it asks first, and the form is inside the question.
        assert not page.is_visible("#complete-form")
        page.click("details.confirm summary:has-text('Complete the enrolment')")
        assert _submit(page, "#complete-form") == "The enrolment is complete: it is now read-only."
        assert "Completed on" in page.inner_text("#enrolment-status")
        assert page.locator("#holders tr").count() == 4  # header, Asha, Ivan, Bo
        assert page.locator("form#edit-form").count() == 0
        _fits(page)

        page.goto(f"{base}/enrolments/{ids['second']}/record")
        page.click("details.confirm summary:has-text('Withdraw Lou Leaving')")
        page.fill("#withdraw-reason", "Moved away")
        assert _submit(page, "#withdraw-form") == (
            "The learner is withdrawn: the enrolment is now read-only.")
        assert "Withdrawn on" in page.inner_text("#enrolment-status")
        page.screenshot(path=str(tmp_path / "withdrawn.png"), full_page=True)
        _fits(page)
    finally:
        context.close()
    with live_app.app_context():
        first, second = (db.session.get(Enrolment, ids[k]) for k in ("first", "second"))
        assert (first.status, first.registration_number, first.assessor_id) == (
            "completed", "LIFE-1A", ids["assessor2"])
        assert (second.status, second.ended_reason) == ("withdrawn", "Moved away")
