"""A learner on a 390x844 phone works through a portfolio of 60 items: searches and filters the
list, pages to page 2 with the search kept, resubmits after feedback with the date, method and
setting carried over, picks criteria and removes a chip, is refused an empty title and an
empty claim with the message next to the field, and withdraws an item behind a confirmation."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from portfolio.accounts.models import User
from portfolio.extensions import db
from tests.helpers.assessment import add_item, criteria_of, decide
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.samples import PDF

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("PORTFOLIO_SCREENSHOTS")


def _seed(app) -> dict[str, int]:
    """60 shift logs awaiting a decision on unit 301, and a complaint log with feedback on
    301's second criterion, judged on 14 September 2026 work in a realistic environment."""
    with app.app_context():
        seeded = seed_enrolment(db.session, "Phone College", "phone.example.org", "P-1",
                                dt.date(2026, 9, 1), dt.date(2027, 9, 1))
        enrolment, session = seeded.enrolment, db.session
        first, second = criteria_of(session, enrolment, "301", 2)
        for n in range(60):
            add_item(session, enrolment, [first], title=f"Shift log {n:02d}")
        complaint = add_item(session, enrolment, [second], title="Complaint call log")
        complaint.evidence_date = dt.date(2026, 9, 14)
        complaint.setting = "realistic_work_environment"
        decide(session, complaint, session.get(User, enrolment.assessor_id), [second],
               "not_yet_met", feedback="Add the call log that shows how you closed it.")
        db.session.commit()
        return {"enrolment": enrolment.id, "complaint": complaint.id}


def _shot(page, tmp_path, name):
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_learner_searches_pages_resubmits_and_withdraws_on_a_phone(live_app, browser, tmp_path):
    ids = _seed(live_app)
    base = live_app.config["LIVE_URL"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    log_in_page(page, base, "learner@phone.example.org")
    page.goto(f"{base}/enrolments/{ids['enrolment']}/evidence")

    # Every card says where it stands; 61 items make two pages.
    assert page.locator(".evidence-card").count() == 50
    assert "61 items · page 1 of 2" in page.inner_text("#evidence-count")
    assert page.locator(".evidence-card .item-status").first.inner_text() in (
        "Awaiting a decision", "Feedback to act on")
    _shot(page, tmp_path, "list")

    # Filter by status: the complaint alone.
    page.select_option("select[name=status]", "feedback")
    page.click("button:has-text('Search')")
    card = page.locator(".evidence-card")
    assert card.count() == 1 and "Feedback to act on" in card.inner_text()
    assert "Complaint call log" in card.inner_text()

    # Search by words and unit, then page 2 keeps the search.
    page.select_option("select[name=status]", "")
    page.fill("input[name=q]", "shift log")
    page.select_option("select[name=unit]", "301")
    page.click("button:has-text('Search')")
    assert "60 items found · page 1 of 2" in page.inner_text("#evidence-count")
    page.click("text=Next page")
    page.wait_for_url("**page=2**")
    assert page.locator(".evidence-card").count() == 10
    assert page.input_value("input[name=q]") == "shift log"
    assert "q=shift+log" in page.url and "unit=301" in page.url
    _shot(page, tmp_path, "list-page-2")

    # The complaint's page: feedback readable, no digests; resubmit carries the details over.
    page.goto(f"{base}/evidence/{ids['complaint']}")
    assert "Add the call log that shows how you closed it." in page.inner_text(".feedback")
    assert "SHA-256" not in page.content()
    page.click("text=Resubmit with new evidence")
    assert page.input_value("input[name=evidence_date]") == "2026-09-14"
    assert page.input_value("select[name=method]") == "product"
    assert page.input_value("select[name=setting]") == "realistic_work_environment"
    count = page.locator("[data-picker-count]")
    assert count.get_attribute("aria-live") == "polite" and count.inner_text() == "1 chosen"
    assert page.locator("[data-picker-chips] button").count() == 1

    # Pick another criterion by code, see its chip, remove it with the chip.
    page.fill("[data-picker-search]", "301 1.1")
    visible = page.locator(".picker-criterion:visible")
    assert visible.count() == 1
    assert "(awaiting a decision)" in visible.inner_text()
    assert page.locator(".picker-outcome:visible").count() == 1
    visible.locator("input").check()
    chip = page.get_by_role("button", name="Remove 301 1.1")
    assert chip.is_visible() and count.inner_text() == "2 chosen"
    _shot(page, tmp_path, "picker-chips")
    chip.click()
    assert page.get_by_role("button", name="Remove 301 1.1").count() == 0
    assert count.inner_text() == "1 chosen"
    assert not visible.locator("input").is_checked()
    page.fill("[data-picker-search]", "")
    open_units = page.locator("details.picker-unit[open]")
    assert open_units.count() == 1 and open_units.get_attribute("data-unit") == "301"

    # Submitted with the title emptied (past the browser's own check, as an old browser would):
    # refused, the message next to the title, everything else kept.
    pdf = tmp_path / "closed-call.pdf"
    pdf.write_bytes(PDF)
    page.set_input_files("input[data-uploader]", [str(pdf)])
    page.wait_for_selector("li.upload.done", timeout=20_000)
    page.check("input[name=declaration]")
    page.fill("input[name=title]", "")
    page.eval_on_selector("#evidence-form", "form => { form.noValidate = true; }")
    page.click("button[data-submit]")
    page.wait_for_selector("#title-error")
    assert "required" in page.inner_text("#title-error")
    assert page.input_value("select[name=setting]") == "realistic_work_environment"
    assert page.input_value("input[name=evidence_date]") == "2026-09-14"
    _shot(page, tmp_path, "resubmit-refused")
    page.fill("input[name=title]", "Resubmission: Complaint call log")
    if not page.is_checked("input[name=declaration]"):
        page.check("input[name=declaration]")
    page.click("button[data-submit]")
    page.wait_for_selector("h1:has-text('Resubmission: Complaint call log')")
    assert "14 September 2026" in page.inner_text("dl.facts")
    assert "Realistic work environment" in page.inner_text("dl.facts")

    # Change claims: removing the only chip and saving is refused next to the picker.
    page.click("text=Change claims")
    page.get_by_role("button", name="Remove 301 1.2").click()
    page.click("button:has-text('Save claims')")
    page.wait_for_selector("#criteria-error")
    assert "Choose at least one" in page.inner_text("#criteria-error")
    _shot(page, tmp_path, "claims-refused")
    page.click("text=Cancel")

    # Withdraw behind a confirmation that says what happens.
    page.click("summary:has-text('Withdraw')")
    assert "Nothing is deleted" in page.inner_text("details.confirm")
    _shot(page, tmp_path, "withdraw-confirm")
    page.click("button:has-text('Yes, withdraw this evidence')")
    page.wait_for_selector("text=It is hidden, not deleted.")
    assert "61 items" in page.inner_text("#evidence-count")
    context.close()
