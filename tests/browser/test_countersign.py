"""In Chromium on a 390 px screen: a trainee assessor's decision on 600/9662/7 shows as awaiting
countersignature to them and to the learner and does not count; a qualified colleague ticks it on
the countersigning page and countersigns it; from then on it counts."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.extensions import db
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.countersigning import seed_awaiting_countersignature

pytestmark = pytest.mark.browser

DOMAIN = "countersign.example.org"


@pytest.fixture()
def phone(live_app, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    yield context, live_app.config["LIVE_URL"]
    context.close()


def _unit_1_row(page) -> str:
    return page.locator("table.progress tbody tr").first.inner_text()


def test_a_qualified_colleague_countersigns_and_only_then_it_counts(live_app, phone):
    with live_app.app_context():
        seeded = seed_enrolment(db.session, "Countersign College", DOMAIN, "CS-0",
                                dt.date.today() - dt.timedelta(days=30),
                                dt.date.today() + dt.timedelta(days=300))
        awaiting = seed_awaiting_countersignature(
            db.session, seeded.centre, seeded.users["assessor"], seeded.users["iqa"], DOMAIN)
        db.session.commit()
        trainee_email, learner_email = awaiting.trainee.email, awaiting.learner.email
    context, base = phone
    progress_url = f"{base}/enrolments/{awaiting.enrolment_id}/progress"

    trainee = context.new_page()
    log_in_page(trainee, base, trainee_email)
    trainee.goto(progress_url)
    assert "0 / " in _unit_1_row(trainee)
    assert "(1 awaiting countersignature)" in _unit_1_row(trainee)

    learner = context.browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in_page(learner, base, learner_email)
    learner.goto(f"{base}/enrolments/{awaiting.enrolment_id}/grid")
    assert learner.locator(".cell.status-awaiting_countersignature").count() >= 2  # + legend
    learner.goto(progress_url)
    assert "(1 awaiting countersignature)" in _unit_1_row(learner)

    colleague = context.browser.new_context(viewport={"width": 390, "height": 844},
                                            is_mobile=True).new_page()
    log_in_page(colleague, base, f"assessor@{DOMAIN}")
    colleague.goto(f"{base}/caseload")
    colleague.click("a:has-text('Countersigning')")
    row = colleague.locator("table.countersign tbody tr")
    assert row.count() == 1
    assert "Dee Ploma" in row.inner_text() and "Tariq Trainee" in row.inner_text()
    row.locator("input[type=checkbox]").check()
    with colleague.expect_navigation():
        colleague.click("button:has-text('Countersign the ticked records')")
    assert "Countersigned: it counts from now on." in colleague.inner_text("body")
    assert "Nothing is waiting for your countersignature." in colleague.inner_text("main")

    trainee.goto(progress_url)
    assert "1 / " in _unit_1_row(trainee)
    assert "awaiting countersignature" not in _unit_1_row(trainee)
    learner.goto(progress_url)
    assert "1 / " in _unit_1_row(learner)
    learner.context.close()
    colleague.context.close()
