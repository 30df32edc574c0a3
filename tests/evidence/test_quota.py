"""The quota of uploads not yet added to evidence: per person, in files and in bytes, checked
before the bytes are read and again as the row is written, so that parallel uploads of one
learner cannot together pass it."""

from __future__ import annotations

import dataclasses
import threading
from urllib.parse import quote

import sqlalchemy as sa

from portfolio.evidence.models import EvidenceFile
from portfolio.extensions import db, object_store
from tests.helpers.app import app_on_new_database
from tests.helpers.concurrency import TIMEOUT
from tests.helpers.evidence import criterion_ids, submit_item, upload
from tests.helpers.factories import make_people
from tests.helpers.queries import count_rows
from tests.helpers.samples import PDF
from tests.helpers.web import csrf_token, log_in


def quota(app, files: int, size: int) -> None:
    settings = app.config["PORTFOLIO_SETTINGS"]
    app.config["PORTFOLIO_SETTINGS"] = dataclasses.replace(
        settings, unattached_upload_max_files=files, unattached_upload_max_bytes=size)


def objects(enrolment) -> list[str]:
    return [key for key, _ in object_store().iter_objects(f"evidence/{enrolment.id}/")]


def test_a_full_quota_of_files_refuses_the_next_upload_until_one_is_attached(
        login, people, session, app):
    quota(app, files=2, size=2 * 1024 ** 2)
    client = login(people.learner1)
    first, _ = (upload(client, people.enrolment1, PDF, f"call-{n}.pdf").get_json()["id"]
                for n in range(2))
    rows, stored = count_rows(session, EvidenceFile), objects(people.enrolment1)

    refused = upload(client, people.enrolment1, PDF, "call-3.pdf")

    assert refused.status_code == 422
    assert refused.get_json()["error"] == (
        "You already have 2 files (4 KB) uploaded but not yet added to evidence, and the limit "
        "is 2 files or 2 MB. Add your uploads to an evidence item to free space; uploads "
        "never added are cleared once they are 24 hours old")
    assert (count_rows(session, EvidenceFile), objects(people.enrolment1)) == (rows, stored)

    submit_item(client, people.enrolment1, [first], criterion_ids(people.enrolment1, 1))
    assert upload(client, people.enrolment1, PDF, "call-3.pdf").status_code == 200


def test_a_full_quota_of_bytes_is_refused_before_the_file_is_read(login, people, session, app):
    quota(app, files=50, size=len(PDF) + 100)
    client = login(people.learner1)
    assert upload(client, people.enrolment1, PDF, "one.pdf").status_code == 200
    stored = objects(people.enrolment1)
    refused = upload(client, people.enrolment1, PDF, "two.pdf")
    assert refused.status_code == 422
    assert "You already have 1 file (2 KB) uploaded but not yet added" in \
        refused.get_json()["error"]
    assert objects(people.enrolment1) == stored


def test_another_learner_has_a_quota_of_their_own(login, people, app):
    quota(app, files=1, size=10 * len(PDF))
    assert upload(login(people.learner1), people.enrolment1, PDF, "a.pdf").status_code == 200
    assert upload(login(people.learner2), people.enrolment2, PDF, "b.pdf").status_code == 200


UPLOADERS = 4
ALLOWED = 2


def test_parallel_uploads_of_one_learner_cannot_pass_the_quota_together(tmp_path, builtin_specs):
    """Four uploads at once against a quota of two: every upload passes the check before its
    bytes are read (none is recorded yet), so only the check under the lock keeps the limit."""
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        quota(app, files=ALLOWED, size=100 * 1024 ** 2)
        with app.app_context():
            people = make_people(db.session)
            enrolment, email = people.enrolment1, people.learner1.email
            db.session.commit()
            url = f"/enrolments/{enrolment.id}/uploads"
            before = objects(enrolment)
            db.session.remove()

        clients = []
        for _ in range(UPLOADERS):
            client = app.test_client()
            assert log_in(client, email).status_code == 302
            clients.append((client, csrf_token(client, "/catalogue/")))
        barrier = threading.Barrier(UPLOADERS, timeout=TIMEOUT)
        answers: list[object] = [None] * UPLOADERS

        def post(index):
            client, token = clients[index]
            try:
                barrier.wait()
                answers[index] = client.post(url, data=PDF * 200, headers={
                    "X-CSRFToken": token, "X-Filename": quote(f"part-{index}.pdf"),
                    "Content-Type": "application/octet-stream"})
            except BaseException as error:
                barrier.abort()
                answers[index] = error

        threads = [threading.Thread(target=post, args=(i,)) for i in range(UPLOADERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT * 2)

        codes = sorted(getattr(a, "status_code", a) for a in answers)
        assert codes == [200] * ALLOWED + [422] * (UPLOADERS - ALLOWED)
        assert all("not yet added to evidence" in a.get_json()["error"]
                   for a in answers if a.status_code == 422)
        with app.app_context():
            rows = db.session.scalars(sa.select(EvidenceFile)).all()
            assert len(rows) == ALLOWED
            # The refused uploads' objects went with their transactions.
            assert sorted(set(objects(enrolment)) - set(before)) == sorted(
                r.object_key for r in rows)
            db.session.remove()
