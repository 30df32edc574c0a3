"""A live threaded server on a database of its own, and plain HTTP clients with their own cookies
and client address, for what Flask's test client cannot show: simultaneous requests over real
connections, and several independent sessions at once (the test client's app context would share
one CSRF token between them)."""

from __future__ import annotations

import contextlib
import http.client
import threading
from urllib.parse import urlencode

from werkzeug.serving import make_server

from tests.helpers.concurrency import TIMEOUT
from tests.helpers.factories import PASSWORD
from tests.helpers.web import token_in


@contextlib.contextmanager
def serving(app):
    """Serve ``app`` on a free loopback port; yields the port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(TIMEOUT)


class Browser:
    """One client with its own session cookie. ``address`` goes in X-Forwarded-For, which the
    app heeds only when it trusts a proxy."""

    def __init__(self, port: int, address: str = "127.0.0.1"):
        self.port, self.address = port, address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        """The status and page; a redirect is not followed."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        headers = {"X-Forwarded-For": self.address,
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            page = response.read().decode()
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or ():
            name, value = cookie.split(";", 1)[0].split("=", 1)
            if value:
                self.cookies[name] = value
            else:  # deleted
                self.cookies.pop(name, None)
        return response.status, page

    def token(self, path: str = "/login") -> str:
        """The CSRF token of this client's session, read from ``path``."""
        return token_in(self.request("GET", path)[1])

    def post(self, path: str, form: dict, token: str | None = None) -> tuple[int, str]:
        """POST ``form`` with the CSRF token (read from the catalogue page unless given)."""
        return self.request("POST", path, {**form, "csrf_token": token or self.token(
            "/catalogue/")})

    def log_in(self, email: str, password: str = PASSWORD,
               token: str | None = None) -> tuple[int, str]:
        return self.request("POST", "/login", {"email": email, "password": password,
                                               "csrf_token": token or self.token()})

    def copy(self) -> Browser:
        """Another client holding a copy of this one's cookies."""
        twin = Browser(self.port, self.address)
        twin.cookies = dict(self.cookies)
        return twin
