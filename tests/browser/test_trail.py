"""The sampling trail in Chromium: an IQA narrows it to a period with the filter form, reads it on
a phone without sideways scrolling, prints it without the form and links, and downloads the
figures and samples as CSV and the trail as a PDF whose text is read back."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pypdf
import pytest

from portfolio.core.db import utcnow
from portfolio.extensions import db
from tests.helpers.assessment import add_item, criteria_of, decide
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.quality import make_sample, raise_action

pytestmark = pytest.mark.browser


def seed(session) -> str:
    """A centre whose IQA sampled unit 204 of the assessor's learner, raising an action."""
    seeded = seed_enrolment(session, "Trail College", "trail.example.org", "TRAIL-1",
                            dt.date.today() - dt.timedelta(days=90),
                            dt.date.today() + dt.timedelta(days=270))
    enrolment, assessor = seeded.enrolment, seeded.users["assessor"]
    criteria = criteria_of(session, enrolment, "204")
    decisions = decide(session, add_item(session, enrolment, criteria), assessor, criteria)
    sample = make_sample(session, seeded.users["iqa"], decisions, outcome="action_required",
                         recorded_at=utcnow())
    raise_action(session, sample, assessor, dt.date.today() + dt.timedelta(days=14))
    return seeded.users["iqa"].email


def downloaded(page, link_text: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_text).click()
    download = info.value
    return download.suggested_filename, open(download.path(), "rb").read()


def test_an_iqa_filters_the_trail_and_downloads_it_as_csv_and_pdf(live_app, browser):
    with live_app.app_context():
        iqa = seed(db.session)
        db.session.commit()
    base = live_app.config["LIVE_URL"]
    page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                               accept_downloads=True).new_page()
    log_in_page(page, base, iqa)
    page.goto(f"{base}/quality/trail")
    today = dt.date.today()
    page.fill("input[name=starts_on]", (today - dt.timedelta(days=30)).isoformat())
    page.fill("input[name=ends_on]", today.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/quality/trail?*starts_on=*")
    totals = page.locator("table.trail tr.totals").first
    assert totals.locator('td[data-label="Action required"]').inner_text() == "1"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    name, data = downloaded(page, "Figures (CSV)")
    assert name.startswith("sampling-trail-trail-college-") and name.endswith(".csv")
    header, first, total = csv.reader(io.StringIO(data.decode()))
    figures = dict(zip(header, first, strict=True))
    assert (figures["Assessor"], figures["Samples recorded"], figures["Open actions"]) == (
        "Asha Assessor", "1", "1")
    assert total[0] == "Total: All assessors"
    name, data = downloaded(page, "Samples (CSV)")
    assert name.endswith("-samples.csv")
    assert "Lena Learner" in data.decode() and "Action required" in data.decode()
    name, data = downloaded(page, "Trail (PDF)")
    assert name.endswith(".pdf")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "Sampling trail: Trail College" in text and "Page 1 of" in text
    assert "Lena Learner" in text

    page.emulate_media(media="print")
    assert not page.locator("form.filters").is_visible()
    assert not page.get_by_role("link", name="Trail (PDF)").is_visible()
    assert page.locator("table.trail").first.is_visible()
