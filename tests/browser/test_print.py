"""Progress, the tracking grid, an evidence item and an IQA sample printed from Chromium (print media emulated):
the record shows, and nothing to act on does: no site header or navigation, no button, no form.
On screen the same pages have all of these, so the check can fail."""

from __future__ import annotations

import pytest

from portfolio.extensions import db
from tests.helpers.browser import log_in_page
from tests.helpers.showcase import seed_showcase

pytestmark = pytest.mark.browser

#: What must not print; each is on every page below when shown on screen.
ACTIONS = "header.site, nav, button, form"


def _visible(page, selector: str) -> int:
    return sum(1 for element in page.locator(selector).all() if element.is_visible())


def test_progress_grid_and_evidence_print_without_navigation_or_buttons(live_app, browser):
    with live_app.app_context():
        showcase = seed_showcase(db.session)
        db.session.commit()
    base = live_app.config["LIVE_URL"]
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in_page(page, base, showcase.emails["assessor"])
    printed = {
        "progress": (f"/enrolments/{showcase.enrolment_id}/progress", "table"),
        "grid": (f"/enrolments/{showcase.enrolment_id}/grid", ".grid-unit .cell"),
        "evidence item": (f"/evidence/{showcase.judged_item_id}", ".files li"),
        "IQA sample": (f"/quality/samples/{showcase.sample_id}", ".sample-checks td"),
    }
    for name, (path, record) in printed.items():
        page.emulate_media(media="screen")
        page.goto(base + path)
        for selector in ACTIONS.split(", "):
            assert _visible(page, selector), f"{name}: no {selector} on screen to hide"
        page.emulate_media(media="print")
        assert _visible(page, ACTIONS) == 0, f"{name}: navigation, buttons or forms print"
        assert page.locator("main h1").is_visible(), name
        assert _visible(page, record), f"{name}: {record} does not print"
        assert page.pdf(format="A4").startswith(b"%PDF"), name
