"""``/metrics`` in Prometheus's text format, with ``PORTFOLIO_METRICS=true``: requests and their
durations by endpoint, bytes of evidence received, and the outbox's mail not yet sent.

Labels stay bounded: the endpoint is Flask's name for the view (``unmatched`` when no rule
matched), the method one of the standard ones or ``other``.

gunicorn runs several worker processes and a scrape reaches one of them. With
``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts: prometheus_client reads it on
import), each process writes its counts to files there and a scrape of any one reports the sum
of all (``deploy/gunicorn.conf.py`` empties the directory at start and marks each worker that
exits as dead)."""

from __future__ import annotations

import logging
import os
import time

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from portfolio.core.mail.outbox import OutboxMail
from portfolio.extensions import db

logger = logging.getLogger(__name__)

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

#: This process's metrics; in multiprocess mode their values live in the shared directory.
process_registry = CollectorRegistry()
requests_total = Counter(
    "portfolio_http_requests", "Requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"], registry=process_registry)
request_duration = Histogram(
    "portfolio_http_request_duration_seconds", "Time to answer a request, by endpoint and method.",
    ["endpoint", "method"], registry=process_registry)
upload_bytes = Counter(
    "portfolio_upload_bytes", "Bytes of files accepted into the store by the upload path.",
    registry=process_registry)

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def scrape():
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        multiprocess.MultiProcessCollector(registry)
        counted = generate_latest(registry)
    else:
        counted = generate_latest(process_registry)
    return Response(counted + generate_latest(_OutboxGauges()), content_type=CONTENT_TYPE_LATEST)


class _OutboxGauges:
    """Read from the database at each scrape: every process sees the same outbox. Left out
    when the database does not answer, so that the request counts still reach the scraper."""

    def collect(self):
        try:
            backlog, failed = db.session.execute(sa.select(
                # A mail has a next attempt exactly while it waits (the column is indexed).
                sa.func.count(OutboxMail.next_attempt_at),
                sa.func.count(OutboxMail.given_up_at))).one()
        except sa.exc.DBAPIError as error:
            db.session.rollback()
            logger.warning("outbox metrics left out of a scrape: %s", error.orig)
            return
        yield GaugeMetricFamily("portfolio_outbox_backlog", "Mail waiting to be sent.",
                                value=backlog)
        yield GaugeMetricFamily("portfolio_outbox_failed",
                                "Mail given up after its last attempt failed.", value=failed)


def count_upload(size: int) -> None:
    upload_bytes.inc(size)


def init_metrics(app: Flask) -> None:
    """Serve ``/metrics`` and count each request. Registered after the request logging, whose
    ``before_request`` notes when the request started."""
    app.register_blueprint(blueprint)

    @app.after_request
    def count_request(response):
        endpoint = request.endpoint or "unmatched"
        method = request.method if request.method in METHODS else "other"
        requests_total.labels(endpoint, method, str(response.status_code)).inc()
        request_duration.labels(endpoint, method).observe(
            time.perf_counter() - g.request_started)
        return response
