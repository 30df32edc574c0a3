"""The forms of accounts and sessions, submitted in Chromium on a 390 px screen: a learner
changes their password (a refused change first, kept on the page with its message), and an
admin deactivates them, which ends the learner's open session at once."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.extensions import db
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.factories import PASSWORD

pytestmark = pytest.mark.browser

DOMAIN = "accounts-forms.example.org"
NEW_PASSWORD = "a brand new passphrase"


def _phone(browser):
    return browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)


def _wide_as_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_learner_changes_their_password_and_an_admin_deactivates_them(live_app, browser):
    with live_app.app_context():
        seed_enrolment(db.session, "Accounts College", DOMAIN, "AC-1",
                       dt.date.today() - dt.timedelta(days=30),
                       dt.date.today() + dt.timedelta(days=300),
                       roles=("centre_admin", "learner", "assessor", "iqa"))
        db.session.commit()
    base = live_app.config["LIVE_URL"]
    learner_context, admin_context = _phone(browser), _phone(browser)
    learner, admin = learner_context.new_page(), admin_context.new_page()

    log_in_page(learner, base, f"learner@{DOMAIN}")
    learner.goto(f"{base}/account/password")
    assert _wide_as_the_screen(learner)
    learner.fill("#current", "not my password")
    learner.fill("#new", NEW_PASSWORD)
    learner.fill("#confirm", NEW_PASSWORD)
    with learner.expect_navigation():
        learner.click("button:has-text('Change password')")
    assert "Your current password is not the one you typed." in learner.inner_text("main")

    learner.fill("#current", PASSWORD)
    learner.fill("#new", NEW_PASSWORD)
    learner.fill("#confirm", NEW_PASSWORD)
    with learner.expect_navigation():
        learner.click("button:has-text('Change password')")
    assert "Your password is changed." in learner.inner_text("body")

    log_in_page(admin, base, f"admin@{DOMAIN}")
    admin.goto(f"{base}/admin/users")
    assert _wide_as_the_screen(admin)
    row = admin.locator("tr", has_text=f"learner@{DOMAIN}")
    with admin.expect_navigation():
        row.locator("button:has-text('Deactivate')").click()
    assert "Deactivated" in admin.locator("tr", has_text=f"learner@{DOMAIN}").inner_text()

    learner.goto(f"{base}/catalogue/")
    assert "/login" in learner.url  # the open session ended with the deactivation
    learner_context.close()
    admin_context.close()
