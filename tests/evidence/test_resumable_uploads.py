"""Resumable uploads in parts, the size limit in words, and discarding an upload not yet added
to evidence: through the app, on real S3 storage."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from portfolio.core.audit import AuditEvent
from portfolio.core.multipart import MultipartUploads
from portfolio.core.storage import MiB, ObjectStore
from portfolio.evidence import uploads
from portfolio.evidence.models import EvidenceFile
from portfolio.evidence.resumable import INCOMING_PREFIX, PART_SIZE
from portfolio.extensions import db, object_store
from tests.benchmarks.bench_upload_stream import MP4_HEADER
from tests.helpers.evidence import criterion_ids, submit_item, upload
from tests.helpers.samples import PDF
from tests.helpers.web import csrf_token


def video(size: int, seed: str = "") -> bytes:
    """``size`` bytes sniffed as an MP4 video, different for each seed."""
    block = hashlib.sha256(seed.encode()).digest() * (MiB // 32)
    body = MP4_HEADER + block * (size // len(block) + 1)
    return body[:size]


class Uploader:
    """The browser uploader's side of the protocol, through the test client."""

    def __init__(self, client, enrolment_id: int):
        self.client, self.base = client, f"/enrolments/{enrolment_id}/uploads/resumable"
        self.headers = {"X-CSRFToken": csrf_token(client, "/catalogue/")}

    def begin(self, size: int):
        return self.client.post(self.base, json={"size": size}, headers=self.headers)

    def part(self, ticket: str, number: int, data: bytes):
        return self.client.put(f"{self.base}/{ticket}/parts/{number}", data=data,
                               headers={**self.headers,
                                        "Content-Type": "application/octet-stream"})

    def status(self, ticket: str):
        return self.client.get(f"{self.base}/{ticket}")

    def finish(self, ticket: str, filename: str):
        return self.client.post(f"{self.base}/{ticket}/finish",
                                headers={**self.headers, "X-Filename": quote(filename)})

    def send(self, data: bytes, numbers=None) -> str:
        """Begin and send the parts numbered (all by default); returns the ticket."""
        answer = self.begin(len(data))
        assert answer.status_code == 201, answer.get_json()
        ticket = answer.get_json()["ticket"]
        for number in numbers or range(1, -(-len(data) // PART_SIZE) + 1):
            chunk = data[(number - 1) * PART_SIZE:number * PART_SIZE]
            assert self.part(ticket, number, chunk).status_code == 200
        return ticket


def incoming_objects() -> list[str]:
    return [key for key, _ in object_store().iter_objects(INCOMING_PREFIX)]


def test_a_file_sent_in_parts_is_validated_and_recorded_like_any_upload(login, people, session):
    client = login(people.learner1)
    data = video(2 * PART_SIZE + 3 * MiB, "parts")
    uploader = Uploader(client, people.enrolment1.id)
    ticket = uploader.send(data, numbers=[1, 3])

    status = uploader.status(ticket).get_json()
    assert status["parts"] == [1, 3] and status["received"] == PART_SIZE + 3 * MiB
    refused = uploader.finish(ticket, "site visit.mp4")
    assert refused.status_code == 422
    assert "Some parts of this file have not arrived yet" in refused.get_json()["error"]

    # Part 1 again (a retry whose answer was lost) and the missing part 2.
    assert uploader.part(ticket, 1, data[:PART_SIZE]).status_code == 200
    assert uploader.part(ticket, 2, data[PART_SIZE:2 * PART_SIZE]).status_code == 200
    answer = uploader.finish(ticket, "site visit.mp4")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["name"], body["size"], body["content_type"]) == (
        "site visit.mp4", len(data), "video/mp4")

    stored = session.get(EvidenceFile, body["id"])
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.item_id is None
    assert stored.object_key.startswith(f"evidence/{people.enrolment1.id}/")
    assert object_store().head(stored.object_key)["size"] == len(data)
    assert incoming_objects() == [], "the joined parts are removed once validated"
    assert uploader.status(ticket).status_code == 404, "a finished upload takes no more parts"

    criteria = criterion_ids(people.enrolment1)
    assert submit_item(client, people.enrolment1, [body["id"]], criteria).status_code == 302


def test_a_file_in_parts_that_is_not_acceptable_is_refused_and_leaves_nothing(
        login, people, session):
    client = login(people.learner1)
    data = b"MZ\x90\x00" + b"\x00" * (PART_SIZE + 10)
    uploader = Uploader(client, people.enrolment1.id)
    ticket = uploader.send(data)
    answer = uploader.finish(ticket, "payslip.pdf")
    assert answer.status_code == 422 and "payslip.pdf is not" in answer.get_json()["error"]
    assert session.scalar(sa.select(sa.func.count()).select_from(EvidenceFile)) == 0
    assert incoming_objects() == []


def test_nobody_else_can_send_parts_to_an_upload(login, people, client):
    learner = login(people.learner1)
    ticket = Uploader(learner, people.enrolment1.id).send(video(PART_SIZE + 10, "mine"),
                                                          numbers=[1])
    for other, enrolment in ((people.learner2, people.enrolment1),
                             (people.learner2, people.enrolment2),
                             (people.assessor1, people.enrolment1)):
        login(other)
        intruder = Uploader(client, enrolment.id)
        assert intruder.part(ticket, 2, b"x" * 10).status_code == 404
        assert intruder.status(ticket).status_code == 404
        assert intruder.finish(ticket, "stolen.mp4").status_code == 404
    login(people.learner1)
    forged = Uploader(client, people.enrolment1.id)
    assert forged.status(ticket[:-2] + "xx").status_code == 404
    assert forged.status(ticket).get_json()["parts"] == [1]


def test_parts_are_bounded_by_the_part_size(login, people):
    client = login(people.learner1)
    uploader = Uploader(client, people.enrolment1.id)
    ticket = uploader.begin(3 * PART_SIZE).get_json()["ticket"]
    answer = uploader.part(ticket, 1, b"x" * (PART_SIZE + 1))
    assert answer.status_code == 422 and "at most" in answer.get_json()["error"]
    assert uploader.part(ticket, 100_000, b"x").status_code == 422
    assert uploader.status(ticket).get_json()["parts"] == []


@pytest.fixture()
def small_limit(app):
    settings = app.config["PORTFOLIO_SETTINGS"]
    app.config["PORTFOLIO_SETTINGS"] = dataclasses.replace(settings, upload_max_bytes=2 * MiB)
    app.config["MAX_CONTENT_LENGTH"] = 3 * MiB


def test_a_file_over_the_limit_is_refused_with_the_limit_in_words(login, people, small_limit):
    client = login(people.learner1)
    begun = Uploader(client, people.enrolment1.id).begin(2 * MiB + 300 * 1024)
    assert begun.status_code == 413
    assert begun.get_json() == {"error": "This file is 2.3 MB; the limit is 2 MB.",
                                "limit": 2 * MiB}

    # The one-request upload: over the limit, and over the server's own ceiling.
    for size, words in ((2 * MiB + 300 * 1024, "2.3 MB"), (4 * MiB, "4 MB")):
        answer = upload(client, people.enrolment1, b"\0" * size, "film.mp4")
        assert answer.status_code == 413
        assert answer.get_json() == {"error": f"This file is {words}; the limit is 2 MB.",
                                     "limit": 2 * MiB}


def test_a_learner_discards_an_upload_of_their_own_not_yet_added(login, people, session,
                                                                 client):
    login(people.learner1)
    kept = upload(client, people.enrolment1, PDF, "keep.pdf").get_json()["id"]
    wrong = upload(client, people.enrolment1, PDF, "wrong.pdf").get_json()["id"]
    attached = upload(client, people.enrolment1, PDF, "attached.pdf").get_json()["id"]
    assert submit_item(client, people.enrolment1, [attached],
                       criterion_ids(people.enrolment1)).status_code == 302
    wrong_keys = session.get(EvidenceFile, wrong).object_keys

    def discard(file_id):
        return client.post(f"/uploads/{file_id}/discard",
                           headers={"X-CSRFToken": csrf_token(client, "/catalogue/")})

    for other in (people.learner2, people.other_enrolment.learner, people.assessor1,
                  people.admin):
        login(other)
        assert discard(wrong).status_code == 404
    login(people.learner1)
    assert discard(attached).status_code == 404, "a file of an item stays"
    assert discard(wrong).get_json() == {"discarded": wrong}
    assert discard(wrong).status_code == 404

    session.expire_all()
    assert session.get(EvidenceFile, wrong) is None
    assert session.get(EvidenceFile, kept) is not None
    assert session.get(EvidenceFile, attached).item_id is not None
    assert [object_store().head(key) for key in wrong_keys] == [None] * len(wrong_keys)
    assert session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "evidence.upload_discarded", AuditEvent.object_id == wrong))


def test_the_sweep_aborts_an_abandoned_upload_in_parts(login, people, session):
    client = login(people.learner1)
    uploader = Uploader(client, people.enrolment1.id)
    ticket = uploader.send(video(PART_SIZE + 10, "abandoned"), numbers=[1])
    swept = uploads.sweep_objects(session, object_store(),
                                  dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    assert swept.aborted_multipart_uploads >= 1
    assert uploader.status(ticket).status_code == 404


def test_a_refused_form_lists_the_uploaded_files_and_opens_the_witness_section(login, people):
    client = login(people.learner1)
    first = upload(client, people.enrolment1, PDF, "witness statement.pdf").get_json()["id"]
    second = upload(client, people.enrolment1, PDF, "rota.pdf").get_json()["id"]
    answer = submit_item(client, people.enrolment1, [first, second],
                         criterion_ids(people.enrolment1), method="witness_testimony",
                         title="")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert page.count('<li class="upload done"') == 2
    assert "witness statement.pdf" in page and "rota.pdf" in page
    assert f'value="{first}"' in page and f'value="{second}"' in page
    assert '<details class="witness" open>' in page
    assert 'id="witness_name-error"' in page
    assert "Witness testimony needs the witness&#39;s name." in page


def test_no_transaction_is_open_while_parts_move(login, people, monkeypatch):
    """Each part, and the joined file on its way through validation, moves with no database
    transaction open: a phone on a slow signal holds no pooled connection."""
    client = login(people.learner1)
    seen = []

    def watching(original):
        def watched(*args, **kwargs):
            seen.append((original.__name__, db.session().in_transaction()))
            return original(*args, **kwargs)
        return watched

    monkeypatch.setattr(MultipartUploads, "put_part", watching(MultipartUploads.put_part))
    monkeypatch.setattr(ObjectStore, "put_stream", watching(ObjectStore.put_stream))
    uploader = Uploader(client, people.enrolment1.id)
    ticket = uploader.send(video(PART_SIZE + 10, "quiet"))
    assert uploader.finish(ticket, "quiet.mp4").status_code == 200
    assert seen == [("put_part", False), ("put_part", False), ("put_stream", False)]


def test_the_quota_of_unattached_uploads_holds_for_uploads_in_parts(login, people, app):
    settings = app.config["PORTFOLIO_SETTINGS"]
    app.config["PORTFOLIO_SETTINGS"] = dataclasses.replace(
        settings, unattached_upload_max_files=1, unattached_upload_max_bytes=2 * PART_SIZE)
    client = login(people.learner1)
    uploader = Uploader(client, people.enrolment1.id)
    too_big = uploader.begin(2 * PART_SIZE + 1)
    assert too_big.status_code == 422 and "the limit is 1 file" in too_big.get_json()["error"]

    # Two begun while there was room; the second to finish finds the quota full.
    first, second = (uploader.send(video(PART_SIZE + 10, seed)) for seed in ("a", "b"))
    assert uploader.finish(first, "a.mp4").status_code == 200
    refused = uploader.finish(second, "b.mp4")
    assert refused.status_code == 422 and "already have 1 file" in refused.get_json()["error"]
    assert incoming_objects() == []


def test_an_upload_removed_while_in_parts_is_aborted_at_once(login, people):
    client = login(people.learner1)
    uploader = Uploader(client, people.enrolment1.id)
    ticket = uploader.send(video(PART_SIZE + 10, "removed"), numbers=[1])
    aborted = client.post(f"{uploader.base}/{ticket}/abort", headers=uploader.headers)
    assert aborted.get_json() == {"aborted": True}
    assert uploader.status(ticket).status_code == 404
