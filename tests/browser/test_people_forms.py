"""A person's page in Chromium on a 390 px screen: an admin opens an assessor's page from the
users list and submits each of its forms for real, first with an answer the server refuses
(the message shown next to the field), then accepted; the assessor sees the result on their
profile; the admin deactivates them from the page, which then says what needs a new holder."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.extensions import db
from tests.helpers.browser import log_in_page, seed_enrolment

pytestmark = pytest.mark.browser

DOMAIN = "people-forms.example.org"


def _phone(browser):
    return browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)


def _wide_as_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def _submit(page, form_id: str) -> None:
    with page.expect_navigation():
        page.locator(f"#{form_id} button[type=submit]").click()


def test_an_admin_runs_a_persons_page_on_a_phone(live_app, browser):
    today = dt.date.today()
    with live_app.app_context():
        seed_enrolment(db.session, "People College", DOMAIN, "PC-1",
                       today - dt.timedelta(days=30), today + dt.timedelta(days=300),
                       roles=("centre_admin", "learner", "assessor", "iqa"))
        db.session.commit()
    base = live_app.config["LIVE_URL"]
    context = _phone(browser)
    admin = context.new_page()
    log_in_page(admin, base, f"admin@{DOMAIN}")
    admin.goto(f"{base}/admin/users")
    with admin.expect_navigation():
        admin.click("a:has-text('Asha Assessor')")
    assert admin.inner_text("h1") == "Asha Assessor"
    assert "Open caseload: 1" in admin.inner_text("main")
    assert _wide_as_the_screen(admin)

    # Name and email: someone else's address is refused next to the field, then a new one saved.
    admin.fill("#details-name", "Asha Patel")
    admin.fill("#details-email", f"learner@{DOMAIN}")
    _submit(admin, "details-form")
    assert "already the login of another account" in admin.inner_text("#details-email-error")
    assert admin.input_value("#details-name") == "Asha Patel"
    assert _wide_as_the_screen(admin)
    admin.fill("#details-email", f"Asha.Patel@{DOMAIN}")
    _submit(admin, "details-form")
    assert "The name and email are saved." in admin.inner_text("main")
    assert admin.inner_text("h1") == "Asha Patel"
    assert f"asha.patel@{DOMAIN}" in admin.inner_text("#person")

    # Roles: taking away the assessor role of someone holding an open enrolment is refused.
    roles = admin.locator("#roles-form")
    roles.get_by_label("Assessor").uncheck()
    roles.get_by_label("Internal quality assurer").check()
    _submit(admin, "roles-form")
    assert "still the assessor of 1 open enrolment" in admin.inner_text("#roles-roles-error")
    roles = admin.locator("#roles-form")
    roles.get_by_label("Assessor").check()
    roles.get_by_label("Internal quality assurer").check()
    _submit(admin, "roles-form")
    assert "The roles are changed" in admin.inner_text("main")
    assert "Internal quality assurer" in admin.inner_text("#current-roles")

    # A staff record: a start still to come is refused next to the date, then one saved.
    admin.select_option("#staff-records-qualification_id", label="600/1636/X")
    admin.select_option("#staff-records-role", "assessor")
    admin.locator("#staff-record-form").get_by_label("Qualified", exact=True).check()
    admin.fill("#staff-records-started_on", (today + dt.timedelta(days=3)).isoformat())
    admin.fill("#staff-records-held_qualification", "TAQA")
    _submit(admin, "staff-record-form")
    assert "still to come" in admin.inner_text("#staff-records-started_on-error")
    admin.fill("#staff-records-started_on", "2025-01-06")
    _submit(admin, "staff-record-form")
    assert "The staff record is saved." in admin.inner_text("main")
    assert "Qualified (TAQA)" in admin.inner_text("#current-staff-records")
    assert _wide_as_the_screen(admin)

    assessor_context = _phone(browser)
    assessor = assessor_context.new_page()
    log_in_page(assessor, base, f"asha.patel@{DOMAIN}")
    with assessor.expect_navigation():
        assessor.click("a:has-text('Profile')")
    assert "Qualified (TAQA)" in assessor.inner_text("#current-staff-records")
    assert "Internal quality assurer" in assessor.inner_text("#current-roles")
    assert assessor.locator("main form").count() == 0
    assert _wide_as_the_screen(assessor)
    assessor_context.close()

    # Deactivation from the page comes back to it and points at the reassignment list.
    with admin.expect_navigation():
        admin.click("#person button:has-text('Deactivate')")
    assert "Deactivated" in admin.inner_text("#person")
    notice = admin.inner_text("#needs-new-holders")
    assert "Their 1 open enrolment needs a new assessor or IQA" in notice
    with admin.expect_navigation():
        admin.click("#needs-new-holders a")
    assert "Asha Patel (deactivated)" in admin.inner_text("#to-reassign")
    context.close()
