"""What the server refuses is shown next to the field, in Chromium on a phone-sized screen.

Each test fills a real form, turns the browser's own checks off where they would stop the
submission (``form.noValidate = true``: what matters here is what the server says), submits it,
and then finds the message inside the field's error element, named by the input's
``aria-describedby`` and in the same ``.field`` as the input, the input marked
``aria-invalid="true"``, and what was typed still there. A screenshot of each page is kept in the
test's ``tmp_path``."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import User
from portfolio.catalogue.models import Unit
from portfolio.extensions import db
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.mail import with_mail

pytestmark = pytest.mark.browser

DOMAIN = "errors.example.org"
ADMIN, LEARNER, ASSESSOR = (f"admin@{DOMAIN}", f"learner@{DOMAIN}", f"assessor@{DOMAIN}")
REQUIRED = "This field is required."


def _seed(app) -> dict:
    """A centre with an admin, a learner enrolled on 600/1636/X, their assessor and IQA; the
    enrolment's id and the id of its unit 204."""
    with app.app_context():
        seeded = seed_enrolment(
            db.session, "Errors College", DOMAIN, "ERR-1",
            dt.date.today() - dt.timedelta(days=30), dt.date.today() + dt.timedelta(days=300),
            roles=("centre_admin", "learner", "assessor", "iqa"))
        unit_id = db.session.scalar(sa.select(Unit.id).where(
            Unit.version_id == seeded.enrolment.version_id, Unit.number == "204"))
        db.session.commit()
        return {"enrolment_id": seeded.enrolment.id, "unit_id": unit_id}


@pytest.fixture()
def phone(live_app, browser):
    """A page in a 390 px wide phone context, and the live server's address."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    yield page, live_app.config["LIVE_URL"]
    context.close()


def _without_browser_checks(page, form_selector="main form"):
    page.locator(form_selector).evaluate("form => { form.noValidate = true; }")


def _submit(page, button):
    with page.expect_navigation():
        page.click(button)


def _assert_error(page, control_selector, *messages):
    """The messages are in the error element the control names, in the control's own field,
    and the control says it is invalid."""
    control = page.locator(control_selector)
    assert control.get_attribute("aria-invalid") == "true"
    error_id = f"{control.get_attribute('id')}-error"
    assert error_id in (control.get_attribute("aria-describedby") or "").split()
    error = page.locator(".field", has=control).locator(f"#{error_id}.field-errors")
    assert error.count() == 1, f"no #{error_id} in the field of {control_selector}"
    assert error.is_visible()
    text = error.inner_text()
    for message in messages:
        assert message in text, f"{message!r} not in {text!r}"


def _assert_no_error(page, control_selector):
    control = page.locator(control_selector)
    assert control.get_attribute("aria-invalid") is None
    assert page.locator(".field", has=control).locator(".field-errors").count() == 0


def test_accounts_add_user_shows_the_name_and_roles_refused(live_app, phone, tmp_path):
    _seed(live_app)
    with_mail(live_app)  # the outbox only: no worker sends it here
    page, base = phone
    log_in_page(page, base, ADMIN)
    page.goto(f"{base}/admin/users")
    page.fill("input[name=email]", "nina@errors.example.org")
    page.check("input[name=account_type][value=staff]")  # and no name, no role
    _without_browser_checks(page, "#add-user-form")  # the people's rows have button forms
    _submit(page, "button:has-text('Add user')")

    _assert_error(page, "input[name=name]", REQUIRED)
    # Staff with no role: the group says so, and each of its checkboxes is marked.
    roles = page.locator("fieldset.field", has=page.locator("legend", has_text="Staff roles"))
    assert "staff_roles-error" in roles.get_attribute("aria-describedby").split()
    assert "Choose at least one role" in roles.locator(
        "#staff_roles-error.field-errors").inner_text()
    assert page.locator("input[name=staff_roles][aria-invalid=true]").count() == 3
    # What was typed and chosen is kept.
    assert page.input_value("input[name=email]") == "nina@errors.example.org"
    assert page.is_checked("input[name=account_type][value=staff]")
    _assert_no_error(page, "input[name=email]")
    assert "nina@errors.example.org" not in page.inner_text("table")
    page.screenshot(path=str(tmp_path / "users.png"), full_page=True)

    # Put right, the same form creates the user (one role is enough for the browser too).
    page.fill("input[name=name]", "Nina Newcomer")
    page.check("input[name=staff_roles][value=assessor]")
    _submit(page, "button:has-text('Add user')")
    page.wait_for_selector(".flash:has-text('Added Nina Newcomer')")
    assert page.locator(".field-errors").count() == 0
    with live_app.app_context():
        assert db.session.scalar(sa.select(User.id).where(
            User.email == "nina@errors.example.org")) is not None


def test_catalogue_import_shows_the_problems_with_the_file(live_app, phone, tmp_path):
    from tests.helpers.catalogue_files import MINIMAL, as_bytes

    _seed(live_app)
    page, base = phone
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(as_bytes({**MINIMAL, "credit_value": "six"}))
    log_in_page(page, base, ADMIN)
    page.goto(f"{base}/admin/catalogue")

    # No file at all.
    _without_browser_checks(page)
    _submit(page, "button:has-text('Import')")
    _assert_error(page, "input[name=file]", REQUIRED)

    # A file with a problem: nothing imported, the problem listed under the file input.
    page.set_input_files("input[name=file]", str(bad))
    _submit(page, "button:has-text('Import')")
    _assert_error(page, "input[name=file]", "Nothing was imported: 1 problem(s)",
                  "credit_value: expected a positive integer")
    page.screenshot(path=str(tmp_path / "catalogue.png"), full_page=True)


def test_new_evidence_shows_the_missing_title_and_date(live_app, phone, tmp_path):
    ids = _seed(live_app)
    page, base = phone
    log_in_page(page, base, LEARNER)
    page.goto(f"{base}/enrolments/{ids['enrolment_id']}/evidence/new")
    page.fill("textarea[name=description]", "How I calmed an angry caller.")
    page.select_option("select[name=method]", "observation")
    page.select_option("select[name=setting]", "workplace")
    page.click("summary:has-text('Witness details')")
    page.fill("input[name=witness_name]", "Wendy Witness")
    page.locator("details.picker-unit").first.locator("summary").click()
    page.locator("input[name=criteria]").first.check()
    chosen = page.locator("input[name=criteria]").first.get_attribute("value")
    page.check("input[name=declaration]")
    _without_browser_checks(page, "#evidence-form")
    _submit(page, "button[data-submit]")

    _assert_error(page, "input[name=title]", REQUIRED)
    _assert_error(page, "input[name=evidence_date]", REQUIRED)
    _assert_no_error(page, "select[name=method]")
    # A long form on a phone: a summary at the top links to each field in trouble.
    summary = page.locator("#form-errors")
    assert "Title: " + REQUIRED in summary.locator("a[href='#title']").inner_text()
    assert "Date of the evidence: " + REQUIRED in summary.locator(
        "a[href='#evidence_date']").inner_text()
    assert page.input_value("textarea[name=description]") == "How I calmed an angry caller."
    assert page.input_value("select[name=method]") == "observation"
    assert page.input_value("select[name=setting]") == "workplace"
    assert page.input_value("input[name=witness_name]") == "Wendy Witness"
    assert page.locator(f"input[name=criteria][value='{chosen}']").is_checked()
    assert page.locator("input[name=declaration]").is_checked()
    page.screenshot(path=str(tmp_path / "evidence.png"), full_page=True)

    # The picker is a custom widget: a refused "criteria" value is reported inside it.
    page.fill("input[name=title]", "Calming a caller")
    page.fill("input[name=evidence_date]", dt.date.today().isoformat())
    page.locator("input[name=criteria]").nth(1).evaluate(
        "box => { box.value = 'not-a-number'; box.checked = true; }")
    _without_browser_checks(page, "#evidence-form")
    _submit(page, "button[data-submit]")
    picker = page.locator("fieldset[data-picker]")
    assert "criteria-error" in picker.get_attribute("aria-describedby").split()
    picker_error = picker.locator("#criteria-error.field-errors")
    assert picker_error.count() == 1
    assert "Not a valid choice." in picker_error.inner_text()
    assert page.locator("#form-errors a[href='#criteria']").count() == 1
    _assert_no_error(page, "input[name=title]")
    assert page.input_value("input[name=title]") == "Calming a caller"
    page.screenshot(path=str(tmp_path / "evidence-criteria.png"), full_page=True)


def test_prior_achievement_shows_the_missing_details(live_app, phone, tmp_path):
    ids = _seed(live_app)
    page, base = phone
    log_in_page(page, base, ASSESSOR)
    page.goto(f"{base}/enrolments/{ids['enrolment_id']}/units/{ids['unit_id']}/prior")
    page.select_option("select[name=method]", "credit_transfer")
    page.fill("input[name=item_id]", "12")
    _without_browser_checks(page)
    _submit(page, "button:has-text('Record unit as achieved')")

    _assert_error(page, "textarea[name=details]", REQUIRED)
    assert page.input_value("select[name=method]") == "credit_transfer"
    assert page.input_value("input[name=item_id]") == "12"
    page.screenshot(path=str(tmp_path / "prior.png"), full_page=True)
