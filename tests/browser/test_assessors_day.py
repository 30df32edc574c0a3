"""The assessor's day in Chromium. On a laptop: logging in lands on the caseload, whose first row
says why; the judge page shows the PDF inline beside the criteria; a batch of four with one
"not yet met" lacking feedback is refused with every choice kept and only that field marked;
corrected, it is recorded with feedback on the whole item; "Next awaiting item" goes to the same
learner's next item, then says nothing is left. On a phone: the judge page stacks, the learner
declares a unit through its confirmation (reading the wording), and the assessor signs it off
through its own."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from portfolio.catalogue.models import Criterion, Unit
from portfolio.evidence import services as evidence
from portfolio.evidence import uploads
from portfolio.extensions import db, object_store
from tests.helpers.assessment import add_item, meet_unit
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.samples import PDF

pytestmark = pytest.mark.browser

DOMAIN = "day.example.org"
LEARNER, ASSESSOR = f"learner@{DOMAIN}", f"assessor@{DOMAIN}"
QUALIFICATION = "600/1257/2"  # asks the learner to declare each unit
FEEDBACK = "Say which part of the policy you followed."


def _criteria(enrolment, unit: str) -> list[int]:
    return list(db.session.scalars(
        sa.select(Criterion.id).join(Unit, Unit.id == Criterion.unit_id)
        .where(Unit.version_id == enrolment.version_id, Unit.number == unit)
        .order_by(Criterion.id)))


def _seed(app, unit_01_met: bool = False) -> dict:
    """The enrolment with an item holding a real PDF that claims four criteria of unit 02, and
    a later item claiming one criterion of unit 03; with ``unit_01_met``, unit 01 judged met."""
    with app.app_context():
        seeded = seed_enrolment(db.session, "Day College", DOMAIN, "DAY-1",
                                dt.date.today() - dt.timedelta(days=60),
                                dt.date.today() + dt.timedelta(days=300),
                                qualification_number=QUALIFICATION)
        enrolment, learner = seeded.enrolment, seeded.users["learner"]
        settings = app.config["PORTFOLIO_SETTINGS"]
        upload = uploads.receive_upload(
            db.session, object_store(), enrolment.id, learner.id, io.BytesIO(PDF),
            "observation.pdf",
            uploads.UploadLimits(settings.upload_max_bytes, settings.image_max_pixels))
        first = evidence.create_item(
            db.session, enrolment, learner, evidence.ItemDetails(
                title="Observation record", description="Observed at work",
                evidence_date=dt.date.today() - dt.timedelta(days=5),
                method="observation", setting="workplace"),
            [upload.id], _criteria(enrolment, "02")[:4], declared=True)
        db.session.flush()
        second = add_item(db.session, enrolment, _criteria(enrolment, "03")[:1],
                          title="Witness statement")
        if unit_01_met:
            meet_unit(db.session, enrolment, "01", seeded.users["assessor"])
        db.session.commit()
        return {"enrolment": enrolment.id, "first": first.id, "second": second.id,
                "criteria": _criteria(enrolment, "02")[:4]}


def _fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide on a {width} px screen"


def _type(page, selector: str, text: str) -> None:
    """Fill a field once the page and its PDF frame have loaded: Chromium's PDF viewer takes
    the focus as it starts, and text typed meanwhile went into the viewer (seen on a loaded
    machine: the field then stayed empty)."""
    page.wait_for_load_state("load")
    for _ in range(3):
        page.fill(selector, text)
        if page.input_value(selector) == text:
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"{selector} would not keep the text typed into it")


def _log_out(page):
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login**")


def test_judging_a_day_on_a_laptop(live_app, browser, tmp_path):
    ids = _seed(live_app)
    base = live_app.config["LIVE_URL"]
    store = live_app.config["STORAGE_PUBLIC_ORIGIN"]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    refused_frames = []
    page.on("console", lambda message: refused_frames.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        log_in_page(page, base, ASSESSOR)
        assert page.url == f"{base}/caseload"
        row = page.locator("table.caseload tbody tr", has_text="Lena Learner")
        assert row.locator("td[data-label='Why here']").inner_text().startswith(
            "Evidence waiting since")

        # The oldest item, its PDF in the browser's own viewer from the store, beside the form.
        with page.expect_response(lambda r: r.url.startswith(store)) as served:
            row.locator("a", has_text="2 item(s)").click()
        pdf = served.value
        assert pdf.status == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("inline")
        page.wait_for_selector("h1:has-text('Observation record')")
        shown = page.locator("iframe[title='observation.pdf (PDF)']")
        assert shown.count() == 1
        files, form = (page.locator(s).bounding_box()
                       for s in ("section.judge-evidence", "form.judge-criteria"))
        assert files["x"] + files["width"] <= form["x"], "the PDF is not beside the criteria"
        assert refused_frames == []

        # A batch of four, one "not yet met" without feedback: refused, nothing lost.
        a, b, c, d = ids["criteria"]
        page.check(f"input[name=outcome-{a}][value=met]")
        page.check(f"input[name=outcome-{b}][value=met]")
        page.check(f"input[name=outcome-{c}][value=met]")
        _type(page, f"textarea[name=feedback-{c}]", "Clear and complete.")
        page.check(f"input[name=outcome-{d}][value=not_yet_met]")
        _type(page, "#item_feedback", "A well organised record.")
        page.click("button:has-text('Record decisions')")
        page.wait_for_selector(".form-errors")
        assert "Nothing was recorded: 1 judgement needs changing" in page.inner_text(
            ".form-errors")
        for criterion, outcome in ((a, "met"), (b, "met"), (c, "met"), (d, "not_yet_met")):
            assert page.is_checked(f"input[name=outcome-{criterion}][value={outcome}]")
        assert page.input_value(f"textarea[name=feedback-{c}]") == "Clear and complete."
        assert page.input_value("#item_feedback") == "A well organised record."
        assert page.locator("fieldset.judgement.invalid").count() == 1
        assert "Give the learner feedback they can act on" in page.inner_text(
            f"#judgement-{d}-error")
        page.screenshot(path=str(tmp_path / "refused-batch.png"), full_page=True)

        _type(page, f"textarea[name=feedback-{d}]", FEEDBACK)
        with page.expect_response(lambda r: r.request.method == "POST") as answered:
            page.click("button:has-text('Record decisions')")
        # A refusal here is a failure of its own: say what the page said.
        assert answered.value.status == 302, (answered.value.status, page.locator(
            ".form-errors").all_inner_texts(), answered.value.request.post_data)
        page.wait_for_selector(".flash:has-text('Decisions recorded. Feedback on the item "
                               "recorded.')")
        assert "A well organised record." in page.inner_text("section.item-feedback")
        assert page.locator("fieldset.judgement.status-met").count() == 3

        # The same learner's next item, then nothing left.
        page.click("text=Next awaiting item")
        page.wait_for_selector("h1:has-text('Witness statement')")
        page.check("fieldset.judgement input[value=met]")
        page.click("button:has-text('Record decisions')")
        page.wait_for_selector(".flash:has-text('Decision recorded.')")
        page.click("text=Next awaiting item")
        page.wait_for_selector(".flash:has-text('Nothing else awaits your decision')")
        assert page.url == f"{base}/caseload"
    finally:
        context.close()


def test_declaring_and_signing_off_through_their_confirmations_on_a_phone(live_app, browser,
                                                                          tmp_path):
    ids = _seed(live_app, unit_01_met=True)
    base = live_app.config["LIVE_URL"]
    progress = f"{base}/enrolments/{ids['enrolment']}/progress"
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        log_in_page(page, base, LEARNER)
        page.goto(progress)
        unit = page.locator("tr", has=page.locator("a:text-is('01')"))
        # Offered only where every criterion is met.
        assert page.locator("summary:has-text('Declare unit')").count() == 1
        assert not unit.locator("blockquote.declaration").is_visible()
        unit.locator("summary:has-text('Declare unit 01 my own work')").click()
        assert "is my own" in unit.locator("blockquote.declaration").inner_text()
        _fits(page, 390)
        unit.locator("button:has-text('Yes, declare unit 01 my own work')").click()
        page.wait_for_selector(".flash:has-text('Declaration recorded.')")
        unit = page.locator("tr", has=page.locator("a:text-is('01')"))
        assert "Declared by Lena Learner on" in unit.inner_text()
        _log_out(page)

        log_in_page(page, base, ASSESSOR)
        assert page.url == f"{base}/caseload"
        # On a phone the judge page puts the evidence above the criteria, within the screen.
        page.goto(f"{base}/evidence/{ids['first']}/judge")
        # Measured once the PDF's frame has laid out: on a loaded machine it grows after load.
        page.wait_for_function("""() => {
            const evidence = document.querySelector('section.judge-evidence');
            const criteria = document.querySelector('form.judge-criteria');
            return evidence.getBoundingClientRect().bottom
                <= criteria.getBoundingClientRect().top;
        }""", timeout=15_000)
        _fits(page, 390)

        page.goto(progress)
        unit = page.locator("tr", has=page.locator("a:text-is('01')"))
        assert not unit.locator("button:has-text('Yes, sign off unit 01')").is_visible()
        unit.locator("summary:has-text('Sign off unit 01')").click()
        assert "countersigns the learner's declaration" in unit.locator(
            "details.confirm").inner_text()
        unit.locator("button:has-text('Yes, sign off unit 01')").click()
        page.wait_for_selector(".flash:has-text('Unit signed off.')")
        unit = page.locator("tr", has=page.locator("a:text-is('01')"))
        assert "countersigned by Asha Assessor" in unit.inner_text()
        _fits(page, 390)
        page.screenshot(path=str(tmp_path / "signed-off.png"), full_page=True)
    finally:
        context.close()
