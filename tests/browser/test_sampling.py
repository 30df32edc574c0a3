"""An IQA samples a unit in a real browser: lands on the quality home, opens a sample of unit 204
from the learner's progress page, is refused once with everything typed kept, records it with an
action required; the assessor cannot sign the unit off while the action is open, responds to
it; the IQA closes it; the assessor then signs the unit off. Last, the IQA opens unit 301, where
one decision is their own: it is shown without a box, and sent anyway it is refused by name."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.assessment.units import declare_unit
from portfolio.extensions import db
from tests.helpers.assessment import add_item, criteria_of, decide, unit_node
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.sampling import ACTION, FEEDBACK, judged_unit

pytestmark = pytest.mark.browser

IQA, ASSESSOR = "iqa@sample.example.org", "assessor@sample.example.org"
RESPONSE = "Witness statement added and judged again."
CHECKS = ("valid", "authentic", "current", "sufficient", "reliable")


def _seed(app) -> dict:
    """Unit 204 of the learner judged met throughout and declared; on unit 301 one criterion
    judged by the assessor and one by the IQA (covering as an assessor once)."""
    with app.app_context():
        seeded = seed_enrolment(db.session, "Sample College", "sample.example.org", "SAMPLE-1",
                                dt.date.today() - dt.timedelta(days=60),
                                dt.date.today() + dt.timedelta(days=300))
        enrolment, users = seeded.enrolment, seeded.users
        _, decisions = judged_unit(db.session, enrolment, users["assessor"])
        declare_unit(db.session, enrolment, decisions[0].unit_id, users["learner"])
        criteria_301 = criteria_of(db.session, enrolment, "301", 2)
        item_301 = add_item(db.session, enrolment, criteria_301, title="Billing complaint")
        decide(db.session, item_301, users["assessor"], criteria_301[:1])
        [own] = decide(db.session, item_301, users["iqa"], criteria_301[1:])
        db.session.commit()
        return {"enrolment": enrolment.id, "own": own.id,
                "unit_301": unit_node(db.session, enrolment, "301").id}


def _log_out(page):
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login**")


def _answer_checks(page):
    for check in CHECKS:
        page.check(f"#{check}-1" if check == "sufficient" else f"#{check}-0")
    page.fill("#sufficient_note", "One observation only for 1.2.")


def test_iqa_samples_assessor_responds_iqa_closes_and_unit_signs_off(live_app, browser):
    seeded = _seed(live_app)
    base = live_app.config["LIVE_URL"]
    progress = f"{base}/enrolments/{seeded['enrolment']}/progress"
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

    # The IQA lands on their home, goes to the learner's progress and opens a sample of 204.
    log_in_page(page, base, IQA)
    assert page.url == f"{base}/quality"
    page.click("section:has(h2:text('Learners you quality-assure')) a:has-text('Lena Learner')")
    page.click("a:text-is('Sample unit 204')")
    page.wait_for_selector("h1:has-text('Sample unit 204')")
    assert "Stage: Interim" in page.inner_text("p.stage")
    assert page.locator("input[name=decisions]:checked").count() == 8
    assert page.locator("input[name=items]:checked").count() == 1
    _answer_checks(page)
    page.check("#outcome-2")  # action required
    page.fill("#actions-0-text", ACTION)
    due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    page.fill("#actions-0-due_on", due)
    page.click("button:has-text('Record the sample')")
    # Refused for want of feedback: the message is at the field, the rest is as typed.
    page.wait_for_selector("#feedback-error")
    assert "Give the assessor feedback" in page.inner_text("#feedback-error")
    assert page.input_value("#actions-0-text") == ACTION
    assert page.input_value("#actions-0-due_on") == due
    assert page.is_checked("#sufficient-1") and page.is_checked("#outcome-2")
    assert page.locator("input[name=decisions]:checked").count() == 8
    page.fill("#feedback", FEEDBACK)
    page.click("button:has-text('Record the sample')")
    page.wait_for_selector(".flash:has-text('Sample recorded.')")
    assert "Action required" in page.inner_text("p.big")
    assert "Open: " + ACTION in page.inner_text("article.sample-action")
    _log_out(page)

    # The assessor cannot sign the unit off while the action is open, and responds to it.
    log_in_page(page, base, ASSESSOR)
    page.goto(progress)
    row = page.locator("tr", has=page.locator("a:text-is('204')"))
    assert f"Open IQA action “{ACTION}” for Asha Assessor" in row.inner_text()
    page.click("summary:has-text('Sign off unit 204')")
    page.click("button:has-text('Yes, sign off unit 204')")
    page.wait_for_selector(".flash.error")
    assert "Unit 204 cannot be signed off while it has an open IQA action" in page.inner_text(
        ".flash.error")
    page.click("header nav >> text=Quality")
    page.click(f"section:has(h2:text('Actions for you to answer')) a:has-text('{ACTION[:20]}')")
    page.fill("article.sample-action textarea", RESPONSE)
    page.click("button:has-text('Send response')")
    page.wait_for_selector(".flash:has-text('Response recorded.')")
    assert RESPONSE in page.inner_text("ol.action-entries")
    _log_out(page)

    # The IQA reads the response and closes the action.
    log_in_page(page, base, IQA)
    page.click(f"section:has(h2:text('Open actions you raised')) a:has-text('{ACTION[:20]}')")
    assert RESPONSE in page.inner_text("ol.action-entries")
    page.click("button:has-text('Close the action')")
    page.wait_for_selector(".flash:has-text('Action closed.')")
    assert "Closed: " + ACTION in page.inner_text("article.sample-action")
    _log_out(page)

    # The unit can now be signed off.
    log_in_page(page, base, ASSESSOR)
    page.goto(progress)
    page.click("summary:has-text('Sign off unit 204')")
    page.click("button:has-text('Yes, sign off unit 204')")
    page.wait_for_selector(".flash:has-text('Unit signed off.')")
    _log_out(page)

    # Unit 301 holds a decision of the IQA's own: shown with the reason, no box; sent anyway
    # (as a crafted form would), the service refuses it by name.
    log_in_page(page, base, IQA)
    page.goto(f"{base}/quality/enrolments/{seeded['enrolment']}/units/{seeded['unit_301']}/sample")
    assert page.locator("input[name=decisions]").count() == 1
    refused_row = page.locator("p.refused-decision")
    assert "your own decision" in refused_row.inner_text()
    page.evaluate("""own => {
        const box = document.createElement('input');
        Object.assign(box, {type: 'checkbox', name: 'decisions', value: own, checked: true});
        document.querySelector('form.sample-form').appendChild(box);
    }""", str(seeded["own"]))
    _answer_checks(page)
    page.check("#outcome-0")  # agree
    page.click("button:has-text('Record the sample')")
    page.wait_for_selector("#decisions-error")
    assert "You may not sample 301 1.2, your own decision" in page.inner_text("#decisions-error")
