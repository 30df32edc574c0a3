"""An assessor judges a learner's evidence, gives feedback on the criterion not yet met, sees the
learner resubmit, judges the resubmission met and signs the unit off; the learner's progress
page then shows the unit achieved and its credits counted.

Unit 204 of 600/1636/X is the smallest (8 criteria, 3 credits); the learner's first item, made
through the services, claims all eight."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from portfolio.catalogue.models import Criterion, Unit
from portfolio.evidence import services as evidence
from portfolio.evidence import uploads
from portfolio.extensions import db, object_store
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.samples import PDF

pytestmark = pytest.mark.browser

LEARNER, ASSESSOR = "learner@flow.example.org", "assessor@flow.example.org"
UNIT = "204"
FEEDBACK = "Say how you kept the caller's data secure while you used the CRM system."


def _seed(app) -> int:
    """People, an enrolment on 600/1636/X and one item claiming every criterion of unit 204;
    returns the enrolment's id."""
    with app.app_context():
        seeded = seed_enrolment(db.session, "Flow College", "flow.example.org", "FLOW-1",
                                dt.date.today() - dt.timedelta(days=60),
                                dt.date.today() + dt.timedelta(days=300))
        enrolment, learner = seeded.enrolment, seeded.users["learner"]
        assert (learner.email, seeded.users["assessor"].email) == (LEARNER, ASSESSOR)
        criteria = list(db.session.scalars(
            sa.select(Criterion.id).join(Unit, Unit.id == Criterion.unit_id)
            .where(Unit.version_id == enrolment.version_id, Unit.number == UNIT)))
        assert len(criteria) == 8
        settings = app.config["PORTFOLIO_SETTINGS"]
        upload = uploads.receive_upload(
            db.session, object_store(), enrolment.id, learner.id, io.BytesIO(PDF),
            "systems-account.pdf",
            uploads.UploadLimits(settings.upload_max_bytes, settings.image_max_pixels))
        evidence.create_item(
            db.session, enrolment, learner, evidence.ItemDetails(
                title="Using the contact centre systems", description="My reflective account",
                evidence_date=dt.date.today() - dt.timedelta(days=10),
                method="reflective_account", setting="workplace"),
            [upload.id], criteria, declared=True)
        db.session.commit()
        return enrolment.id


def _log_out(page):
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login**")


def _credits(page) -> str:
    return page.inner_text("section.summary p.big strong")


def test_assessor_judges_feedback_resubmission_and_sign_off(live_app, browser, tmp_path):
    enrolment_id = _seed(live_app)
    base = live_app.config["LIVE_URL"]
    resubmitted = tmp_path / "systems-account-v2.pdf"
    resubmitted.write_bytes(PDF.replace(b"%%EOF", b"% data protection added\n%%EOF"))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # The learner starts with nothing achieved.
    log_in_page(page, base, LEARNER)
    page.goto(f"{base}/enrolments/{enrolment_id}/progress")
    assert _credits(page) == "0"
    _log_out(page)

    # The assessor finds the item awaiting a decision and judges it: 1.1 not yet met, the rest met.
    log_in_page(page, base, ASSESSOR)
    page.click("header nav >> text=Caseload")
    row = page.locator("table.caseload tbody tr", has_text="Lena Learner")
    assert "1 item(s)" in row.inner_text()
    row.locator("a", has_text="1 item(s)").click()
    page.wait_for_selector("h1:has-text('Using the contact centre systems')")
    judgements = page.locator("fieldset.judgement")
    assert judgements.count() == 8
    judgements.nth(0).locator("input[value=not_yet_met]").check()
    judgements.nth(0).locator("textarea").fill(FEEDBACK)
    for n in range(1, 8):
        judgements.nth(n).locator("input[value=met]").check()
    page.click("button:has-text('Record decisions')")
    page.wait_for_selector(".flash:has-text('Decisions recorded.')")
    assert page.locator("fieldset.judgement.status-met").count() == 7
    assert page.locator("fieldset.judgement.status-not_yet_met").count() == 1
    page.click("nav.tabs >> text=Progress")
    assert "7 / 8" in page.locator("tr", has=page.locator(f"a:text-is('{UNIT}')")).inner_text()
    assert page.locator(f"button:has-text('Sign off unit {UNIT}')").count() == 0
    _log_out(page)

    # The learner reads the feedback and resubmits with a new file for the criterion not met.
    log_in_page(page, base, LEARNER)
    page.click("text=Using the contact centre systems")
    decision = page.locator(".claims-list .decision.outcome-not_yet_met")
    assert decision.count() == 1
    assert FEEDBACK in decision.inner_text()
    page.click("text=Resubmit with new evidence")
    page.wait_for_selector(".flash:has-text('Resubmitting after feedback')")
    assert page.input_value("input[name=title]") == "Resubmission: Using the contact centre systems"
    assert page.locator("input[name=criteria]:checked").count() == 1
    page.fill("input[name=evidence_date]", dt.date.today().isoformat())
    page.select_option("select[name=method]", "reflective_account")
    page.select_option("select[name=setting]", "workplace")
    page.set_input_files("input[data-uploader]", [str(resubmitted)])
    page.wait_for_selector("li.upload.done", timeout=20_000)
    page.check("input[name=declaration]")
    page.click("button[data-submit]")
    page.wait_for_selector("h1:has-text('Resubmission: Using the contact centre systems')")
    assert page.locator(".claims-list li").count() == 1
    assert "Awaiting a decision" in page.inner_text(".claims-list")
    _log_out(page)

    # The assessor sees the resubmission awaiting, judges it met, and signs the unit off.
    log_in_page(page, base, ASSESSOR)
    page.click("header nav >> text=Caseload")
    row = page.locator("table.caseload tbody tr", has_text="Lena Learner")
    row.locator("a", has_text="1 item(s)").click()
    page.wait_for_selector("h1:has-text('Resubmission: Using the contact centre systems')")
    assert page.locator("fieldset.judgement").count() == 1
    page.locator("fieldset.judgement input[value=met]").check()
    page.click("button:has-text('Record decisions')")
    page.wait_for_selector(".flash:has-text('Decision recorded.')")
    page.click("header nav >> text=Caseload")
    row = page.locator("table.caseload tbody tr", has_text="Lena Learner")
    assert "none" in row.locator("td[data-label='Awaiting decision']").inner_text()
    assert row.locator("td[data-label='Units ready']").inner_text() == "1"  # one unit ready for sign-off
    row.locator("a", has_text="Lena Learner").click()
    page.click(f"summary:has-text('Sign off unit {UNIT}')")
    page.click(f"button:has-text('Yes, sign off unit {UNIT}')")
    page.wait_for_selector(".flash:has-text('Unit signed off.')")
    _log_out(page)

    # The learner's progress page shows the unit achieved and its credits counted.
    log_in_page(page, base, LEARNER)
    page.click("nav.tabs >> text=Progress")
    unit_row = page.locator("tr.unit-achieved", has=page.locator(f"a:text-is('{UNIT}')"))
    assert unit_row.count() == 1
    assert "Assessed" in unit_row.inner_text() and "Asha Assessor" in unit_row.inner_text()
    assert "8 / 8" in unit_row.inner_text()
    assert _credits(page) == "3"
    assert "8 of" in page.inner_text("section.summary p.big")
    page.screenshot(path=str(tmp_path / "progress.png"), full_page=True)
    context.close()
