"""``portfolio backup create`` and ``restore`` on the embedded default, with a real SeaweedFS and
real uploads: a backup taken while learners upload restores into an empty instance with every
file intact, and a damaged backup is refused before anything is written."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import threading
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portfolio import create_app
from portfolio.config import Settings
from portfolio.core.backup.manifest import MANIFEST, MANIFEST_DIGEST
from portfolio.evidence import integrity
from portfolio.evidence.models import EvidenceFile
from portfolio.extensions import db, object_store
from tests.helpers.app import migrate_with_catalogue
from tests.helpers.evidence import criterion_ids, submit_item, upload
from tests.helpers.factories import make_people
from tests.helpers.instances import dispose, embedded_app, embedded_settings, serving_store
from tests.helpers.samples import PDF
from tests.helpers.web import log_in

UPLOADERS = 3
FILLERS = 400
#: Seconds any wait in these tests may take.
TIMEOUT = 60


def _live_instance(directory, specs):
    """An embedded-default instance, migrated, with the catalogue and two learners; returns
    its settings, app, and (email, enrolment, criteria) of each learner."""
    settings = embedded_settings(directory)
    app = embedded_app(settings)
    with app.app_context():
        migrate_with_catalogue(specs)
        people = make_people(db.session)
        learners = [(people.learner1.email, SimpleNamespace(id=people.enrolment1.id),
                     criterion_ids(people.enrolment1, 1)),
                    (people.learner2.email, SimpleNamespace(id=people.enrolment2.id),
                     criterion_ids(people.enrolment2, 1))]
        db.session.commit()
    return settings, app, learners


def _add_evidence(client, enrolment, criteria, label: str, copies: int) -> int:
    response = upload(client, enrolment, PDF + f"%{label}\n".encode() * copies, f"{label}.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)
    uploaded = response.get_json()["id"]
    response = submit_item(client, enrolment, [uploaded], criteria, title=f"Log {label}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return uploaded


def _invoke(app, *arguments):
    return app.test_cli_runner().invoke(args=["backup", *arguments])


def test_a_backup_taken_during_uploads_restores_every_file_into_an_empty_instance(
        tmp_path, builtin_specs):
    settings, app, learners = _live_instance(tmp_path / "live", builtin_specs.values())
    finished: list[int] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def uploader(number):
        email, enrolment, criteria = learners[number % len(learners)]
        client = app.test_client()
        try:
            assert log_in(client, email).status_code == 302
            count = 0
            while not stop.is_set():
                count += 1
                finished.append(_add_evidence(client, enrolment, criteria,
                                              f"{number}-{count}", count % 40 + 1))
        except BaseException as error:
            failures.append(error)

    def wait_for(count):
        deadline = time.monotonic() + TIMEOUT
        while len(finished) < count and not failures and time.monotonic() < deadline:
            time.sleep(0.05)

    backup = tmp_path / "backup"
    with serving_store(settings):
        with app.app_context():
            # Objects no row names (the sweep's orphans), so that copying the objects takes long
            # enough for uploads to finish while it runs.
            for number in range(FILLERS):
                object_store().put_bytes(f"evidence/0/filler-{number}", bytes(64 * 1024),
                                         "application/octet-stream")
        threads = [threading.Thread(target=uploader, args=(n,)) for n in range(UPLOADERS)]
        for thread in threads:
            thread.start()
        try:
            wait_for(10)
            before = list(finished)
            result = _invoke(app, "create", str(backup))
            during = len(finished) - len(before)
            wait_for(len(finished) + UPLOADERS)
        finally:
            stop.set()
            for thread in threads:
                thread.join(TIMEOUT)
    dispose(app)
    assert failures == []
    assert result.exit_code == 0, result.output
    assert "Backed up the database (revision " in result.output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    assert during > 0, "no upload finished while the backup ran: the test proved nothing"

    target = embedded_settings(tmp_path / "restored")
    fresh = embedded_app(target)
    result = _invoke(fresh, "restore", str(backup))
    dispose(fresh)
    assert result.exit_code == 0, result.output
    assert "object(s), each read back with its SHA-256 intact" in result.output

    restored = embedded_app(target)  # built again: the secrets it reads were restored
    assert restored.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    with serving_store(target), restored.app_context():
        rows = db.session.scalars(sa.select(EvidenceFile)).all()
        assert {row.id for row in rows} >= set(before)
        scrub = integrity.verify_store(db.session, object_store())
        assert scrub.ok, [(d.key, d.problem) for d in scrub.damaged]
        assert scrub.checked_files == len(rows)
        shown = next(row for row in rows
                     if row.item_id and row.enrolment_id == learners[0][1].id)
        item_id, title = shown.item_id, f"Log {shown.original_name[:-4]}"
        client = restored.test_client()
        assert log_in(client, learners[0][0]).status_code == 302
        page = client.get(f"/evidence/{item_id}")
        assert page.status_code == 200
        assert title in page.get_data(as_text=True)
    dispose(restored)


@pytest.fixture(scope="module")
def pristine_backup(tmp_path_factory, builtin_specs):
    """A backup of an instance holding a few files, made once for the refusal tests."""
    directory = tmp_path_factory.mktemp("backups")
    settings, app, learners = _live_instance(directory / "live", builtin_specs.values())
    email, enrolment, criteria = learners[0]
    with serving_store(settings):
        client = app.test_client()
        assert log_in(client, email).status_code == 302
        for number in range(3):
            _add_evidence(client, enrolment, criteria, f"file-{number}", number + 1)
        result = _invoke(app, "create", str(directory / "backup"))
    dispose(app)
    assert result.exit_code == 0, result.output
    return SimpleNamespace(path=directory / "backup", settings=settings)


def _rewrite_manifest(backup, change):
    data = json.loads((backup / MANIFEST).read_text())
    change(data)
    (backup / MANIFEST).write_text(json.dumps(data))
    (backup / MANIFEST_DIGEST).write_text(
        f"{hashlib.sha256((backup / MANIFEST).read_bytes()).hexdigest()}  {MANIFEST}\n")


def _first_object(backup):
    data = json.loads((backup / MANIFEST).read_text())
    return backup / next(e["path"] for e in data["entries"] if e["kind"] == "object")


def _flip_first_byte(path):
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_manifest(backup, **changes):
    manifest = json.loads((backup / MANIFEST).read_text())
    assert all(key in manifest for key in changes)
    (backup / MANIFEST).write_text(json.dumps({**manifest, **changes}))


DAMAGE = {
    "a manifest edited": (
        lambda b: _edit_manifest(b, bucket="another-bucket"),
        "is damaged: its SHA-256 is not the one"),
    "no manifest digest": (lambda b: (b / MANIFEST_DIGEST).unlink(), "is not a complete backup"),
    "an object changed in place": (lambda b: _flip_first_byte(_first_object(b)),
                                   "is not the file backed up"),
    "an object removed": (lambda b: _first_object(b).unlink(), "is missing"),
    "the database grown": (lambda b: (b / "database.sqlite3").write_bytes(
        (b / "database.sqlite3").read_bytes() + b"x"), "has "),
    "a path outside the backup": (
        lambda b: _rewrite_manifest(b, lambda d: d["entries"][0].update(path="../../x")),
        "which a backup cannot hold"),
    "an unknown secret": (
        lambda b: _rewrite_manifest(b, lambda d: [e.update(name="../../.bashrc")
                                                  for e in d["entries"]
                                                  if e["kind"] == "secret"]),
        "names unknown secrets"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_backup_is_refused_before_anything_is_written(
        pristine_backup, tmp_path, damage):
    backup = tmp_path / "backup"
    shutil.copytree(pristine_backup.path, backup)
    spoil, message = DAMAGE[damage]
    spoil(backup)
    target = embedded_settings(tmp_path / "instance")
    app = embedded_app(target)
    before = sorted(p.relative_to(target.instance_path) for p in target.instance_path.rglob("*"))
    secret = (target.instance_path / "secret_key").read_text()

    result = _invoke(app, "restore", str(backup))

    dispose(app)
    assert result.exit_code == 1
    assert message in result.output
    assert sorted(p.relative_to(target.instance_path)
                  for p in target.instance_path.rglob("*")) == before
    assert (target.instance_path / "secret_key").read_text() == secret


def test_an_instance_in_use_is_not_overwritten_without_force(pristine_backup):
    app = embedded_app(pristine_backup.settings)
    refused = _invoke(app, "restore", str(pristine_backup.path))
    forced = _invoke(app, "restore", "--force", str(pristine_backup.path))
    dispose(app)
    assert refused.exit_code == 1
    assert "already has a database" in refused.output
    assert "--force" in refused.output
    assert forced.exit_code == 0, forced.output


def test_a_bucket_holding_objects_is_not_added_to_without_force(pristine_backup, tmp_path):
    target = embedded_settings(tmp_path / "instance")
    app = embedded_app(target)
    with serving_store(target), app.app_context():
        object_store().put_bytes("evidence/1/someone-elses", b"data", "text/plain")
    result = _invoke(app, "restore", str(pristine_backup.path))
    dispose(app)
    assert result.exit_code == 1
    assert "already holds objects" in result.output
    assert not (target.instance_path / "portfolio.sqlite3").exists()


def test_a_backup_goes_only_into_a_new_or_empty_directory(pristine_backup):
    app = embedded_app(pristine_backup.settings)
    result = _invoke(app, "create", str(pristine_backup.path))
    dispose(app)
    assert result.exit_code == 1
    assert "is not an empty directory" in result.output


def test_a_postgresql_database_is_left_to_pg_dump(tmp_path):
    app = create_app(Settings(instance_path=tmp_path, s3_endpoint_url="http://127.0.0.1:1",
                              database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"),
                     TESTING=True)
    result = _invoke(app, "create", str(tmp_path / "backup"))
    assert result.exit_code == 1
    assert "back it up with its own tool (pg_dump for PostgreSQL)" in result.output
    assert not (tmp_path / "backup").exists()
