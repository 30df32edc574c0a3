"""In Chromium on a 390 px screen: a sample recorded by an IQA working towards their qualification
on 600/9662/7 waits on a qualified IQA's home; they open the countersigning page, tick it and
countersign it, and it no longer waits."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.accounts import services as accounts
from portfolio.extensions import db
from portfolio.quality.sampling import record_sample
from tests.helpers.assessment import unit_node
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.countersigning import record_staff
from tests.helpers.factories import PASSWORD
from tests.helpers.sampling import answers, judged_unit

pytestmark = pytest.mark.browser

DOMAIN = "samples.example.org"


def test_a_qualified_iqa_countersigns_a_trainees_sample(live_app, browser):
    today = dt.date.today()
    with live_app.app_context():
        seeded = seed_enrolment(db.session, "Sample College", DOMAIN, "SC-1",
                                today - dt.timedelta(days=30), today + dt.timedelta(days=300),
                                qualification_number="600/9662/7")
        trainee = accounts.create_user(db.session, seeded.centre, accounts.NewUser(
            f"trainee-iqa@{DOMAIN}", "Tess Trainee", PASSWORD, ("iqa",)), actor=None)
        record_staff(db.session, trainee, "working_towards", today - dt.timedelta(days=100),
                     role="iqa")
        record_staff(db.session, seeded.users["iqa"], "qualified", dt.date(2020, 1, 1),
                     role="iqa")
        enrolment = seeded.enrolment
        item, decisions = judged_unit(db.session, enrolment, seeded.users["assessor"], "1")
        record_sample(db.session, trainee, enrolment, unit_node(db.session, enrolment, "1").id,
                      answers([d.id for d in decisions], [item.id]))
        db.session.commit()

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    base = live_app.config["LIVE_URL"]
    log_in_page(page, base, f"iqa@{DOMAIN}")
    page.goto(f"{base}/quality")
    waiting = page.locator("section", has=page.locator("h2:text-is('Countersignatures waiting')"))
    assert "1 sample by IQAs working towards their qualification awaits" in waiting.inner_text()
    waiting.locator("a:has-text('countersign samples')").click()

    row = page.locator("table.countersign-samples tbody tr")
    assert row.count() == 1 and "Tess Trainee" in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row.locator("input[type=checkbox]").check()
    with page.expect_navigation():
        page.click("button:has-text('Countersign the chosen samples')")
    assert "Sample countersigned." in page.inner_text("body")
    assert "No sample awaits your countersignature." in page.inner_text("main")
    context.close()
