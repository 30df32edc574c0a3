"""A learner on a phone: log in, upload a photo and a PDF (surviving a dropped connection), pick
criteria, submit, and see the item in the list with its thumbnail."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.extensions import db
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.samples import PDF, jpeg_with_location

pytestmark = pytest.mark.browser


def _seed(app):
    with app.app_context():
        seed_enrolment(db.session, "Browser College", "browser.example.org", "B-1",
                       dt.date(2026, 9, 1), dt.date(2027, 9, 1))
        db.session.commit()


def test_learner_uploads_a_photo_and_a_pdf(live_app, browser, tmp_path):
    _seed(live_app)
    base = live_app.config["LIVE_URL"]
    photo, pdf = tmp_path / "till.jpg", tmp_path / "call-log.pdf"
    photo.write_bytes(jpeg_with_location(1200, 900))
    pdf.write_bytes(PDF)

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    dropped = []

    def drop_first_pdf_upload(route):
        if "call-log.pdf" in (route.request.headers.get("x-filename") or "") and not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/uploads", drop_first_pdf_upload)

    log_in_page(page, base, "learner@browser.example.org")
    page.wait_for_url("**/evidence")

    page.click("text=Add evidence")
    page.fill("input[name=title]", "Till reconciliation and call log")
    page.fill("input[name=evidence_date]", "2026-10-01")
    page.select_option("select[name=method]", "product")
    page.select_option("select[name=setting]", "workplace")
    page.set_input_files("input[data-uploader]", [str(photo), str(pdf)])
    page.wait_for_selector("li.upload.done >> nth=1", timeout=20_000)
    assert dropped, "the first PDF upload should have been cut off and retried"
    assert page.locator("li.upload progress").count() == 2

    page.fill("[data-picker-search]", "301 1.1")
    visible = page.locator(".picker-criterion:visible")
    assert visible.count() == 1
    visible.locator("input").check()
    page.fill("[data-picker-search]", "302")
    page.locator(".picker-criterion:visible input").first.check()
    assert page.inner_text("[data-picker-count]") == "2 chosen"

    page.check("input[name=declaration]")
    page.click("button[data-submit]")
    page.wait_for_selector("h1:has-text('Till reconciliation and call log')")
    assert page.locator(".claims-list li").count() == 2
    assert page.locator(".files li").count() == 2

    page.click("text=Evidence of")
    card = page.locator(".evidence-card", has_text="Till reconciliation and call log")
    thumbnail = card.locator("img.thumb")
    thumbnail.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    page.screenshot(path=str(tmp_path / "list.png"), full_page=True)
    context.close()
