"""Evidence: uploading to real S3 storage, items and claims, downloads, withdrawal."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import urllib.parse
import urllib.request

import pytest
import sqlalchemy as sa
from PIL import Image

from portfolio.core.audit import AuditEvent
from portfolio.core.uploads import human_size
from portfolio.evidence.models import EvidenceFile, EvidenceItem
from portfolio.extensions import object_store
from tests.helpers.evidence import criterion_ids, submit_item, upload
from tests.helpers.office import (
    MSI_CLSID,
    WORD_MACRO_MAIN,
    compound_file,
    content_types,
    odf_document,
    ooxml_document,
    zip_of,
)
from tests.helpers.queries import count_rows
from tests.helpers.samples import PDF, encoded, jpeg_with_location, picture
from tests.helpers.web import csrf_token


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers


def test_a_learner_adds_evidence_with_a_photo_and_a_pdf(login, people, session, app):
    client = login(people.learner1)
    photo = jpeg_with_location()
    first = upload(client, people.enrolment1, photo, "shift photo.jpg").get_json()
    second = upload(client, people.enrolment1, PDF, "call-log.pdf").get_json()
    assert first["content_type"] == "image/jpeg" and second["content_type"] == "application/pdf"

    criteria = criterion_ids(people.enrolment1)
    response = submit_item(client, people.enrolment1, [first["id"], second["id"]], criteria)
    assert response.status_code == 302, response.get_data(as_text=True)

    item = session.scalar(sa.select(EvidenceItem).order_by(EvidenceItem.id.desc()))
    assert item.declared_at is not None
    assert sorted(c.criterion_id for c in item.claims) == sorted(criteria)
    stored = {f.original_name: f for f in item.files}
    assert stored["shift photo.jpg"].sha256 == hashlib.sha256(photo).hexdigest()
    assert stored["call-log.pdf"].size == len(PDF)
    assert session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "evidence.created", AuditEvent.object_id == item.id))

    page = client.get(f"/enrolments/{people.enrolment1.id}/evidence").get_data(as_text=True)
    assert "Handling a complaint" in page and "thumbnail" in page

    # The original is kept byte for byte and downloaded as an attachment.
    download = client.get(f"/evidence/{item.id}/files/{stored['shift photo.jpg'].id}")
    assert download.status_code == 302
    body, headers = fetch(download.headers["Location"])
    assert body == photo
    assert "attachment" in headers["Content-Disposition"]
    # The derived copies are rotated and carry no metadata (no location).
    thumb = client.get(f"/evidence/{item.id}/files/{stored['shift photo.jpg'].id}/thumbnail")
    thumbnail, _ = fetch(thumb.headers["Location"])
    image = Image.open(io.BytesIO(thumbnail))
    assert image.height > image.width  # orientation 6 applied
    assert b"Exif" not in thumbnail and not image.getexif()


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "empty.pdf", "is empty"),
    (b"MZ\x90\x00" + b"\x00" * 500, "invoice.pdf", "invoice.pdf is not"),
    (b"<!doctype html><script>alert(1)</script>", "notes.txt", "which we do not accept"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "logo.svg", "which we do not accept"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "broken.jpg", "broken.jpg could not be read"),
    # Office files are judged by their structure, read from the whole file before storing it.
    (compound_file([("\u4840\u3b3f\u4577\u446c", 2)], root_clsid=MSI_CLSID), "setup.doc",
     "setup.doc is not a Word, Excel or PowerPoint document"),
    (ooxml_document("docx", WORD_MACRO_MAIN, extra=[("word/vbaProject.bin", b"\xcc" * 64)]),
     "letter.docm", "letter.docm contains macros or controls"),
    (zip_of([("[Content_Types].xml", content_types({})), ("run.exe", b"MZ")]), "plan.docx",
     "plan.docx is not a complete Word, Excel or PowerPoint document"),
    (odf_document(mimetype_first=False), "essay.odt", "essay.odt is a ZIP archive"),
    (odf_document(extra=[("Basic/Standard/Module1.xml", "<m/>")]), "essay.odt",
     "essay.odt contains macros or controls"),
])
def test_refused_uploads_leave_nothing_behind(login, people, session, data, name, message):
    client = login(people.learner1)
    rows = count_rows(session, EvidenceFile)
    objects = list(object_store().iter_objects(f"evidence/{people.enrolment1.id}/"))
    response = upload(client, people.enrolment1, data, name)
    assert response.status_code == 422
    assert message in response.get_json()["error"]
    assert count_rows(session, EvidenceFile) == rows
    assert list(object_store().iter_objects(f"evidence/{people.enrolment1.id}/")) == objects


@pytest.mark.parametrize(("data", "content_type"), [
    (ooxml_document("docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml."
                             "document"),
    (ooxml_document("pptx"), "application/vnd.openxmlformats-officedocument.presentationml."
                             "presentation"),
    (odf_document(), "application/vnd.oasis.opendocument.text"),
    (compound_file([("WordDocument", 2), ("1Table", 2)]), "application/x-ole-storage"),
])
def test_office_documents_are_stored_whole(login, people, session, data, content_type):
    client = login(people.learner1)
    response = upload(client, people.enrolment1, data, "work")
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = session.get(EvidenceFile, response.get_json()["id"])
    assert (stored.content_type, stored.size) == (content_type, len(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


def test_an_image_too_large_to_preview_is_kept_as_a_file(login, people, session, app):
    settings = app.config["PORTFOLIO_SETTINGS"]
    app.config["PORTFOLIO_SETTINGS"] = dataclasses.replace(settings,
                                                           image_decode_max_bytes=64 * 48 * 5)
    try:
        response = upload(login(people.learner1), people.enrolment1,
                          encoded(picture((64, 48)), "PNG"), "plan.png")
    finally:
        app.config["PORTFOLIO_SETTINGS"] = settings
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = session.get(EvidenceFile, response.get_json()["id"])
    assert stored.content_type == "image/png" and not stored.is_image
    assert stored.object_keys == [stored.object_key]


def test_files_over_the_size_limit_are_refused(login, people, app):
    client = login(people.learner1)
    settings = app.config["PORTFOLIO_SETTINGS"]
    app.config["PORTFOLIO_SETTINGS"] = type(settings)(
        **{**settings.__dict__, "upload_max_bytes": 1000})
    try:
        response = upload(client, people.enrolment1, PDF, "big.pdf")
    finally:
        app.config["PORTFOLIO_SETTINGS"] = settings
    # Refused by the size the request announces, before a byte is stored, with the limit.
    assert response.status_code == 413
    assert response.get_json() == {
        "error": f"This file is {human_size(len(PDF))}; the limit is 1000 bytes.",
        "limit": 1000}


def test_files_can_also_come_in_the_form_without_javascript(login, people, session):
    client = login(people.learner1)
    response = client.post(f"/enrolments/{people.enrolment1.id}/evidence/new", data={
        "title": "Reflective account", "evidence_date": "2026-10-02",
        "method": "reflective_account", "setting": "workplace", "declaration": "y",
        "criteria": criterion_ids(people.enrolment1, 1),
        "files": [(io.BytesIO(b"I handled a difficult call.\n"), "reflection.txt")],
        "csrf_token": csrf_token(client, "/catalogue/")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    item = session.scalar(sa.select(EvidenceItem).order_by(EvidenceItem.id.desc()))
    assert [f.content_type for f in item.files] == ["text/plain"]


@pytest.mark.parametrize(("change", "message"), [
    ({"declaration": ""}, "Confirm that this evidence is your own work."),
    ({"criteria": []}, "Choose at least one assessment criterion"),
    ({"method": "witness_testimony"}, "Witness testimony needs the witness"),
    ({"evidence_date": "2099-01-01"}, "cannot be in the future"),
])
def test_incomplete_evidence_is_refused(login, people, session, change, message):
    client = login(people.learner1)
    uploaded = upload(client, people.enrolment1, PDF, "a.pdf").get_json()["id"]
    items = count_rows(session, EvidenceItem)
    fields = {"criteria": criterion_ids(people.enrolment1), **change}
    response = submit_item(client, people.enrolment1, [uploaded], **fields)
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert count_rows(session, EvidenceItem) == items


def test_criteria_of_another_qualification_cannot_be_claimed(login, people, session):
    client = login(people.learner1)
    uploaded = upload(client, people.enrolment1, PDF, "a.pdf").get_json()["id"]
    foreign = criterion_ids(people.enrolment2, 1)
    response = submit_item(client, people.enrolment1, [uploaded], foreign)
    assert "not part of this qualification" in response.get_data(as_text=True)


def test_another_learners_upload_cannot_be_attached(login, people):
    theirs = upload(login(people.learner2), people.enrolment2, PDF, "a.pdf").get_json()["id"]
    client = login(people.learner1)
    response = submit_item(client, people.enrolment1, [theirs], criterion_ids(people.enrolment1))
    assert "were not uploaded, or expired" in response.get_data(as_text=True)


def _item(client, people, session):
    uploaded = upload(client, people.enrolment1, PDF, "a.pdf").get_json()["id"]
    submit_item(client, people.enrolment1, [uploaded], criterion_ids(people.enrolment1, 1))
    return session.scalar(sa.select(EvidenceItem).order_by(EvidenceItem.id.desc()))


def test_claims_change_until_an_assessor_judges(login, people, session):
    client = login(people.learner1)
    item = _item(client, people, session)
    wanted = criterion_ids(people.enrolment1, 3)
    response = client.post(f"/evidence/{item.id}/claims", data={
        "criteria": wanted, "csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == 302
    session.refresh(item)
    assert sorted(c.criterion_id for c in item.claims) == sorted(wanted)

    item.judged_at = item.created_at
    session.flush()
    assert client.get(f"/evidence/{item.id}/claims").status_code == 404
    assert client.post(f"/evidence/{item.id}/withdraw", data={
        "csrf_token": csrf_token(client, "/catalogue/")}).status_code == 404


def test_withdrawal_hides_and_keeps(login, people, session):
    client = login(people.learner1)
    item = _item(client, people, session)
    client.post(f"/evidence/{item.id}/withdraw", data={"csrf_token": csrf_token(client, "/catalogue/")})
    session.refresh(item)
    assert item.is_withdrawn and item.files
    listing = client.get(f"/enrolments/{people.enrolment1.id}/evidence").get_data(as_text=True)
    assert f"/evidence/{item.id}\"" not in listing
    everything = client.get(f"/enrolments/{people.enrolment1.id}/evidence?withdrawn=1")
    assert f"/evidence/{item.id}\"" in everything.get_data(as_text=True)
    assert client.get(f"/evidence/{item.id}").status_code == 200


def test_submitting_the_same_uploads_again_returns_the_first_item(login, people, session):
    """A double click or a retry after a lost response: one item, and both answers lead to it."""
    client = login(people.learner1)
    uploaded = upload(client, people.enrolment1, PDF, "a.pdf").get_json()["id"]
    items = count_rows(session, EvidenceItem)
    first = submit_item(client, people.enrolment1, [uploaded], criterion_ids(people.enrolment1))
    again = submit_item(client, people.enrolment1, [uploaded], criterion_ids(people.enrolment1))
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert count_rows(session, EvidenceItem) == items + 1
    assert count_rows(session, AuditEvent, AuditEvent.action == "evidence.created") == 1


def test_an_upload_in_one_item_cannot_join_another(login, people, session):
    client = login(people.learner1)
    shared, extra = (upload(client, people.enrolment1, PDF, name).get_json()["id"]
                     for name in ("a.pdf", "b.pdf"))
    submit_item(client, people.enrolment1, [shared], criterion_ids(people.enrolment1))
    items = count_rows(session, EvidenceItem)
    response = submit_item(client, people.enrolment1, [shared, extra],
                           criterion_ids(people.enrolment1))
    assert "were not uploaded, or expired" in response.get_data(as_text=True)
    assert count_rows(session, EvidenceItem) == items
    assert session.get(EvidenceFile, extra).item_id is None


@pytest.mark.parametrize(("name", "data", "served_as"), [
    ("marking-guide.bat", b"@echo off\r\nformat c:\r\n", "marking-guide.bat.txt"),
    ("feedback.vbs", b'MsgBox "hello"\n', "feedback.vbs.txt"),
    ("notes.hta", b"plain words about the shift\n", "notes.hta.txt"),
    ("call-log.exe", PDF, "call-log.exe.pdf"),
    ("Call Log.PDF", PDF, "Call Log.PDF"),
    ("timesheet.csv", b"date,hours\n2026-10-01,7.5\n", "timesheet.csv"),
])
def test_a_download_is_named_for_what_it_is(login, people, name, data, served_as):
    """The store serves the name the app signs: an extension that would run or open the file as
    something else gets the sniffed type's own added."""
    client = login(people.learner1)
    uploaded = upload(client, people.enrolment1, data, name).get_json()["id"]
    item_url = submit_item(client, people.enrolment1, [uploaded],
                           criterion_ids(people.enrolment1, 1)).headers["Location"]
    download = client.get(f"{item_url}/files/{uploaded}")
    _, headers = fetch(download.headers["Location"])
    assert f"filename*=UTF-8''{urllib.parse.quote(served_as, safe='')}" in \
        headers["Content-Disposition"]
