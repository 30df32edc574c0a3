"""The production server in a subprocess: gunicorn with the shipped configuration
(``deploy/gunicorn.conf.py``) on a free loopback port, started directly or by
``portfolio serve --production``, and visitors that keep their connection
open between requests as browsers do."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.live_server import ROOT, Answer, Visitor, wait_until_answering
from tests.helpers.storage_server import free_port

CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


@dataclass(frozen=True)
class Gunicorn:
    port: int
    #: gunicorn's master process (the pid is ``process.pid``).
    process: subprocess.Popen
    #: gunicorn's standard error: its own messages and the application's tracebacks.
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


#: The command an operator runs, installed beside this interpreter.
PORTFOLIO_COMMAND = Path(sys.executable).with_name("portfolio")


@contextmanager
def gunicorn_serving(environment: dict[str, str], log: Path,
                     options: tuple[str, ...] = ()) -> Iterator[Gunicorn]:
    """``gunicorn -c deploy/gunicorn.conf.py "portfolio:create_app()"`` on a free loopback port,
    with the ``PORTFOLIO_*`` settings of ``environment`` only (none inherited from the caller's
    environment) and gunicorn's command-line ``options``. The database must be migrated already.
    Stopped (by its pid) on leaving."""
    port = free_port()
    with _serving([sys.executable, "-m", "gunicorn", "-c", str(CONFIG),
                   "--bind", f"127.0.0.1:{port}", *options, "portfolio:create_app()"],
                  port, environment, log, "gunicorn") as server:
        yield server


@contextmanager
def production_serving(environment: dict[str, str], log: Path,
                       options: tuple[str, ...] = ()) -> Iterator[Gunicorn]:
    """``portfolio serve --production --bind 127.0.0.1:<free port>`` with ``options``, as an
    operator starts it (the installed ``portfolio`` command), otherwise as
    :func:`gunicorn_serving`. Its pid is gunicorn's master: the command replaces itself."""
    port = free_port()
    with _serving([str(PORTFOLIO_COMMAND), "serve", "--production",
                   "--bind", f"127.0.0.1:{port}", *options],
                  port, environment, log, "portfolio serve --production") as server:
        yield server


def production_settings(store, instance: Path, database_url: str | None = None
                        ) -> dict[str, str]:
    """The ``PORTFOLIO_*`` settings of a production server on the S3 ``store`` (an embedded
    one's address and keys) and ``database_url`` (none: the instance folder's SQLite)."""
    return {"PORTFOLIO_INSTANCE_PATH": str(instance), "PORTFOLIO_SECRET_KEY": "production-test",
            "PORTFOLIO_S3_ENDPOINT_URL": store.endpoint_url, "PORTFOLIO_S3_BUCKET": store.bucket,
            "PORTFOLIO_S3_ACCESS_KEY": store.access_key,
            "PORTFOLIO_S3_SECRET_KEY": store.secret_key,
            **({"PORTFOLIO_DATABASE_URL": database_url} if database_url else {})}


def environment_without_settings(environment: dict[str, str]) -> dict[str, str]:
    """This process's environment without its ``PORTFOLIO_*`` settings, plus ``environment``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PORTFOLIO_")}
    return {**inherited, **environment}


@contextmanager
def _serving(command: list[str], port: int, environment: dict[str, str], log: Path,
             name: str) -> Iterator[Gunicorn]:
    with open(log, "wb") as errors:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment_without_settings(environment),
            stdout=subprocess.DEVNULL, stderr=errors)
    try:
        wait_until_answering(process, port, log, name)
        yield Gunicorn(port, process, log)
    finally:
        process.terminate()  # SIGTERM: gunicorn's graceful stop (nothing if it has exited)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class KeepAliveVisitor(Visitor):
    """A :class:`Visitor` whose requests share one connection (HTTP/1.1 keep-alive), opened
    again when the server has closed it."""

    def __init__(self, port: int, address: str | None = None):
        super().__init__(port, address)
        self._open: http.client.HTTPConnection | None = None

    def _send(self, method: str, path: str, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> Answer:
        reused = self._open is not None
        if self._open is None:
            self._open = self._connection()
        try:
            self._open.request(method, path, body, {**self._headers(), **(headers or {})})
            answer = self._answer(self._open)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close()
            if not reused:
                raise
            # The server closed an idle connection before this request reached it: send again.
            return self._send(method, path, body, headers)
        if answer.headers.get("Connection", "").lower() == "close":
            self.close()
        return answer

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None
