"""Logging: every module logs through ``logging.getLogger(__name__)``; this sets where it goes
when nothing else (a WSGI server, pytest) has, and, with ``PORTFOLIO_LOG_FORMAT=json``, writes
each line as a JSON object carrying the id of the request it was made in.

The request id is the one the reverse proxy sent in ``X-Request-ID`` (nginx: ``$request_id``)
when it is a plain token, else a fresh one; the response echoes it, so a user's report, the
proxy's log and the application's lines can be matched."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from flask import Flask, g, has_request_context, request

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REQUEST_ID_HEADER = "X-Request-ID"
#: What an incoming request id may be; anything else (too long, spaces, quotes that would
#: break a log line) is replaced rather than trusted.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

access_logger = logging.getLogger("portfolio.access")


def configure_logging(log_format: str = "text") -> None:
    """Lines to standard error at ``PORTFOLIO_LOG_LEVEL`` (default INFO). As text, only when the
    process has not configured logging already; as JSON always (it was asked for), once.

    gunicorn configures only its own loggers (``gunicorn.error``, ``gunicorn.access``, which do
    not propagate), never the root one, so under gunicorn the application's lines go through
    the handler set here."""
    root = logging.getLogger()
    level = os.environ.get("PORTFOLIO_LOG_LEVEL", "INFO").upper()
    if log_format == "json":
        if not any(isinstance(handler, JsonHandler) for handler in root.handlers):
            root.addHandler(JsonHandler(sys.stderr))
            root.setLevel(level)
        return
    if root.handlers:
        return
    logging.basicConfig(format=FORMAT, level=level)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, the request id
    (null outside a request), the traceback as one string when there is one, and the fields a
    line was given with ``extra={"fields": {...}}`` (the access line's)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


class RequestIdFilter(logging.Filter):
    """Gives each record the id of the request it was made in (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class JsonHandler(logging.StreamHandler):
    """JSON lines with request ids to ``stream``."""

    def __init__(self, stream: TextIO):
        super().__init__(stream)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestIdFilter())


def request_id_from(header: str | None) -> str:
    """The incoming id when it is a plain token, else a new random one."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return secrets.token_hex(16)


def init_request_logging(app: Flask, log_format: str, user_id) -> None:
    """Give each request an id (echoed in the response) and, in JSON mode, one access line at
    INFO when it ends. ``user_id()`` answers the logged-in user's id or None, without loading
    a session where there must be none. Called before any other ``before_request`` hook is
    registered, so that one answering early (a redirect to the login page) still has an id."""
    @app.before_request
    def start_request():
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()

    @app.after_request
    def finish_request(response):
        response.headers[REQUEST_ID_HEADER] = g.request_id
        if log_format == "json":
            access_logger.info("%s %s %s", request.method, request.path, response.status_code,
                               extra={"fields": {
                                   "method": request.method,
                                   "endpoint": request.endpoint,
                                   "path": request.path,
                                   "status": response.status_code,
                                   "duration_ms": round(
                                       (time.perf_counter() - g.request_started) * 1000, 1),
                                   "user_id": user_id(),
                               }})
        return response
