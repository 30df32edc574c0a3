"""Chromium at 390 px: a learner submits evidence; the assessor sees the bell's count, opens the
inbox, follows the notification to the evidence and finds it read; then chooses the daily digest
on the preferences form (one refused submission first, its message next to the field)."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.extensions import db
from portfolio.notifications.models import NotificationPreference
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.samples import PDF

pytestmark = pytest.mark.browser

TITLE = "Handling a billing complaint"


def _seed(app) -> int:
    with app.app_context():
        seeded = seed_enrolment(db.session, "Bell College", "bell.example.org", "BELL-1",
                                dt.date(2026, 9, 1), dt.date(2027, 9, 1))
        db.session.commit()
        return seeded.users["assessor"].id


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_assessor_follows_the_bell_to_the_learners_new_evidence(live_app, browser, tmp_path):
    assessor_id = _seed(live_app)
    base = live_app.config["LIVE_URL"]
    pdf = tmp_path / "complaint.pdf"
    pdf.write_bytes(PDF)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()

    log_in_page(page, base, "learner@bell.example.org")
    assert page.inner_text("header .bell") == "Notifications"
    page.click("text=Add evidence")
    page.fill("input[name=title]", TITLE)
    page.fill("input[name=evidence_date]", "2026-10-01")
    page.select_option("select[name=method]", "product")
    page.select_option("select[name=setting]", "workplace")
    page.set_input_files("input[data-uploader]", [str(pdf)])
    page.wait_for_selector("li.upload.done", timeout=20_000)
    page.fill("[data-picker-search]", "301 1.1")
    page.locator(".picker-criterion:visible input").first.check()
    page.check("input[name=declaration]")
    page.click("button[data-submit]")
    page.wait_for_selector(f"h1:has-text('{TITLE}')")
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login**")

    log_in_page(page, base, "assessor@bell.example.org")
    assert page.text_content("header .bell .count") == "1 unread"
    page.click("header .bell")
    page.wait_for_selector("h1:has-text('Notifications')")
    entry = page.locator("ul.notifications li")
    assert entry.count() == 1
    assert "Unread" in entry.inner_text()
    assert f"Lena Learner submitted evidence “{TITLE}”" in entry.inner_text()
    assert _fits(page)
    page.screenshot(path=str(tmp_path / "inbox-390.png"), full_page=True)

    entry.locator("button").click()
    page.wait_for_selector(f"h1:has-text('{TITLE}')")
    assert page.url.endswith("/judge")
    assert page.locator("header .bell .count").count() == 0
    page.click("header .bell")
    assert "Read" in page.inner_text("ul.notifications li .state")

    # The preferences form: a choice the server does not offer is refused next to the field.
    page.click("text=How you are emailed")
    assert page.is_checked("input[name=mail][value=immediate]")
    page.evaluate("""() => {
        const digest = document.querySelector('input[name=mail][value=digest]');
        digest.value = 'hourly';
        digest.checked = true;
    }""")
    page.click("button:has-text('Save')")
    error = page.locator("fieldset.field.invalid #mail-error")
    error.wait_for()
    assert "Not a valid choice" in error.inner_text()
    with live_app.app_context():
        assert db.session.get(NotificationPreference, assessor_id) is None
        db.session.remove()

    page.check("input[name=mail][value=digest]")
    page.click("button:has-text('Save')")
    page.wait_for_selector(".flash:has-text('Your email preference is saved.')")
    assert page.is_checked("input[name=mail][value=digest]")
    assert _fits(page)
    page.screenshot(path=str(tmp_path / "preferences-390.png"), full_page=True)
    with live_app.app_context():
        assert db.session.get(NotificationPreference, assessor_id).mail == "digest"
        db.session.remove()
    context.close()
