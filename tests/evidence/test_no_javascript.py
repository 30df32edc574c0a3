"""Adding evidence without JavaScript: the files come in the form itself, yet they stream to the
store with no database transaction open, and the form failing removes them again."""

from __future__ import annotations

import io
import time

import sqlalchemy as sa

from portfolio.accounts.models import User
from portfolio.core.storage import ObjectStore
from portfolio.evidence.models import EvidenceFile, EvidenceItem
from portfolio.extensions import db, object_store
from tests.helpers.app import app_on_new_database
from tests.helpers.evidence import criterion_ids
from tests.helpers.factories import make_people
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token, log_in, text

#: How long the concurrent writer may wait: far less than the busy timeout a held transaction
#: would make it wait.
WRITER_WAIT_MS = 2_000


def form_with_files(client, enrolment_id, criteria, files, **fields):
    return client.post(f"/enrolments/{enrolment_id}/evidence/new", data={
        "title": "Reflective account", "evidence_date": "2026-10-02",
        "method": "reflective_account", "setting": "workplace", "declaration": "y",
        "criteria": criteria,
        "files": [(io.BytesIO(data), name) for name, data in files],
        "csrf_token": csrf_token(client, "/catalogue/"), **fields},
        content_type="multipart/form-data")


def test_a_slow_upload_in_the_form_holds_no_transaction(tmp_path, builtin_specs, monkeypatch):
    """While each file streams, another connection writes at once: on SQLite any open
    transaction of the request would hold the write lock and make it wait."""
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            enrolment_id, learner_id = people.enrolment1.id, people.learner1.id
            criteria = criterion_ids(people.enrolment1, 1)
            db.session.commit()
            client = app.test_client()
            assert log_in(client, people.learner1.email).status_code == 302
            db.session.remove()
        writes = []
        original = ObjectStore.put_stream

        def slow_put_stream(store, *args, **kwargs):
            in_transaction = db.session().in_transaction()
            started = time.monotonic()
            try:
                with db.engine.connect() as other:
                    if other.dialect.name == "sqlite":
                        other.exec_driver_sql(f"PRAGMA busy_timeout = {WRITER_WAIT_MS}")
                    other.execute(sa.update(User).where(User.id == learner_id)
                                  .values(name="Written meanwhile"))
                    other.commit()
                writes.append((in_transaction, "written", time.monotonic() - started))
            except sa.exc.OperationalError as error:
                writes.append((in_transaction, str(error.orig), time.monotonic() - started))
            time.sleep(0.2)  # the slow part of a large upload
            return original(store, *args, **kwargs)

        monkeypatch.setattr(ObjectStore, "put_stream", slow_put_stream)
        response = form_with_files(client, enrolment_id, criteria, [
            ("one.txt", b"I handled a difficult call.\n"), ("two.txt", b"And wrote it up.\n")])
        monkeypatch.undo()

        assert response.status_code == 302, text(response)
        assert [(held, outcome) for held, outcome, _ in writes] == [(False, "written")] * 2
        assert all(waited < 1 for _, _, waited in writes)
        with app.app_context():
            item = db.session.scalar(sa.select(EvidenceItem))
            assert sorted(f.original_name for f in item.files) == ["one.txt", "two.txt"]
            db.session.remove()


def objects(enrolment) -> list[str]:
    return [key for key, _ in object_store().iter_objects(f"evidence/{enrolment.id}/")]


def test_a_form_that_then_fails_removes_its_files(login, people, session):
    client = login(people.learner1)
    rows, stored = count_rows(session, EvidenceFile), objects(people.enrolment1)
    response = form_with_files(client, people.enrolment1.id, [],
                               [("reflection.txt", b"I handled a difficult call.\n")])
    assert response.status_code == 200
    assert "Choose at least one assessment criterion" in text(response)
    assert (count_rows(session, EvidenceFile), objects(people.enrolment1)) == (rows, stored)


def test_a_refused_file_removes_the_ones_stored_before_it(login, people, session):
    client = login(people.learner1)
    rows, stored = count_rows(session, EvidenceFile), objects(people.enrolment1)
    response = form_with_files(client, people.enrolment1.id,
                               criterion_ids(people.enrolment1, 1), [
        ("reflection.txt", b"I handled a difficult call.\n"),
        ("page.txt", b"<html><script>alert(1)</script></html>")])
    assert response.status_code == 200
    assert "page.txt is a web page" in text(response)
    assert (count_rows(session, EvidenceFile), objects(people.enrolment1)) == (rows, stored)
