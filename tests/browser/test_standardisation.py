"""A blind standardisation round in a real browser: the IQA plans an activity with two
assessors, adds a learner's item and an uploaded exemplar, each assessor judges without seeing
the other's judgement, the lead closes the round and the agreement shows who said what and where
they differed; the lead records the action agreed and the minutes."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from portfolio.accounts import services as accounts
from portfolio.evidence import services as evidence
from portfolio.evidence import uploads
from portfolio.extensions import db, object_store
from tests.helpers.assessment import criteria_of
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.factories import PASSWORD
from tests.helpers.samples import PDF

pytestmark = pytest.mark.browser

IQA, ASHA, BEN = ("iqa@std.example.org", "assessor@std.example.org",
                  "ben@std.example.org")
ASHA_SAYS = "The call log shows the complaint closed within the day."
BEN_SAYS = "Nothing shows how the caller was kept informed."


def _seed(app) -> None:
    """A centre with an IQA, two assessors and a learner whose item claims two criteria of
    unit 301."""
    with app.app_context():
        seeded = seed_enrolment(db.session, "Standards College", "std.example.org", "STD-1",
                                dt.date.today() - dt.timedelta(days=60),
                                dt.date.today() + dt.timedelta(days=300))
        accounts.create_user(db.session, seeded.centre, accounts.NewUser(
            BEN, "Ben Bassey", PASSWORD, ("assessor",)), actor=None)
        enrolment, learner = seeded.enrolment, seeded.users["learner"]
        settings = app.config["PORTFOLIO_SETTINGS"]
        upload = uploads.receive_upload(
            db.session, object_store(), enrolment.id, learner.id, io.BytesIO(PDF),
            "complaint-log.pdf",
            uploads.UploadLimits(settings.upload_max_bytes, settings.image_max_pixels))
        evidence.create_item(
            db.session, enrolment, learner, evidence.ItemDetails(
                title="Billing complaint call", description="My call log",
                evidence_date=dt.date.today() - dt.timedelta(days=5),
                method="product", setting="workplace"),
            [upload.id], criteria_of(db.session, enrolment, "301", 2), declared=True)
        db.session.commit()


def _judge_everything(page, outcome: str, rationale: str) -> None:
    """Judge each piece of evidence the activity page offers, every criterion alike."""
    while page.locator("a.button:has-text('Judge')").count():
        page.locator("a.button:has-text('Judge')").first.click()
        for radio in page.locator(f"input[type=radio][value={outcome}]").all():
            radio.check()
        for box in page.locator("textarea").all():
            box.fill(rationale)
        page.click("button:has-text('Record my judgement')")
        page.wait_for_selector(".flash:has-text('Your judgement is recorded')")


def test_a_blind_round_from_planning_to_agreement(live_app, browser, tmp_path):
    _seed(live_app)
    base = live_app.config["LIVE_URL"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    lead = context.new_page()
    log_in_page(lead, base, IQA)

    lead.click("nav >> text=Standardisation")
    lead.click("text=Plan a standardisation")
    lead.fill("input[name=title]", "Complaints in unit 301")
    lead.fill("input[name=held_on]", (dt.date.today() + dt.timedelta(days=7)).isoformat())
    lead.select_option("select[name=qualification]", label="600/1636/X Pearson BTEC Level 3 "
                       "Certificate in Contact Centre Operations")
    lead.get_by_label("Asha Assessor (Assessor)").check()
    lead.get_by_label("Ben Bassey (Assessor)").check()
    lead.click("button:has-text('Plan it')")
    lead.wait_for_selector("h1:has-text('Complaints in unit 301')")
    activity_url = lead.url

    lead.click("a:has-text('Add evidence')")
    lead.fill("input[name=q]", "Lena")
    lead.click("button:has-text('Search')")
    lead.click("button[aria-label^='Add “Billing complaint call”']")
    lead.wait_for_selector(".flash:has-text('Added “Billing complaint call”')")

    lead.click("a:has-text('Add evidence')")
    exemplar = tmp_path / "model-answer.pdf"
    exemplar.write_bytes(PDF)
    lead.fill("input[name=title]", "A model complaint log")
    lead.set_input_files("input[name=file]", [str(exemplar)])
    lead.click("details[data-unit='301'] summary")
    lead.locator("details[data-unit='301'] input[name=criteria]").first.check()
    lead.click("button:has-text('Add the exemplar')")
    lead.wait_for_selector(".flash:has-text('Added the exemplar')")
    assert lead.locator("ul.standardisation-evidence li").count() == 2

    asha = browser.new_context().new_page()
    log_in_page(asha, base, ASHA)
    asha.goto(activity_url)
    _judge_everything(asha, "met", ASHA_SAYS)
    assert ASHA_SAYS not in lead.content()

    ben = browser.new_context().new_page()
    log_in_page(ben, base, BEN)
    ben.goto(activity_url)
    assert ASHA_SAYS not in ben.content()
    ben.click("a:has-text('Billing complaint call')")
    assert ASHA_SAYS not in ben.content()
    with ben.expect_download() as download:  # the learner's file, for this participant
        ben.click("a:has-text('complaint-log.pdf')")
    assert download.value.suggested_filename == "complaint-log.pdf"
    ben.goto(activity_url)
    _judge_everything(ben, "not_yet_met", BEN_SAYS)
    assert ASHA_SAYS not in ben.content()
    asha.goto(activity_url)
    assert BEN_SAYS not in asha.content()
    assert "See the agreement" not in asha.content()

    # The lead has not judged: the round is still blind until they close it.
    lead.goto(activity_url)
    assert "3 of 3 criteria" in lead.content() and ASHA_SAYS not in lead.content()
    lead.click("summary:has-text('Close the round')")
    lead.click("button:has-text('Yes, close the round')")
    lead.wait_for_selector("h1:has-text('Agreement')")
    page = lead.content()
    assert ASHA_SAYS in page and BEN_SAYS in page
    assert lead.locator("section.agreement.differed").count() == 3
    assert "50% agreed" in page and "Unanimous on 0 of 3 criteria" in page

    lead.fill("textarea[name=text]", "Ask for the call log with every complaint.")
    lead.select_option("select[name=owner]", label="Ben Bassey")
    lead.fill("input[name=due_on]", (dt.date.today() + dt.timedelta(days=30)).isoformat())
    lead.click("button:has-text('Record the action')")
    lead.wait_for_selector(".flash:has-text('Action recorded')")
    assert "Ask for the call log with every complaint." in lead.content()
    lead.goto(activity_url)
    lead.fill("textarea[name=text]", "We differed on what shows the caller was kept informed.")
    lead.click("button:has-text('Record minutes')")
    lead.wait_for_selector(".flash:has-text('Minutes recorded')")
    assert "We differed on what shows" in lead.content()

    asha.goto(activity_url)
    asha.click("a:has-text('See the agreement')")
    assert BEN_SAYS in asha.content()
    context.close()
