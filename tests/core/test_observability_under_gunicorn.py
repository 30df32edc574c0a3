"""Under the production server (``deploy/gunicorn.conf.py``, two worker processes): a scrape of
either worker reports the requests of both, and the application's log lines are JSON with the
request id the response gives."""

from __future__ import annotations

import http.client
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.factories import make_people
from tests.helpers.gunicorn import gunicorn_serving
from tests.helpers.live_server import Visitor

HEALTHZ = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
#: Requests sent until each worker has answered some; both are busy long before this.
MOST_REQUESTS = 2000


@pytest.fixture(scope="module")
def server(tmp_path_factory, builtin_specs, store):
    """gunicorn with two workers, metrics on in multiprocess mode and JSON logs, on a database
    of its own with a learner."""
    directory = tmp_path_factory.mktemp("gunicorn")
    with app_on_new_database(directory, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            db.session.commit()
            learner = SimpleNamespace(id=people.learner1.id, email=people.learner1.email)
            db.session.remove()
        metrics_directory = directory / "metrics"  # gunicorn.conf.py creates it
        environment = {
            "PORTFOLIO_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "PORTFOLIO_SECRET_KEY": "gunicorn-test", "PORTFOLIO_INSTANCE_PATH": str(directory),
            "PORTFOLIO_S3_ENDPOINT_URL": store.endpoint_url, "PORTFOLIO_S3_BUCKET": store.bucket,
            "PORTFOLIO_S3_ACCESS_KEY": store.access_key,
            "PORTFOLIO_S3_SECRET_KEY": store.secret_key,
            "PORTFOLIO_METRICS": "true", "PORTFOLIO_LOG_FORMAT": "json",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_directory)}
        with gunicorn_serving(environment, directory / "gunicorn.log",
                              ("--workers", "2")) as running:
            yield SimpleNamespace(port=running.port, log=running.log, learner=learner,
                                  metrics_directory=metrics_directory)


def get(port: int, path: str, headers: dict[str, str] | None = None):
    """One request on a connection of its own, so that either worker may take it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "portfolio_http_requests_total" and sample.labels == HEALTHZ:
                return sample.value
    return 0.0


def healthz_counts_by_worker(directory: Path) -> dict[str, float]:
    """Each worker's own count, from the file it writes its counters to."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        for metric in MultiProcessCollector.merge([str(path)], accumulate=True):
            for sample in metric.samples:
                if sample.name == "portfolio_http_requests_total" and sample.labels == HEALTHZ:
                    counts[path.stem] = sample.value
    return counts


def test_every_scrape_reports_the_requests_of_both_workers(server):
    sent = 0
    with ThreadPoolExecutor(8) as pool:
        while len(healthz_counts_by_worker(server.metrics_directory)) < 2:
            assert sent < MOST_REQUESTS, "one worker answered every request"
            statuses = list(pool.map(lambda _: get(server.port, "/healthz")[0], range(20)))
            assert statuses == [200] * 20
            sent += 20
    by_worker = healthz_counts_by_worker(server.metrics_directory)
    assert sum(by_worker.values()) == sent and all(by_worker.values())

    scrapes = [get(server.port, "/metrics") for _ in range(8)]
    assert {status for status, _, _ in scrapes} == {200}
    assert [healthz_count(body.decode()) for _, _, body in scrapes] == [sent] * len(scrapes)


def json_lines(log: Path) -> list[dict]:
    """Every line of gunicorn's standard error, parsed: its own and the application's."""
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_every_line_is_json_and_the_access_lines_carry_the_id_the_response_gives_with_the_id_the_response_gives(server):
    _, kept, _ = get(server.port, "/healthz?probe=1", {"X-Request-ID": "lb-probe.42"})
    _, replaced, _ = get(server.port, "/readyz", {"X-Request-ID": "not a token"})
    visitor = Visitor(server.port)
    assert visitor.log_in(server.learner.email).status == 302
    page = visitor.get("/catalogue/")
    assert page.status == 200

    lines = json_lines(server.log)
    assert {"gunicorn.error", "portfolio.access"} <= {line["logger"] for line in lines}
    by_id = {line["request_id"]: line for line in lines if line["logger"] == "portfolio.access"}
    assert dict(kept)["X-Request-ID"] == "lb-probe.42"
    assert by_id["lb-probe.42"]["path"] == "/healthz"
    assert by_id["lb-probe.42"]["user_id"] is None
    replaced_id = dict(replaced)["X-Request-ID"]
    assert replaced_id != "not a token"
    assert by_id[replaced_id]["endpoint"] == "health.readyz"
    assert by_id[replaced_id]["status"] == 200
    page_line = by_id[page.headers["X-Request-ID"]]
    assert (page_line["endpoint"], page_line["user_id"]) == ("catalogue.index",
                                                             server.learner.id)
