"""``/metrics``: absent unless asked for; requests counted by endpoint with bounded labels, the
bytes of each accepted upload, and the outbox's waiting and given-up mail as the database has
them. The sum over gunicorn's workers is tested in ``test_observability_under_gunicorn``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from portfolio.core.db import utcnow
from portfolio.core.mail.outbox import OutboxMail, enqueue_mails
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.evidence import upload
from tests.helpers.factories import make_people
from tests.helpers.queries import count_rows
from tests.helpers.samples import PDF
from tests.helpers.web import log_in


@pytest.fixture(scope="module")
def metrics_app(tmp_path_factory, builtin_specs):
    """An application with metrics on, on a database of its own (its outbox is this module's
    alone), with a learner."""
    directory = tmp_path_factory.mktemp("metrics")
    with app_on_new_database(directory, builtin_specs.values(),
                             settings={"metrics": True}) as app:
        with app.app_context():
            people = make_people(db.session)
            db.session.commit()
            learner = SimpleNamespace(email=people.learner1.email,
                                      enrolment=SimpleNamespace(id=people.enrolment1.id))
            db.session.remove()
        yield SimpleNamespace(app=app, learner=learner)


def scraped(client, name: str, **labels: str) -> float:
    """The value of sample ``name`` with ``labels`` in a scrape; 0 when there is none yet."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_metrics_are_not_served_unless_asked_for(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_no_login_and_set_no_cookie(metrics_app):
    response = metrics_app.app.test_client().get("/metrics")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_requests_are_counted_by_endpoint_method_and_status(metrics_app):
    client = metrics_app.app.test_client()
    healthz = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
    count, timed = (scraped(client, "portfolio_http_requests_total", **healthz),
                    scraped(client, "portfolio_http_request_duration_seconds_count",
                            endpoint="health.healthz", method="GET"))
    for _ in range(3):
        client.get("/healthz")
    assert scraped(client, "portfolio_http_requests_total", **healthz) == count + 3
    assert scraped(client, "portfolio_http_request_duration_seconds_count",
                   endpoint="health.healthz", method="GET") == timed + 3


def test_requests_no_rule_matched_share_one_label(metrics_app):
    client = metrics_app.app.test_client()
    unmatched = {"endpoint": "unmatched", "method": "other", "status": "404"}
    before = scraped(client, "portfolio_http_requests_total", **unmatched)
    for path in ("/no-such-page", "/another/made/up/path"):
        assert client.open(path, method="BREW").status_code == 404
    assert scraped(client, "portfolio_http_requests_total", **unmatched) == before + 2


def test_upload_bytes_count_each_accepted_file(metrics_app):
    client = metrics_app.app.test_client()
    assert log_in(client, metrics_app.learner.email).status_code == 302
    before = scraped(client, "portfolio_upload_bytes_total")
    assert upload(client, metrics_app.learner.enrolment, PDF, "report.pdf").status_code == 200
    assert scraped(client, "portfolio_upload_bytes_total") == before + len(PDF)
    assert upload(client, metrics_app.learner.enrolment, b"", "empty.pdf").status_code == 422
    assert scraped(client, "portfolio_upload_bytes_total") == before + len(PDF)


def test_outbox_gauges_are_the_mail_waiting_and_given_up(metrics_app):
    app, client = metrics_app.app, metrics_app.app.test_client()
    with app.app_context():
        sent, given_up, *_ = enqueue_mails(db.session, [
            (f"person{n}@example.org", "A subject", "A text") for n in range(5)])
        sent.sent_at, sent.next_attempt_at = utcnow(), None
        given_up.given_up_at, given_up.next_attempt_at = utcnow(), None
        db.session.commit()
        waiting = count_rows(db.session, OutboxMail, OutboxMail.sent_at.is_(None),
                             OutboxMail.given_up_at.is_(None))
        failed = count_rows(db.session, OutboxMail, OutboxMail.given_up_at.is_not(None))
        db.session.remove()
    assert waiting >= 3 and failed >= 1
    assert scraped(client, "portfolio_outbox_backlog") == waiting
    assert scraped(client, "portfolio_outbox_failed") == failed
