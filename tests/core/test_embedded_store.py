"""The embedded SeaweedFS (``weed mini``): its ports, its stop, its credentials, its restart
after a crash, the orphan of a killed owner and the space it gives back. Each test starts and
stops its own server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from portfolio.core.embedded_store import EmbeddedStore, running_store, vacuum
from portfolio.core.storage import ObjectStore, StorageConfig, StorageError
from tests.helpers.storage_server import free_port, start_test_store, storage_config_for
from tests.helpers.streams import GeneratedStream, MiB, payload

ROOT = Path(__file__).resolve().parents[2]


def weed_running(pid: int) -> bool:
    try:
        return b"weed" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False


def test_a_stopped_store_refuses_writes_and_leaves_no_process(tmp_path):
    port = free_port()
    with start_test_store(tmp_path / "s3", s3_port=port) as embedded:
        assert embedded.endpoint_url == f"http://127.0.0.1:{port}"
        store = ObjectStore(storage_config_for(embedded))
        store.put_bytes("before", b"x", "text/plain")
        pid = embedded.pid
        assert weed_running(pid)

    assert not weed_running(pid)
    assert embedded.pid is None
    with pytest.raises(StorageError, match="Cannot connect to the object store"):
        store.put_bytes("after", b"x", "text/plain")
    with pytest.raises(StorageError, match="Could not store 'after'"):
        store.put_stream("after", GeneratedStream(payload(MiB)), "text/plain")
    embedded.stop()


def test_a_taken_s3_port_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StorageError, match=f"Port {port} on 127.0.0.1 is taken"):
            start_test_store(tmp_path / "s3", s3_port=port)


def test_the_embedded_store_needs_credentials(tmp_path):
    with pytest.raises(StorageError, match="needs an access key and a secret key"):
        EmbeddedStore(tmp_path, access_key="portfolio", secret_key="")


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_killed_store_is_restarted_on_its_ports_and_keeps_its_objects(tmp_path):
    with start_test_store(tmp_path / "s3") as embedded:
        store = ObjectStore(storage_config_for(embedded))
        store.put_bytes("before", b"kept", "text/plain")
        first, ports = embedded.pid, dict(embedded.ports)

        os.kill(first, signal.SIGKILL)
        wait_for(lambda: embedded.restarts == 1)

        assert embedded.running and embedded.pid != first and embedded.ports == ports
        store.put_bytes("after", b"new", "text/plain")
        assert store.exists("before") and store.exists("after")
        assert json.loads(embedded.state_path.read_text())["pid"] == embedded.pid
        log = embedded.log_path.read_text()
        assert log.count("portfolio starts weed") == 2
    assert not weed_running(embedded.pid or first)
    assert not embedded.state_path.exists()


def volume_bytes(data_dir: Path, suffix: str = "dat") -> int:
    return sum(path.stat().st_size for path in data_dir.rglob(f"*.{suffix}"))


def test_vacuum_gives_back_the_space_of_deleted_objects(tmp_path):
    assert vacuum(tmp_path / "nothing-runs-here") is False
    with start_test_store(tmp_path / "s3") as embedded:
        store = ObjectStore(storage_config_for(embedded))
        keys = [f"gone/{index}" for index in range(4)]
        for key in keys:
            store.put_bytes(key, os.urandom(2 * MiB), "application/octet-stream")
        store.put_bytes("kept", b"kept", "text/plain")
        full, index = volume_bytes(embedded.data_dir), volume_bytes(embedded.data_dir, "idx")
        store.delete_many(keys)
        # The filer passes deletions on to the volumes a moment later; each adds a tombstone
        # to the volume's index.
        wait_for(lambda: volume_bytes(embedded.data_dir, "idx") >= index + 4 * 16)
        assert volume_bytes(embedded.data_dir) >= full, "deleting alone frees nothing"

        assert vacuum(embedded.data_dir) is True

        assert volume_bytes(embedded.data_dir) < full - 7 * MiB
        assert store.exists("kept") and not store.exists(keys[0])


class Serve:
    """``portfolio serve`` in a process of its own on an instance folder."""

    def __init__(self, environment: dict, port: int):
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from portfolio.cli import main; main()", "serve",
             "--port", str(port)],
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        self.output: list[str] = []
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith("Serving on"):
                break
        assert self.process.poll() is None, "".join(self.output)


def test_a_store_orphaned_by_a_killed_serve_is_stopped_by_the_next_serve(tmp_path):
    instance = tmp_path / "instance"
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("PORTFOLIO_")}
    environment.update(PORTFOLIO_INSTANCE_PATH=str(instance),
                       PORTFOLIO_EMBEDDED_S3_PORT=str(free_port()))
    subprocess.run([sys.executable, "-c", "from portfolio.cli import main; main()", "db",
                    "upgrade"], cwd=ROOT, env=environment, check=True, capture_output=True,
                   timeout=120)
    objects = instance / "objects"
    first = Serve(environment, free_port())
    try:
        orphan = running_store(objects)["pid"]
        first.process.kill()
        first.process.wait()
        assert weed_running(orphan), "weed outlives a killed serve"

        second = Serve(environment, free_port())
        try:
            assert not weed_running(orphan)
            assert running_store(objects)["pid"] != orphan
            page = urllib.request.urlopen(f"http://127.0.0.1:{second.port}/login", timeout=10)
            assert page.status == 200
            store = ObjectStore(StorageConfig(
                endpoint_url=f"http://127.0.0.1:{environment['PORTFOLIO_EMBEDDED_S3_PORT']}",
                bucket="portfolio", access_key="portfolio",
                secret_key=(instance / "s3_secret_key").read_text().strip()))
            store.put_bytes("evidence/after-the-crash", b"kept", "text/plain")
            sweep = subprocess.run(
                [sys.executable, "-c", "from portfolio.cli import main; main()", "storage",
                 "sweep"], cwd=ROOT, env=environment, capture_output=True, text=True,
                timeout=120)
            assert "Compacted the embedded store's volumes" in sweep.stdout, sweep.stderr
        finally:
            second.process.terminate()
            second.process.wait(timeout=30)
        assert running_store(objects) is None
    finally:
        first.process.kill()
    log = (objects / "weed.log").read_text()
    assert log.count("portfolio starts weed") == 2
    assert "goroutine" not in log, "no Go stack trace (a second weed on a locked folder)"


def test_a_stale_record_naming_another_program_is_dropped_and_that_program_spared(tmp_path):
    """The pid in a record left by a crash may since belong to anything: only a weed on this
    data folder is stopped."""
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        data_dir = tmp_path / "s3"
        data_dir.mkdir()
        (data_dir / "weed.json").write_text(json.dumps(
            {"pid": bystander.pid, "binary": "weed", "ports": {}}))
        assert running_store(data_dir) is None
        with start_test_store(data_dir) as embedded:
            assert bystander.poll() is None
            assert json.loads(embedded.state_path.read_text())["pid"] == embedded.pid
    finally:
        bystander.kill()
        bystander.wait()


def test_a_record_naming_the_weed_of_another_folder_leaves_that_store_running(tmp_path):
    with start_test_store(tmp_path / "other") as other:
        data_dir = tmp_path / "s3"
        data_dir.mkdir()
        (data_dir / "weed.json").write_text(json.dumps(
            {"pid": other.pid, "binary": other.binary, "ports": other.ports}))
        with start_test_store(data_dir):
            assert other.running
            assert ObjectStore(storage_config_for(other)).check() == []
