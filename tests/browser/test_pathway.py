"""The learner chooses their pathway in Chromium on a 390 px screen: a barred pair is refused
beside its group and nothing is saved; a valid choice is saved and progress counts its units."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.assessment.models import PathwayChoice
from portfolio.extensions import db
from tests.helpers.browser import log_in_page, seed_enrolment

pytestmark = pytest.mark.browser

DOMAIN = "pathway.example.org"


@pytest.fixture()
def phone(live_app, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    yield page, live_app.config["LIVE_URL"]
    context.close()


def _submit(page):
    with page.expect_navigation():
        page.click("button:has-text('Save pathway')")


def _choices(app) -> list[list[str]]:
    with app.app_context():
        return [c.units for c in db.session.scalars(sa.select(PathwayChoice))]


def test_learner_chooses_a_pathway(live_app, phone, tmp_path):
    with live_app.app_context():
        seeded = seed_enrolment(db.session, "Pathway College", DOMAIN, "PW-1",
                                dt.date.today() - dt.timedelta(days=30),
                                dt.date.today() + dt.timedelta(days=300),
                                qualification_number="600/1257/2")
        db.session.commit()
        enrolment_id = seeded.enrolment.id
    page, base = phone
    log_in_page(page, base, f"learner@{DOMAIN}")
    page.goto(f"{base}/enrolments/{enrolment_id}/progress")
    assert "No pathway chosen yet" in page.inner_text("#pathway")
    # The mandatory units are ticked and cannot be unticked.
    assert page.is_checked("#units-01") and page.is_disabled("#units-01")

    for number in ("08", "09", "13", "16"):
        page.check(f"#units-{number}")
    _submit(page)
    group_c = page.locator("#pathway-group-C")
    assert "pathway-group-C-error" in group_c.get_attribute("aria-describedby")
    assert group_c.locator("#pathway-group-C-error").is_visible()
    assert ("Units 13 and 16 cannot both count: choose one."
            in group_c.locator("#pathway-group-C-error").inner_text())
    assert page.is_checked("#units-13") and page.is_checked("#units-16")  # the choice is kept
    page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
    assert _choices(live_app) == []

    page.uncheck("#units-13")
    page.uncheck("#units-16")
    page.check("#units-34")
    page.check("#units-36")
    _submit(page)
    page.wait_for_selector(".flash:has-text('Pathway saved')")
    assert page.locator("#pathway .field-errors").count() == 0
    assert "achieving them achieves the qualification" in page.inner_text("#pathway")
    assert "across all units" not in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "saved.png"), full_page=True)
    assert _choices(live_app) == [["01", "02", "08", "09", "34", "36"]]
