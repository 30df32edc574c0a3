"""The admin imports learners from a CSV file in Chromium on a 390 px wide screen: a file of 50
learners shows its preview and, once confirmed, the learners; a file with problems shows them in
a table and saves nothing. Screenshots are kept in the test's ``tmp_path``."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import Enrolment, User
from portfolio.extensions import db
from tests.helpers.browser import log_in_page, seed_enrolment

pytestmark = pytest.mark.browser

DOMAIN = "import.example.org"
LEARNERS = "learners.example.org"
HEADER = "email,name,qualification,registration_number,start,planned_end,assessor_email,iqa_email"


def _csv(count: int, changes=None) -> bytes:
    """``count`` learners; ``changes`` maps a row index to the cells to replace there."""
    lines = [HEADER]
    for n in range(count):
        cells = [f"learner{n:02d}@{LEARNERS}", f"Imported Learner {n:02d}", "600/1636/X",
                 f"CSV-{n:03d}", "01/09/2026", "2027-08-31", f"assessor@{DOMAIN}",
                 f"iqa@{DOMAIN}"]
        for index, value in (changes or {}).get(n, {}).items():
            cells[index] = value
        lines.append(",".join(cells))
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture()
def phone(live_app, browser):
    with live_app.app_context():
        seed_enrolment(db.session, "Import College", DOMAIN, "IMP-ADMIN",
                       dt.date.today(), dt.date.today() + dt.timedelta(days=300),
                       roles=("centre_admin", "learner", "assessor", "iqa"))
        db.session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    base = live_app.config["LIVE_URL"]
    log_in_page(page, base, f"admin@{DOMAIN}")
    yield page, base
    context.close()


def _upload(page, base, data: bytes) -> None:
    page.goto(f"{base}/admin/users")
    page.click("text=Import learners and their enrolments from a CSV file")
    page.set_input_files("input[type=file]", files=[
        {"name": "learners.csv", "mimeType": "text/csv", "buffer": data}])
    with page.expect_navigation():
        page.click("button:has-text('Check the file')")


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        "the page scrolls sideways at 390 px"


def _imported(live_app) -> tuple[int, int]:
    with live_app.app_context():
        try:
            return (db.session.scalar(sa.select(sa.func.count(User.id)).where(
                        User.email.like(f"%@{LEARNERS}"))),
                    db.session.scalar(sa.select(sa.func.count(Enrolment.id)).where(
                        Enrolment.registration_number.like("CSV-%"))))
        finally:
            db.session.remove()


def test_fifty_learners_are_previewed_then_imported(phone, live_app, tmp_path):
    page, base = phone
    _upload(page, base, _csv(50))
    assert page.locator("h1").inner_text() == "Import 50 learners"
    assert page.locator("table.preview tbody tr").count() == 50
    assert "Imported Learner 49" in page.locator("table.preview").inner_text()
    _fits(page)
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)
    assert _imported(live_app) == (0, 0)

    with page.expect_navigation():
        page.click("button:has-text('Import 50 learners')")
    assert page.url == f"{base}/admin/users"
    assert "Imported 50 learners with their enrolments." in page.locator(".flash").inner_text()
    people = page.locator("table.units").inner_text()
    assert "Imported Learner 00" in people and "Imported Learner 49" in people
    _fits(page)
    page.screenshot(path=str(tmp_path / "users.png"), full_page=True)
    assert _imported(live_app) == (50, 50)


def test_a_file_with_problems_shows_them_and_saves_nothing(phone, live_app, tmp_path):
    page, base = phone
    _upload(page, base, _csv(50, {3: {0: "not an email"}, 10: {6: f"iqa@{DOMAIN}"},
                                  20: {4: "2026-02-30"}}))
    assert page.locator("#file-error").inner_text().endswith(
        "Nothing was imported: 3 problems in this file.")
    rows = [row.locator("td").all_inner_texts()
            for row in page.locator("table.problems tbody tr").all()]
    assert [row[:2] for row in rows] == [["5", "email"], ["12", "assessor_email"],
                                         ["22", "start"]]
    assert rows[1][2] == f"iqa@{DOMAIN} is not an active assessor in this centre."
    _fits(page)
    page.screenshot(path=str(tmp_path / "problems.png"), full_page=True)
    assert page.locator("button:has-text('Import')").count() == 0
    assert _imported(live_app) == (0, 0)
