"""Request ids and JSON log lines in the process; under gunicorn in
``test_observability_under_gunicorn``."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from portfolio.config import Settings, SettingsError
from portfolio.core.logs import JsonHandler
from tests.helpers.app import make_app

FRESH_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture()
def json_app(tmp_path, database_url):
    """An application logging JSON; the root logger as it was afterwards (JSON mode adds its
    handler to it)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield make_app(tmp_path, database_url, settings={"log_format": "json"})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture()
def lines():
    """The JSON lines logged at INFO and above while the test runs, parsed."""
    stream = io.StringIO()
    handler = JsonHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_fresh_request_id_is_echoed_on_every_answer(client):
    answers = [client.get("/healthz"), client.get("/catalogue/"), client.get("/nowhere"),
               client.post("/login", data={"email": "x@example.org"})]  # no CSRF token: 400
    assert [answer.status_code for answer in answers] == [200, 302, 404, 400]
    ids = [answer.headers["X-Request-ID"] for answer in answers]
    assert all(FRESH_ID.fullmatch(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("incoming", ["a1b2c3", "nginx.request-id_42", "x" * 64])
def test_a_sane_incoming_request_id_is_kept(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] == incoming


@pytest.mark.parametrize("incoming", ["", "with space", "x" * 65, "quote\"d", "new\\nline",
                                      "émoji"])
def test_a_malformed_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert FRESH_ID.fullmatch(response.headers["X-Request-ID"])


def test_json_mode_logs_one_access_line_per_request_with_its_id(json_app, lines):
    response = json_app.test_client().get("/healthz?token=not-logged",
                                          headers={"X-Request-ID": "probe-7"})
    [access] = [line for line in lines() if line["logger"] == "portfolio.access"]
    assert access["request_id"] == response.headers["X-Request-ID"] == "probe-7"
    assert {key: access[key] for key in ("level", "method", "endpoint", "path", "status",
                                         "user_id")} == {
        "level": "INFO", "method": "GET", "endpoint": "health.healthz", "path": "/healthz",
        "status": 200, "user_id": None}
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0
    assert access["time"].endswith("+00:00")


def test_text_mode_logs_no_access_line(app, client, lines):
    client.get("/healthz")
    assert not [line for line in lines() if line["logger"] == "portfolio.access"]


def test_a_line_logged_during_a_request_carries_its_id_and_traceback(json_app, lines):
    with json_app.test_request_context("/healthz", headers={"X-Request-ID": "req-1"}):
        json_app.preprocess_request()
        try:
            raise ZeroDivisionError("division by zero")
        except ZeroDivisionError:
            logging.getLogger("portfolio.somewhere").exception("it failed")
    logging.getLogger("portfolio.somewhere").warning("outside any request")
    inside, outside = lines()
    assert inside["request_id"] == "req-1" and inside["message"] == "it failed"
    assert inside["level"] == "ERROR" and inside["logger"] == "portfolio.somewhere"
    assert "Traceback" in inside["exc_info"] and "ZeroDivisionError" in inside["exc_info"]
    assert outside["request_id"] is None and "exc_info" not in outside


def test_the_log_format_is_text_or_json():
    assert Settings.from_environ({}).log_format == "text"
    assert Settings.from_environ({"PORTFOLIO_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(SettingsError, match="PORTFOLIO_LOG_FORMAT: expected text or json"):
        Settings.from_environ({"PORTFOLIO_LOG_FORMAT": "xml"})
