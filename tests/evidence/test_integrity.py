"""``portfolio storage verify`` re-reads stored files from a real SeaweedFS and names every file
that is missing or altered, with its learner, its item and the decisions that relied on it."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portfolio.core.storage import ObjectStore, StorageConfig
from portfolio.evidence import integrity
from portfolio.evidence.models import EvidenceFile
from portfolio.extensions import object_store
from tests.helpers.assessment import decide
from tests.helpers.evidence import criterion_ids, submit_item, upload
from tests.helpers.samples import PDF, jpeg_with_location
from tests.helpers.storage_server import free_port


def _evidence(login, people, session, count):
    """``count`` items of one distinct PDF each, the first criterion of each judged met."""
    client = login(people.learner1)
    criteria = criterion_ids(people.enrolment1, count)
    items = []
    for n in range(count):
        uploaded = upload(client, people.enrolment1, PDF + f"%{n}\n".encode() * (n + 1),
                          f"log-{n}.pdf").get_json()["id"]
        assert submit_item(client, people.enrolment1, [uploaded], [criteria[n]],
                           title=f"Call log {n}").status_code == 302
        file = session.get(EvidenceFile, uploaded)
        items.append(file.item)
        decide(session, file.item, people.assessor1, [criteria[n]])
        # The next upload ends the session's transaction, as the view does.
        session.commit()
    return items


def _verify(cli, *arguments):
    return cli.invoke(args=["storage", "verify", *arguments])


def test_a_clean_store_passes(login, people, session, cli):
    _evidence(login, people, session, 2)
    photo = upload(login(people.learner1), people.enrolment1, jpeg_with_location(), "a.jpg")
    assert photo.status_code == 200
    session.commit()

    result = _verify(cli)

    assert result.exit_code == 0, result.output
    assert "Checked 3 file(s) and 2 derivative(s): all intact" in result.output
    one_at_a_time = integrity.verify_store(session, object_store(), threads=1)
    assert one_at_a_time.ok
    files = session.scalars(sa.select(EvidenceFile)).all()
    assert one_at_a_time.bytes_read == sum(object_store().head(key)["size"]
                                           for file in files for key in file.object_keys)


def test_missing_overwritten_and_truncated_files_are_named_with_who_relied_on_them(
        login, people, session, cli):
    deleted, overwritten, truncated, intact = _evidence(login, people, session, 4)
    store = object_store()
    store.delete(deleted.files[0].object_key)
    same_size = bytes(overwritten.files[0].size)
    store.put_bytes(overwritten.files[0].object_key, same_size, "application/pdf")
    store.put_bytes(truncated.files[0].object_key, PDF[:100], "application/pdf")

    result = _verify(cli)

    assert result.exit_code == 1, result.output
    reports = _reports(result.output)
    assert set(reports) == {item.files[0].object_key for item in (deleted, overwritten, truncated)}
    assert "missing from the store" in reports[deleted.files[0].object_key]
    assert "altered: SHA-256" in reports[overwritten.files[0].object_key]
    assert f"100 bytes where {truncated.files[0].size} were stored" in (
        reports[truncated.files[0].object_key])
    for item in (deleted, overwritten, truncated):
        report = reports[item.files[0].object_key]
        assert "learner: Learner1 <learner1@north.test>" in report
        assert f"item {item.id} '{item.title}'" in report
        assert re.search(r"decision \d+: unit \S+ criterion \S+ Met by Assessor1 on "
                         r"\d{4}-\d\d-\d\d judged this file", report)
    assert "3 missing or altered" in result.output
    assert intact.files[0].object_key not in result.output


def test_a_damaged_upload_not_yet_attached_is_named_as_such(login, people, session, cli):
    client = login(people.learner1)
    uploaded = upload(client, people.enrolment1, PDF, "draft.pdf").get_json()["id"]
    session.commit()
    key = session.get(EvidenceFile, uploaded).object_key
    object_store().delete(key)

    result = _verify(cli)

    assert result.exit_code == 1
    assert "an upload not yet attached to an item" in _reports(result.output)[key]


def test_a_missing_derivative_is_reported(login, people, session, cli):
    photo = upload(login(people.learner1), people.enrolment1, jpeg_with_location(), "a.jpg")
    session.commit()
    file = session.get(EvidenceFile, photo.get_json()["id"])
    object_store().delete(file.thumbnail_key)

    result = _verify(cli)

    assert result.exit_code == 1
    assert "a derivative" in _reports(result.output)[file.thumbnail_key]


def test_sample_checks_that_many_files(login, people, session, cli):
    _evidence(login, people, session, 4)

    result = _verify(cli, "--sample", "3")

    assert result.exit_code == 0, result.output
    assert "Checked 3 file(s)" in result.output


def test_a_sample_finds_damage_among_the_files_it_picks(login, people, session):
    items = _evidence(login, people, session, 3)
    for item in items:
        object_store().delete(item.files[0].object_key)

    scrub = integrity.verify_store(session, object_store(), sample=2)

    assert scrub.checked_files == 2
    assert len(scrub.damaged) == 2


def test_a_store_that_is_down_is_said_so_with_status_2(login, people, session, cli, app):
    _evidence(login, people, session, 1)
    app.extensions["object_store"] = ObjectStore(StorageConfig(
        endpoint_url=f"http://127.0.0.1:{free_port()}", bucket="portfolio", access_key="a",
        secret_key="b"))

    result = _verify(cli)

    assert result.exit_code == 2
    assert "Cannot verify the store: " in result.output
    assert "Cannot connect to the object store" in result.output


def _reports(output: str) -> dict[str, str]:
    """Each reported key with its indented lines."""
    reports: dict[str, str] = {}
    key = None
    for line in output.splitlines():
        if line.startswith("  ") and key:
            reports[key] += line + "\n"
        elif ": " in line and not line.startswith("Checked"):
            key, problem = line.split(": ", 1)
            reports[key] = problem + "\n"
    return reports

