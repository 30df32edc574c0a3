"""The uploader on a phone (390x844): a file over the limit says the limit in words, before
sending and from the server's answer; a wrong file can be removed, on the server too; files
stay listed after the form is refused, with the witness section open for a witness error; and a
large file whose connection drops resumes from the last part that arrived."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from portfolio.core.storage import MiB
from portfolio.evidence.models import EvidenceFile, EvidenceItem
from portfolio.extensions import db
from tests.benchmarks.bench_upload_stream import MP4_HEADER
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.samples import PDF, jpeg_with_location

pytestmark = pytest.mark.browser

LEARNER = "learner@uploads.example.org"


def _seed(app) -> int:
    with app.app_context():
        seeded = seed_enrolment(db.session, "Upload College", "uploads.example.org", "U-1",
                                dt.date(2026, 9, 1), dt.date(2027, 9, 1))
        db.session.commit()
        return seeded.enrolment.id


def _limit(app, max_bytes: int) -> None:
    app.config["PORTFOLIO_SETTINGS"] = dataclasses.replace(app.config["PORTFOLIO_SETTINGS"],
                                                           upload_max_bytes=max_bytes)


def _files(app) -> list[EvidenceFile]:
    with app.app_context():
        files = list(db.session.scalars(sa.select(EvidenceFile).order_by(EvidenceFile.id)))
        db.session.remove()
        return files


def _video(size: int) -> bytes:
    block = hashlib.sha256(b"resume").digest() * 2048
    return (MP4_HEADER + block * (size // len(block) + 1))[:size]


@pytest.fixture()
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    yield context.new_page()
    context.close()


def _add_evidence_page(page, base: str) -> None:
    log_in_page(page, base, LEARNER)
    page.wait_for_url("**/evidence")
    page.click("text=Add evidence")
    page.wait_for_selector("h1:has-text('Add evidence')")


def test_sizes_removal_and_a_refused_form_keep_the_learner_informed(live_app, phone, tmp_path):
    _seed(live_app)
    _limit(live_app, 3 * MiB)
    base = live_app.config["LIVE_URL"]
    photo, pdf, film = tmp_path / "till.jpg", tmp_path / "wrong.pdf", tmp_path / "film.mp4"
    photo.write_bytes(jpeg_with_location(800, 600))
    pdf.write_bytes(PDF)
    film.write_bytes(_video(4 * MiB))
    page = phone
    _add_evidence_page(page, base)

    # Over the limit: refused before sending, with the limit in words, and removable.
    page.set_input_files("input[data-uploader]", [str(film)])
    refused = page.locator("li.upload", has_text="film.mp4")
    assert refused.locator(".status").inner_text() == "This file is 4 MB; the limit is 3 MB."
    assert "failed" in refused.get_attribute("class")
    refused.get_by_role("button", name="Remove film.mp4").click()
    assert page.locator("li.upload").count() == 0
    assert page.evaluate("document.activeElement.id") == "files"

    # The limit lowered after the page loaded: the server's 413 says it in words.
    _limit(live_app, MiB)
    film.write_bytes(_video(2 * MiB))
    page.set_input_files("input[data-uploader]", [str(film)])
    page.wait_for_selector("li.upload.failed:has-text('the limit is 1 MB')")
    assert page.locator("li.upload.failed .status").last.inner_text() == (
        "This file is 2 MB; the limit is 1 MB.")
    for row in page.locator("li.upload.failed").all():
        row.get_by_role("button", name="Remove film.mp4").click()
    assert page.locator("li.upload").count() == 0
    _limit(live_app, 3 * MiB)

    page.set_input_files("input[data-uploader]", [str(photo), str(pdf)])
    page.wait_for_selector("li.upload.done >> nth=1", timeout=20_000)
    assert page.inner_text("[data-upload-announcer]").endswith("uploaded.")
    assert page.get_attribute("[data-upload-announcer]", "aria-live") == "polite"

    # Refused by the server: witness testimony without the witness's name.
    page.fill("input[name=title]", "Till reconciliation, witnessed")
    page.fill("input[name=evidence_date]", "2026-10-01")
    page.select_option("select[name=method]", "witness_testimony")
    page.select_option("select[name=setting]", "workplace")
    page.fill("[data-picker-search]", "301 1.1")
    page.locator(".picker-criterion:visible input").first.check()
    page.check("input[name=declaration]")
    page.click("button[data-submit]")
    page.wait_for_selector(".error-summary, .field-errors p")
    rows = page.locator("li.upload.done")
    assert rows.count() == 2
    names = sorted(row.locator(".name").inner_text() for row in rows.all())
    assert names[0].startswith("till.jpg (") and names[0].endswith(" KB)")
    assert names[1] == "wrong.pdf (2 KB)"
    assert page.locator("details.witness").get_attribute("open") is not None
    assert page.locator("#witness_name-error").inner_text().strip().endswith(
        "Witness testimony needs the witness's name.")
    assert page.locator("#witness_name").is_visible()
    page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)

    # The wrong file goes, from the list and from the server.
    page.get_by_role("button", name="Remove wrong.pdf").click()
    page.wait_for_selector("li.upload:has-text('wrong.pdf')", state="detached")
    assert [f.original_name for f in _files(live_app)] == ["till.jpg"]

    page.fill("input[name=witness_name]", "Sam Patel")
    page.click("button[data-submit]")
    page.wait_for_selector("h1:has-text('Till reconciliation, witnessed')")
    with live_app.app_context():
        item = db.session.scalar(sa.select(EvidenceItem))
        assert [f.original_name for f in item.files] == ["till.jpg"]
        db.session.remove()


def test_a_large_file_resumes_after_a_dropped_connection(live_app, phone, tmp_path):
    _seed(live_app)
    base = live_app.config["LIVE_URL"]
    data = _video(20 * MiB)
    film = tmp_path / "site-visit.mp4"
    film.write_bytes(data)
    page = phone
    parts_sent: list[str] = []

    def drop_the_first_try_of_part_2(route):
        number = route.request.url.rsplit("/", 1)[-1]
        parts_sent.append(number)
        if number == "2" and parts_sent.count("2") == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/parts/*", drop_the_first_try_of_part_2)
    _add_evidence_page(page, base)
    page.evaluate("""() => {
        window.announced = [];
        const region = document.querySelector("[data-upload-announcer]");
        new MutationObserver(() => window.announced.push(region.textContent))
            .observe(region, {childList: true, characterData: true, subtree: true});
    }""")
    page.set_input_files("input[data-uploader]", [str(film)])
    page.wait_for_selector("li.upload.done", timeout=60_000)

    # Screen readers hear a sentence per tenth of the file at most, then that it is done.
    announced = page.evaluate("window.announced")
    assert announced[-1] == "site-visit.mp4 uploaded."
    tenths = [int(text.split(": ")[1].removesuffix("% uploaded.")) for text in announced[:-1]]
    assert tenths and tenths == sorted(set(tenths)), announced
    assert all(tenth % 10 == 0 and 0 < tenth < 100 for tenth in tenths), announced

    # Part 1 was not sent again: only the part cut off and the one after it.
    assert parts_sent == ["1", "2", "2", "3"]
    [stored] = _files(live_app)
    assert (stored.original_name, stored.size) == ("site-visit.mp4", len(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert page.inner_text("[data-upload-announcer]") == "site-visit.mp4 uploaded."
