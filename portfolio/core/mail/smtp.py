"""One connection to the mail server named by ``PORTFOLIO_SMTP_URL``, and the message a row of
the outbox becomes.

``smtp://`` upgrades to TLS with STARTTLS whenever the server offers it (the certificate checked)
and refuses to log in without it; ``smtps://`` speaks TLS from the first byte. Every step waits
at most ``PORTFOLIO_SMTP_TIMEOUT_SECONDS``, so a server that accepts and never answers costs the
worker one timeout, never a request.
"""

from __future__ import annotations

import contextlib
import functools
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class MailServerError(Exception):
    """The mail server could not be reached or would not take mail; try again later."""


def compose(mail, sender: str) -> EmailMessage:
    """The message for an outbox row: text/plain in UTF-8, with its fixed Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    message.set_content(mail.text_body, charset="utf-8")
    return message


class SmtpConnection:
    """``with SmtpConnection(url, timeout) as smtp: smtp.send(message)``: one session, many
    messages (a batch of the outbox shares it)."""

    def __init__(self, url: str, timeout: float, local_hostname: str | None = None):
        self.url = urlsplit(url)
        self.timeout = timeout
        #: The name given in EHLO; this host's own by default.
        self.local_hostname = local_hostname or _local_hostname()
        self.client: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        url = self.url
        port = url.port or DEFAULT_PORTS[url.scheme]
        try:
            if url.scheme == "smtps":
                self.client = smtplib.SMTP_SSL(url.hostname, port, timeout=self.timeout,
                                               local_hostname=self.local_hostname,
                                               context=_tls_context())
            else:
                self.client = smtplib.SMTP(url.hostname, port, timeout=self.timeout,
                                           local_hostname=self.local_hostname)
            self.client.ehlo()
            if url.scheme == "smtp" and self.client.has_extn("starttls"):
                self.client.starttls(context=_tls_context())
                self.client.ehlo()
            if url.username:
                if not isinstance(self.client.sock, ssl.SSLSocket):
                    raise MailServerError(f"{url.hostname}:{port} offers no STARTTLS: the mail "
                                          f"password is not sent unencrypted")
                self.client.login(unquote(url.username), unquote(url.password or ""))
        except (OSError, smtplib.SMTPException) as error:
            self._close()
            raise MailServerError(f"{url.hostname}:{port}: {_describe(error)}") from error
        except MailServerError:
            self._close()
            raise
        return self

    def send(self, message: EmailMessage) -> None:
        """Hand one message over; a refusal of this message alone raises
        :class:`smtplib.SMTPResponseException` or :class:`smtplib.SMTPRecipientsRefused`, a
        broken connection :class:`MailServerError`."""
        try:
            self.client.send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise MailServerError(_describe(error)) from error

    def __exit__(self, *exc) -> None:
        if self.client is not None and exc[0] is None:
            # Every message was accepted; a lost goodbye changes nothing.
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.client.quit()
        self._close()

    def _close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's authorities; loading them takes tens of
    milliseconds, so once per process."""
    return ssl.create_default_context()


@functools.cache
def _local_hostname() -> str:
    """This host's name, looked up once: smtplib would look it up (DNS, which may take seconds)
    for every connection."""
    return socket.getfqdn()


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
