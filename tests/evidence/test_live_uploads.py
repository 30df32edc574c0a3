"""Uploads to a real ``portfolio serve`` while other things happen: a login during a slow upload,
two uploads of one learner at once, an upload whose enrolment goes while it streams, a phone that
loses its connection. Over HTTP with real threads, on a database of their own and the suite's S3
server: the cases the one-request-at-a-time test client cannot show."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import threading
import time

import boto3
import pytest
import sqlalchemy as sa

from portfolio.accounts.models import Enrolment
from portfolio.evidence.models import EvidenceFile
from portfolio.evidence.resumable import INCOMING_PREFIX, PART_SIZE
from portfolio.extensions import db
from tests.benchmarks.bench_upload_stream import MP4_HEADER
from tests.helpers.app import app_on_new_database
from tests.helpers.factories import make_people
from tests.helpers.live_server import Visitor, serving
from tests.helpers.storage_server import storage_config_for
from tests.helpers.streams import MiB, payload

#: Seconds any thread of a test may take.
TIMEOUT = 60


@pytest.fixture()
def live(tmp_path, builtin_specs, store):
    """A served app on a new database with make_people's centres; yields (server, app, ids)."""
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            ids = {"learner": people.learner1.email, "assessor": people.assessor1.email,
                   "enrolment": people.enrolment1.id}
            db.session.commit()
            url = db.engine.url.render_as_string(hide_password=False)
            db.session.remove()
        instance = tmp_path / "instance"
        instance.mkdir(mode=0o700)
        environment = {"PORTFOLIO_DATABASE_URL": url,
                       "PORTFOLIO_S3_ENDPOINT_URL": store.endpoint_url,
                       "PORTFOLIO_S3_BUCKET": store.bucket,
                       "PORTFOLIO_S3_ACCESS_KEY": store.access_key,
                       "PORTFOLIO_S3_SECRET_KEY": store.secret_key}
        with serving(instance, environment) as server:
            yield server, app, ids
            assert server.internal_errors() == []


def video(size: int, seed: str, sent: threading.Event | None = None, after: int = 0):
    """``size`` bytes sniffed as an MP4 video; sets ``sent`` once ``after`` bytes have gone."""
    sent_so_far = 0
    for chunk in itertools.chain([MP4_HEADER], payload(size - len(MP4_HEADER), seed)):
        yield chunk
        sent_so_far += len(chunk)
        if sent is not None and sent_so_far >= after:
            sent.set()


def in_thread(target) -> tuple[threading.Thread, dict]:
    """Run ``target`` in a started thread; its result (or exception) lands in the dict."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target()
        except BaseException as error:
            outcome["error"] = error
        outcome["finished"] = time.monotonic()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def stored_files(app, enrolment_id: int) -> list[EvidenceFile]:
    with app.app_context():
        files = list(db.session.scalars(sa.select(EvidenceFile).where(
            EvidenceFile.enrolment_id == enrolment_id)))
        db.session.remove()
        return files


def s3(store):
    config = storage_config_for(store)
    return boto3.client("s3", endpoint_url=config.endpoint_url,
                        aws_access_key_id=config.access_key,
                        aws_secret_access_key=config.secret_key, region_name="us-east-1")


def evidence_objects(store) -> set[str]:
    """The keys of the evidence objects, and of the unfinished multipart uploads, in the store
    (which earlier tests have used too)."""
    client = s3(store)
    objects = client.list_objects_v2(Bucket=store.bucket, Prefix="evidence/").get("Contents", [])
    uploads = client.list_multipart_uploads(Bucket=store.bucket, Prefix="evidence/").get(
        "Uploads", [])
    return {o["Key"] for o in objects} | {f"unfinished {u['Key']}" for u in uploads}


def test_a_login_while_an_upload_streams_neither_waits_for_it_nor_breaks_it(live, store):
    server, app, ids = live
    uploader = Visitor(server.port)
    assert uploader.log_in(ids["learner"]).status == 302
    size, halfway = 4 * MiB, threading.Event()
    thread, upload = in_thread(lambda: uploader.upload(
        ids["enrolment"], video(size, "login", halfway, MiB), size, "site-visit.mp4", MiB))
    assert halfway.wait(TIMEOUT)

    # The same learner on a phone, and an assessor: logins write (attempts, audit).
    logins = [Visitor(server.port).log_in(email) for email in (ids["learner"], ids["assessor"])]
    logged_in = time.monotonic()
    thread.join(TIMEOUT)

    assert [answer.status for answer in logins] == [302, 302]
    assert "error" not in upload, upload.get("error")
    assert upload["result"].status == 200, upload["result"].text
    assert logged_in < upload["finished"], "the logins waited for the upload to end"
    [stored] = stored_files(app, ids["enrolment"])
    assert stored.size == size
    assert s3(store).head_object(Bucket=store.bucket, Key=stored.object_key)[
        "ContentLength"] == size


def test_two_uploads_by_one_learner_at_once_both_succeed(live, store):
    server, app, ids = live
    first = Visitor(server.port)
    assert first.log_in(ids["learner"]).status == 302
    second = first.tab()
    size = 2 * MiB
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def send(visitor, name):
        barrier.wait()
        return visitor.upload(ids["enrolment"], video(size, name), size, f"{name}.mp4", MiB)

    started = [in_thread(lambda v=v, n=n: send(v, n))
               for v, n in ((first, "morning"), (second, "afternoon"))]
    for thread, _ in started:
        thread.join(TIMEOUT)

    answers = [outcome.get("result") or outcome.get("error") for _, outcome in started]
    assert [getattr(a, "status", a) for a in answers] == [200, 200]
    files = stored_files(app, ids["enrolment"])
    assert sorted(f.original_name for f in files) == ["afternoon.mp4", "morning.mp4"]
    assert len({json.loads(a.body)["id"] for a in answers}) == 2
    for stored in files:
        assert s3(store).head_object(Bucket=store.bucket, Key=stored.object_key)[
            "ContentLength"] == size


def test_an_upload_refused_after_its_object_is_stored_leaves_no_object(live, store):
    """The enrolment ends while its file streams (enrolments are never deleted): the row naming
    the stored object is refused under the enrolment lock, and the object goes with the
    rolled-back transaction."""
    server, app, ids = live
    uploader = Visitor(server.port)
    assert uploader.log_in(ids["learner"]).status == 302
    before = evidence_objects(store)
    size, halfway = 2 * MiB, threading.Event()
    thread, upload = in_thread(lambda: uploader.upload(
        ids["enrolment"], video(size, "gone", halfway, MiB), size, "gone.mp4", MiB))
    assert halfway.wait(TIMEOUT)
    with app.app_context():
        db.session.execute(sa.update(Enrolment).where(Enrolment.id == ids["enrolment"]).values(
            status="withdrawn", ended_at=dt.datetime.now(dt.UTC), ended_on=dt.date.today(),
            ended_reason="Left"))
        db.session.commit()
        db.session.remove()
    thread.join(TIMEOUT)

    answer = upload["result"]
    assert answer.status == 422, answer.text
    assert "This enrolment is withdrawn: its record is read-only." in answer.text
    assert stored_files(app, ids["enrolment"]) == []
    assert evidence_objects(store) == before


def test_a_connection_lost_mid_upload_leaves_nothing(live, store):
    """A phone losing its signal after a first part reached the store (parts are 8 MiB)."""
    server, app, ids = live
    uploader = Visitor(server.port)
    assert uploader.log_in(ids["learner"]).status == 302
    before = evidence_objects(store)
    announced, sent = 20 * MiB, 10 * MiB
    answer = uploader.upload(ids["enrolment"],
                             itertools.islice(video(announced, "lost"), sent // (64 * 1024)),
                             announced, "lost.mp4")
    assert answer.status == 0

    # The server notices the short body as it reads it: wait for it to finish the request.
    deadline = time.monotonic() + TIMEOUT
    while "POST /enrolments/" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stored_files(app, ids["enrolment"]) == []
    assert evidence_objects(store) == before


def test_a_retry_after_a_dropped_connection_sends_only_the_missing_parts(live, store):
    """A 30 MiB video in 8 MiB parts; the signal goes halfway through part 3. The retry asks
    which parts arrived and sends only parts 3 and 4; the stored file is the whole video."""
    server, app, ids = live
    learner = Visitor(server.port)
    assert learner.log_in(ids["learner"]).status == 302
    size, part_size = 30 * MiB, PART_SIZE
    data = b"".join(video(size, "resumed"))
    base = f"/enrolments/{ids['enrolment']}/uploads/resumable"

    def send_part(visitor, number: int, cut_after: int | None = None):
        part = data[(number - 1) * part_size:number * part_size]
        sent = part if cut_after is None else part[:cut_after]
        answer = visitor.stream("PUT", f"{base}/{ticket}/parts/{number}", [sent], len(part))
        return answer, len(sent)

    announced = json.dumps({"size": size}).encode()
    begun = learner.stream("POST", base, [announced], len(announced),
                           {"Content-Type": "application/json"})
    assert begun.status == 201, begun.text
    ticket = json.loads(begun.body)["ticket"]
    first_try = [send_part(learner, 1), send_part(learner, 2), send_part(learner, 3, MiB)]
    assert [answer.status for answer, _ in first_try] == [200, 200, 0]

    # Another learner cannot add to the upload, whichever enrolment they name.
    intruder = Visitor(server.port)
    assert intruder.log_in("learner2@north.test").status == 302
    assert send_part(intruder, 3)[0].status == 404

    # The retry, as after the phone finds its signal again.
    done = json.loads(learner.get(f"{base}/{ticket}").body)
    assert done["parts"] == [1, 2] and done["received"] == 2 * part_size
    retry = [send_part(learner, number) for number in range(1, 5) if number not in done["parts"]]
    assert [answer.status for answer, _ in retry] == [200, 200]
    assert sum(sent for _, sent in retry) == size - 2 * part_size
    # A part sent twice (its answer lost) is harmless.
    assert send_part(learner, 4)[0].status == 200
    finished = learner.stream("POST", f"{base}/{ticket}/finish", [], 0,
                              {"X-Filename": "site-visit.mp4"})
    assert finished.status == 200, finished.text

    [stored] = stored_files(app, ids["enrolment"])
    expected = hashlib.sha256(data).hexdigest()
    assert (stored.size, stored.sha256, stored.original_name) == (size, expected,
                                                                  "site-visit.mp4")
    stored_body = s3(store).get_object(Bucket=store.bucket, Key=stored.object_key)["Body"].read()
    assert hashlib.sha256(stored_body).hexdigest() == expected
    assert not any(INCOMING_PREFIX in key for key in evidence_objects(store))
