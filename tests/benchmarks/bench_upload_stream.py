"""Uploading a large file through the app to the embedded store: the app process's peak memory
growth, and its throughput against a direct boto3 ``upload_fileobj`` to the same store.

The app runs in its own process (so its memory is its own), served by Werkzeug; the file is sent
by a client in this process, streamed from disk. Size: PORTFOLIO_BENCH_UPLOAD_MB (default 1024).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import boto3

from tests.helpers.storage_server import start_test_store, storage_config_for
from tests.helpers.web import token_in

SERVER = r"""
import datetime as dt, sys
from flask_migrate import upgrade
from werkzeug.serving import make_server
from portfolio import create_app
from portfolio.accounts import services as accounts
from portfolio.accounts.models import Centre
from portfolio.catalogue import services as catalogue
from portfolio.extensions import db

app = create_app()
with app.app_context():
    upgrade()
    for spec in catalogue.load_builtin_specs():
        catalogue.import_spec(db.session, spec)
    centre = Centre(name="Bench")
    db.session.add(centre); db.session.flush()
    people = {r: accounts.create_user(db.session, centre, accounts.NewUser(
        f"{r}@bench.example.org", r, "bench-password", (r,)), None)
        for r in ("learner", "assessor", "iqa")}
    version = catalogue.find_version(db.session, "600/1636/X")
    enrolment = accounts.enrol(db.session, centre, accounts.NewEnrolment(
        people["learner"].id, version.id, "BENCH-1", dt.date(2026, 9, 1), dt.date(2027, 9, 1),
        people["assessor"].id, people["iqa"].id), None)
    db.session.commit()
    enrolment_id = enrolment.id
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, enrolment_id, flush=True)
server.serve_forever()
"""


# An ISO-BMFF "ftyp" box, so the upload is sniffed as an MP4 video.
MP4_HEADER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
USER_AGENT = "portfolio-bench"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class _PeakSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, _rss_kib(self.pid))
            time.sleep(0.01)


def _write_file(path: Path, megabytes: int) -> None:
    block = os.urandom(8 * 1024 * 1024)
    with open(path, "wb") as handle:
        handle.write(MP4_HEADER)
        for i in range(megabytes // 8):
            # Vary every block so the store cannot deduplicate it.
            handle.write(i.to_bytes(8, "big") + block[8:])


def run():
    megabytes = int(os.environ.get("PORTFOLIO_BENCH_UPLOAD_MB", "1024"))
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        store = start_test_store(root / "objects")
        try:
            yield from _measure(root, store, megabytes)
        finally:
            store.stop()


def _measure(root: Path, store, megabytes: int):
    data = root / "upload.bin"
    _write_file(data, megabytes)
    size = data.stat().st_size

    config = storage_config_for(store)
    client = boto3.client("s3", endpoint_url=config.endpoint_url,
                          aws_access_key_id=config.access_key,
                          aws_secret_access_key=config.secret_key, region_name="us-east-1")
    start = time.perf_counter()
    with open(data, "rb") as handle:
        client.upload_fileobj(handle, store.bucket, "bench/direct")
    direct = size / (time.perf_counter() - start)

    environment = {**os.environ, "PORTFOLIO_INSTANCE_PATH": str(root / "instance"),
                   "PORTFOLIO_S3_ENDPOINT_URL": store.endpoint_url,
                   "PORTFOLIO_S3_BUCKET": store.bucket,
                   "PORTFOLIO_S3_ACCESS_KEY": store.access_key,
                   "PORTFOLIO_S3_SECRET_KEY": store.secret_key}
    server = subprocess.Popen([sys.executable, "-c", SERVER], env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port, enrolment_id = (int(v) for v in server.stdout.readline().split())
        cookie, token = _log_in(port)
        baseline = _rss_kib(server.pid)
        sampler = _PeakSampler(server.pid)
        sampler.start()
        start = time.perf_counter()
        status, body = _upload(port, enrolment_id, cookie, token, data, size)
        elapsed = time.perf_counter() - start
        sampler.running = False
        sampler.join()
    finally:
        server.terminate()
        server.wait(10)
    if status != 200:
        raise RuntimeError(f"upload failed: {status} {body[:200]!r}")
    through_app = size / elapsed
    yield (f"upload of {size / 2**20:,.0f} MiB through the app (targets: memory growth < 100 MB, "
           f"throughput >= 70% of direct boto3):")
    yield (f"  app process peak RSS growth {(sampler.peak - baseline) / 1024:.1f} MiB "
           f"(baseline {baseline / 1024:.0f} MiB, peak {sampler.peak / 1024:.0f} MiB)")
    yield (f"  through the app {through_app / 2**20:.0f} MiB/s, direct upload_fileobj "
           f"{direct / 2**20:.0f} MiB/s: {through_app / direct:.0%} of direct")


def _log_in(port: int) -> tuple[str, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    base = f"http://127.0.0.1:{port}"
    page = opener.open(f"{base}/login").read().decode()
    token = token_in(page)
    form = urllib.parse.urlencode({"email": "learner@bench.example.org",
                                   "password": "bench-password", "csrf_token": token}).encode()
    opener.open(f"{base}/login", form)
    page = opener.open(f"{base}/catalogue/").read().decode()
    token = token_in(page)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, token


def _upload(port, enrolment_id, cookie, token, path: Path, size: int):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.blocksize = 1024 * 1024
    with open(path, "rb") as handle:
        connection.request("POST", f"/enrolments/{enrolment_id}/uploads", body=handle, headers={
            "Cookie": cookie, "X-CSRFToken": token, "User-Agent": USER_AGENT, "X-Filename": "recording.mp4",
            "Content-Type": "application/octet-stream", "Content-Length": str(size)})
        response = connection.getresponse()
        return response.status, response.read()
