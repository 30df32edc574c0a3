"""Failures leave no record without its object, and no object without a record past a sweep."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.core.storage import ObjectStore
from portfolio.evidence import uploads
from portfolio.evidence.models import EvidenceFile
from portfolio.extensions import db, object_store
from tests.helpers.evidence import criterion_ids, submit_item, upload
from tests.helpers.queries import count_rows
from tests.helpers.samples import PDF
from tests.helpers.storage_server import start_test_store, storage_config_for


def test_storage_stopped_mid_test_refuses_the_upload_and_keeps_no_record(
        login, people, session, app, tmp_path):
    doomed = start_test_store(tmp_path / "doomed")
    original = app.extensions["object_store"]
    app.extensions["object_store"] = ObjectStore(storage_config_for(doomed))
    try:
        client = login(people.learner1)
        assert upload(client, people.enrolment1, PDF, "first.pdf").status_code == 200
        rows = count_rows(session, EvidenceFile)
        doomed.stop()
        response = upload(client, people.enrolment1, PDF, "second.pdf")
    finally:
        app.extensions["object_store"] = original
        doomed.stop()
    assert response.status_code == 503
    assert "not answering" in response.get_json()["error"]
    assert count_rows(session, EvidenceFile) == rows


def test_a_failed_commit_leaves_an_orphan_that_the_sweep_removes(
        login, people, session, app, monkeypatch):
    client = login(people.learner1)
    before = {k for k, _ in object_store().iter_objects("evidence/")}

    def failing_commit():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    monkeypatch.setattr(uploads, "_forget_objects", lambda store, keys: None)
    with pytest.raises(RuntimeError):
        upload(client, people.enrolment1, PDF, "lost.pdf")
    monkeypatch.undo()
    orphans = {k for k, _ in object_store().iter_objects("evidence/")} - before
    assert len(orphans) == 1
    assert not session.scalar(sa.select(EvidenceFile).where(
        EvidenceFile.object_key.in_(orphans)))

    # Younger than the grace period: kept (the upload may still be committing).
    uploads.sweep_objects(session, object_store(), dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    assert orphans <= {k for k, _ in object_store().iter_objects("evidence/")}
    swept = uploads.sweep_objects(session, object_store(),
                                   dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))
    assert swept.orphaned_objects >= 1
    assert not orphans & {k for k, _ in object_store().iter_objects("evidence/")}


def test_a_failed_commit_removes_the_objects_at_once_when_it_can(login, people, monkeypatch):
    client = login(people.learner1)
    before = {k for k, _ in object_store().iter_objects("evidence/")}
    monkeypatch.setattr(db.session, "commit", lambda: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        upload(client, people.enrolment1, PDF, "lost.pdf")
    monkeypatch.undo()
    assert {k for k, _ in object_store().iter_objects("evidence/")} == before


def test_a_database_that_fails_after_the_upload_removes_it_and_answers_json(
        login, people, session, monkeypatch):
    """The uploader reads JSON: a locked or vanished database is a message it can show, and the
    object already in the store goes."""
    client = login(people.learner1)
    before = {k for k, _ in object_store().iter_objects("evidence/")}
    rows = count_rows(session, EvidenceFile)

    def locked():
        raise sa.exc.OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(db.session, "commit", locked)
    response = upload(client, people.enrolment1, PDF, "locked.pdf")
    monkeypatch.undo()
    assert response.status_code == 503
    assert "nothing was saved" in response.get_json()["error"]
    assert {k for k, _ in object_store().iter_objects("evidence/")} == before
    assert count_rows(session, EvidenceFile) == rows


def test_no_database_transaction_is_held_while_a_file_streams(login, people, session,
                                                              monkeypatch):
    """A slow upload must not keep a pooled connection (or, on SQLite, a snapshot) for its whole
    length: the store is written with no transaction open, the row afterwards."""
    client = login(people.learner1)
    seen = []
    original = ObjectStore.put_stream

    def watched(store, *args, **kwargs):
        seen.append(db.session().in_transaction())
        return original(store, *args, **kwargs)

    monkeypatch.setattr(ObjectStore, "put_stream", watched)
    response = upload(client, people.enrolment1, PDF, "long.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert seen == [False]
    assert session.get(EvidenceFile, response.get_json()["id"]).size == len(PDF)


def test_the_sweep_removes_unattached_uploads_and_never_attached_files(login, people, session):
    client = login(people.learner1)
    kept = upload(client, people.enrolment1, PDF, "kept.pdf").get_json()["id"]
    submit_item(client, people.enrolment1, [kept], criterion_ids(people.enrolment1, 1))
    abandoned = upload(client, people.enrolment1, PDF, "abandoned.pdf").get_json()["id"]
    abandoned_key = session.get(EvidenceFile, abandoned).object_key
    kept_file = session.get(EvidenceFile, kept)

    future = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert uploads.drop_unattached_uploads(session, future) >= 1
    uploads.sweep_objects(session, object_store(), future)

    keys = {k for k, _ in object_store().iter_objects("evidence/")}
    assert session.get(EvidenceFile, abandoned) is None and abandoned_key not in keys
    assert kept_file.object_key in keys


def test_storage_cli(cli, monkeypatch):
    result = cli.invoke(args=["storage", "check"])
    assert result.exit_code == 0 and "reachable and writable" in result.output
    swept = cli.invoke(args=["storage", "sweep", "--grace", "3600"])
    assert swept.exit_code == 0 and "orphaned object(s)" in swept.output
