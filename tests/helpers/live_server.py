"""A real ``portfolio serve`` in a subprocess, and visitors talking to it over HTTP: for the tests
and benchmarks of what several people do at once (Werkzeug's threads, SQLite's write lock, the
store's connections), which Flask's test client, one request at a time in-process, cannot show.
"""

from __future__ import annotations

import http.client
import http.cookies
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import make_server

from tests.helpers.factories import PASSWORD
from tests.helpers.storage_server import free_port
from tests.helpers.web import token_in

ROOT = Path(__file__).resolve().parents[2]
#: Seconds to wait for the server (and the embedded store it may start) to answer.
START_TIMEOUT = 60
#: Seconds a request may take before the visitor gives up.
REQUEST_TIMEOUT = 120
#: A request line of Werkzeug's log (coloured with terminal escapes, even in a file) answered 500.
_INTERNAL_ERROR = re.compile(r' HTTP/[\d.]+[^"]*" 500 ')


@dataclass(frozen=True)
class LiveServer:
    port: int
    pid: int
    #: Where the server writes its standard error: request lines and tracebacks.
    log: Path

    def internal_errors(self) -> list[str]:
        """The request lines the server has logged as answered 500 so far."""
        return [line for line in self.log.read_text(errors="replace").splitlines()
                if _INTERNAL_ERROR.search(line)]

    def tracebacks(self) -> list[str]:
        """The tracebacks the server has logged so far, each as one string."""
        found, current = [], None
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("Traceback"):
                current = [line]
                found.append(current)
            elif current is not None:
                current.append(line)
                # A traceback ends with its unindented exception line.
                if line and not line.startswith(" "):
                    current = None
        return ["\n".join(lines) for lines in found]


@contextmanager
def serving(instance: Path, environment: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """``portfolio serve`` on a free loopback port with the instance folder ``instance`` and the
    ``PORTFOLIO_*`` settings of ``environment`` only (none inherited from the caller's
    environment): with no S3 endpoint among them, the server starts its embedded SeaweedFS on a
    free port. The database must be migrated already. Stopped (by its pid) on leaving."""
    port = free_port()
    settings = {"PORTFOLIO_INSTANCE_PATH": str(instance),
                "PORTFOLIO_EMBEDDED_S3_PORT": str(free_port()), **(environment or {})}
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PORTFOLIO_")}
    log = instance / "serve.log"
    with open(log, "wb") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", "from portfolio.cli import main; main()", "serve",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env={**inherited, **settings}, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        wait_until_answering(process, port, log)
        yield LiveServer(port, process.pid, log)
    finally:
        # SIGTERM: serve stops its embedded store on the way out.
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serving_app(app) -> Iterator[int]:
    """Serve ``app`` from this process on a free loopback port with Werkzeug's threaded server
    (for tests that reach into the app's database); yields the port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(REQUEST_TIMEOUT)


def wait_until_answering(process: subprocess.Popen, port: int, log: Path,
                         name: str = "portfolio serve") -> None:
    """Return once the server ``process`` (called ``name`` in errors) answers its login page on
    ``port``; fail with the end of its ``log`` if it exits first."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n"
                               f"{log.read_text(errors='replace')[-2000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    raise RuntimeError(f"{name} did not answer on port {port} within {START_TIMEOUT} s")


@dataclass
class Answer:
    status: int
    body: bytes
    headers: http.client.HTTPMessage

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Visitor:
    """One browser: its own cookies and CSRF token, a new connection per request. Not shared
    between threads. ``address`` goes in X-Forwarded-For, which the app heeds only when it
    trusts a proxy."""

    def __init__(self, port: int, address: str | None = None):
        self.port, self.address = port, address
        self.cookies: dict[str, str] = {}
        self.token = ""

    def tab(self) -> Visitor:
        """Another tab of the same browser: the same session (a copy of its cookie), for use in
        another thread."""
        other = Visitor(self.port, self.address)
        other.cookies, other.token = dict(self.cookies), self.token
        return other

    def read_token(self, path: str = "/login") -> str:
        """Take the session's CSRF token from the form on ``path``."""
        self.token = token_in(self.get(path).text)
        return self.token

    def log_in(self, email: str, password: str = PASSWORD, *, token_read: bool = False) -> Answer:
        """Log in through the form (reading its token first unless ``token_read``); the answer
        is the form's (302 when it worked)."""
        if not token_read:
            self.read_token()
        answer = self.post("/login", {"email": email, "password": password})
        if answer.status == 302:
            self.read_token("/catalogue/")
        return answer

    def get(self, path: str) -> Answer:
        return self._send("GET", path)

    def post(self, path: str, data: dict | None = None) -> Answer:
        """A form POST with the visitor's CSRF token; redirects are not followed."""
        body = urllib.parse.urlencode({**(data or {}), "csrf_token": self.token},
                                      doseq=True).encode()
        return self._send("POST", path, body,
                          {"Content-Type": "application/x-www-form-urlencoded"})

    def upload(self, enrolment_id: int, chunks: Iterable[bytes], size: int, filename: str,
               bytes_per_second: float | None = None) -> Answer:
        """Send a file as the browser uploader does (the raw body of a POST to the enrolment's
        upload URL, announced as ``size`` bytes), at most ``bytes_per_second`` fast. Sending fewer
        bytes than ``size`` drops the connection after them, as a phone losing its signal."""
        return self.stream("POST", f"/enrolments/{enrolment_id}/uploads", chunks, size,
                           {"X-Filename": urllib.parse.quote(filename)}, bytes_per_second)

    def stream(self, method: str, path: str, chunks: Iterable[bytes], size: int,
               headers: dict[str, str] | None = None,
               bytes_per_second: float | None = None) -> Answer:
        """A raw body announced as ``size`` bytes, with the CSRF token in its header; fewer
        bytes than ``size`` drop the connection after them (the answer's status is then 0)."""
        connection = self._connection()
        try:
            connection.putrequest(method, path)
            for name, value in {**self._headers(), "X-CSRFToken": self.token,
                                "Content-Type": "application/octet-stream",
                                **(headers or {}), "Content-Length": str(size)}.items():
                connection.putheader(name, value)
            connection.endheaders()
            start, sent = time.monotonic(), 0
            for chunk in chunks:
                if bytes_per_second:
                    time.sleep(max(0.0, start + sent / bytes_per_second - time.monotonic()))
                connection.send(chunk)
                sent += len(chunk)
            if sent < size:
                connection.sock.shutdown(2)
                return Answer(0, b"", http.client.HTTPMessage())
            return self._answer(connection)
        finally:
            connection.close()

    def _connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)

    def _headers(self) -> dict[str, str]:
        headers = {"X-Forwarded-For": self.address} if self.address else {}
        if cookie := "; ".join(f"{name}={value}" for name, value in self.cookies.items()):
            headers["Cookie"] = cookie
        return headers

    def _send(self, method: str, path: str, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> Answer:
        connection = self._connection()
        try:
            connection.request(method, path, body, {**self._headers(), **(headers or {})})
            return self._answer(connection)
        finally:
            connection.close()

    def _answer(self, connection: http.client.HTTPConnection) -> Answer:
        response = connection.getresponse()
        body = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:  # deleted
                    self.cookies.pop(name, None)
        return Answer(response.status, body, response.headers)
