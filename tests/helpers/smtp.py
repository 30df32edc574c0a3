"""A real SMTP server for the tests (aiosmtpd) on a free loopback port, keeping what arrives;
stoppable and startable again on the same port. And a server that accepts connections and never
answers, the hung mail server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

#: Seconds :meth:`SmtpServer.wait_for` waits for mail before failing.
TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """``server.url`` for ``PORTFOLIO_SMTP_URL``; ``server.messages`` holds what arrived."""

    def __init__(self, port: int | None = None, hold_first: threading.Event | None = None):
        self.port = port or free_port()
        #: When given, the first message is answered only once this is set (a sender caught
        #: in the middle of its batch); :attr:`held` is set when it arrives.
        self.hold_first = hold_first
        self.held = threading.Event()
        #: What arrived, as sent; parsed when read (:attr:`messages`), so that the server,
        #: in the test's process, takes little of its time.
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        # A fixed name: aiosmtpd would look its own up (DNS) for every connection.
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                      server_hostname="mail.test")
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def receive(self, envelope) -> None:
        if self.hold_first is not None and not self.held.is_set():
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.hold_first.wait, TIMEOUT)
        with self._arrived:
            self.raw.append(envelope.content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = TIMEOUT) -> list[EmailMessage]:
        """The messages once ``count`` have arrived; fails after ``timeout`` seconds."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.raw) >= count, timeout):
                raise AssertionError(f"{len(self.raw)} of {count} mails arrived in {timeout} s")
        return self.messages

    @property
    def messages(self) -> list[EmailMessage]:
        with self._arrived:
            raw = list(self.raw)
        return [email.message_from_bytes(content, policy=email.policy.default)
                for content in raw]

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler:
    """aiosmtpd's handler, apart from the server: aiosmtpd reads every attribute of its handler
    on each connection, and :attr:`SmtpServer.messages` parses everything that has arrived."""

    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        await self.server.receive(envelope)
        return "250 Message accepted for delivery"


class HungSmtpServer:
    """Accepts connections on a free loopback port and never says a word."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.accepted.append(connection)

    def wait_for_connection(self, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self.accepted:
            if time.monotonic() > deadline:
                raise AssertionError("nobody connected to the hung mail server")
            time.sleep(0.02)

    def __enter__(self) -> HungSmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way
        self._listener.close()
        for connection in self.accepted:
            connection.close()
        self._thread.join(5)
