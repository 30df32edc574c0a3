"""The client's address behind reverse proxies: the one the nearest trusted proxy forwarded, for
throttling and the audit trail; with no trusted proxy, X-Forwarded-For is ignored (anyone can
send it)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import LoginAttempt
from portfolio.config import SettingsError
from portfolio.core.audit import AuditEvent
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database, make_app
from tests.helpers.web import csrf_token

# The client forged the first address; the proxy appended the second, the client's own.
FORWARDED = "198.51.100.20, 203.0.113.7"


def fail_to_log_in(client):
    response = client.post("/login", headers={"X-Forwarded-For": FORWARDED}, data={
        "email": "nobody@north.test", "password": "wrong password!",
        "csrf_token": csrf_token(client)})
    assert response.status_code == 401


def addresses(session) -> tuple[str, str]:
    attempt = session.scalars(sa.select(LoginAttempt.address)
                              .order_by(LoginAttempt.id.desc())).first()
    audited = session.scalars(sa.select(AuditEvent.address).where(
        AuditEvent.action == "login.failed").order_by(AuditEvent.id.desc())).first()
    return attempt, audited


def test_without_a_trusted_proxy_forwarded_addresses_are_ignored(client, session):
    fail_to_log_in(client)
    assert addresses(session) == ("127.0.0.1", "127.0.0.1")


def test_behind_a_trusted_proxy_the_forwarded_address_counts(tmp_path):
    with app_on_new_database(tmp_path, specs=[], settings={"trusted_proxies": 1}) as app:
        fail_to_log_in(app.test_client())
        with app.app_context():
            assert addresses(db.session) == ("203.0.113.7", "203.0.113.7")


def test_a_negative_number_of_proxies_is_refused(tmp_path, database_url):
    with pytest.raises(SettingsError, match="PORTFOLIO_TRUSTED_PROXIES"):
        make_app(tmp_path, database_url, settings={"trusted_proxies": -1})
