"""Login throttling: backoff per (account, address), limits per address and per account that
cannot lock the owner out of their usual address, and the unchecked refusals counted."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.accounts import services, throttling
from portfolio.accounts.models import LoginAttempt, LoginThrottle
from portfolio.accounts.throttling import LoginRefused
from tests.helpers.factories import PASSWORD
from tests.helpers.web import csrf_token, text

WRONG = "wrong password!"
FREE = throttling.FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS


def log_in_from(client, email, address, password=PASSWORD):
    """Log in through the form as a client at ``address``, then log out again, so that the one
    client (whose CSRF token the test's app context keeps) can try again."""
    response = client.post("/login", environ_base={"REMOTE_ADDR": address}, data={
        "email": email, "password": password, "csrf_token": csrf_token(client)})
    if response.status_code == 302:
        client.post("/logout", data={"csrf_token": csrf_token(client)})
    return response


def checked(session, email) -> int:
    """How many passwords were checked for ``email``."""
    return session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt).where(
        LoginAttempt.email == email, LoginAttempt.password_checked))


def counter(session, email, address) -> LoginThrottle:
    return session.scalar(sa.select(LoginThrottle).where(
        LoginThrottle.email == email, LoginThrottle.address == address)
        .execution_options(populate_existing=True))


def test_failures_from_one_address_start_a_backoff_there_only(client, people, session):
    email = people.learner1.email
    for _ in range(FREE):
        assert log_in_from(client, email, "10.0.0.1", WRONG).status_code == 401
    refused = log_in_from(client, email, "10.0.0.1")  # the right password, too late
    assert refused.status_code == 401
    assert "Too many failed attempts. Try again in 1 minute." in text(refused)
    assert checked(session, email) == FREE  # refused without checking
    # Neither another account from that address nor this account from elsewhere is blocked.
    assert log_in_from(client, people.learner2.email, "10.0.0.1").status_code == 302
    assert log_in_from(client, email, "10.0.0.2").status_code == 302


def test_refusals_do_not_extend_the_backoff_and_failures_double_it(client, people, session):
    email, address = people.learner1.email, "10.0.0.1"
    for _ in range(FREE):
        log_in_from(client, email, address, WRONG)
    until = counter(session, email, address).blocked_until
    for _ in range(3):
        log_in_from(client, email, address, WRONG)
    assert counter(session, email, address).blocked_until == until

    def wait_out_the_backoff():
        row = counter(session, email, address)
        shift = row.blocked_until - dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        row.blocked_until -= shift
        row.failed_at -= shift
        session.flush()

    wait_out_the_backoff()
    before = dt.datetime.now(dt.UTC)
    assert log_in_from(client, email, address, WRONG).status_code == 401
    row = counter(session, email, address)
    assert row.failures == FREE + 1 and checked(session, email) == FREE + 1
    assert before + 2 * throttling.FIRST_BACKOFF <= row.blocked_until
    assert row.blocked_until <= dt.datetime.now(dt.UTC) + 2 * throttling.FIRST_BACKOFF
    wait_out_the_backoff()
    assert log_in_from(client, email, address).status_code == 302
    row = counter(session, email, address)
    assert (row.failures, row.blocked_until) == (0, None)


def test_spraying_many_accounts_from_one_address_is_throttled(client, people, session):
    address = "10.0.0.7"
    assert log_in_from(client, people.learner1.email, address).status_code == 302
    for i in range(throttling.FREE_FAILURES_PER_ADDRESS):
        log_in_from(client, f"guess{i}@x.test", address, WRONG)
    refused = log_in_from(client, people.learner2.email, address)
    assert "Too many failed attempts" in text(refused)
    # learner1 has logged in from there before: the address's spray does not block them.
    assert log_in_from(client, people.learner1.email, address).status_code == 302


def test_guessing_from_many_addresses_spares_the_owners_usual_address(client, people, session):
    email = people.learner1.email
    assert log_in_from(client, email, "192.0.2.1").status_code == 302
    for i in range(throttling.FREE_FAILURES_PER_ACCOUNT):
        log_in_from(client, email, f"10.1.0.{i}", WRONG)
    refused = log_in_from(client, email, "10.2.0.1")  # a new address
    assert "Too many failed attempts" in text(refused)
    assert log_in_from(client, email, "192.0.2.1").status_code == 302


def test_an_unknown_email_is_throttled_like_a_known_one(client, people):
    for email in (people.learner1.email, "nobody@north.test"):
        for _ in range(FREE):
            log_in_from(client, email, "10.0.0.3", WRONG)
        page = text(log_in_from(client, email, "10.0.0.3", WRONG))
        assert "Too many failed attempts. Try again in 1 minute." in page


def test_failures_are_forgotten_after_a_quiet_day(client, people, session):
    email, address = people.learner1.email, "10.0.0.1"
    for _ in range(FREE - 1):
        log_in_from(client, email, address, WRONG)
    counter(session, email, address).failed_at -= throttling.FORGET_AFTER
    session.flush()
    log_in_from(client, email, address, WRONG)
    assert counter(session, email, address).failures == 1
    assert log_in_from(client, email, address).status_code == 302


def test_an_empty_email_is_refused_without_touching_the_counters(session, people):
    with pytest.raises(LoginRefused, match="do not match"):
        services.authenticate(session, "   ", PASSWORD, "10.0.0.1")
    assert session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0


def test_an_account_with_no_password_yet_costs_a_full_check(people, session, monkeypatch):
    """An imported learner has no password until they set one: refusing them must take a real
    check's time, or the answer's speed would say the account exists."""
    people.learner1.password_hash = services.UNUSABLE_PASSWORD
    session.flush()
    hashes_checked = []

    class CountingHasher:
        def verify(self, stored, password):
            hashes_checked.append(stored)
            return real.verify(stored, password)

    real = throttling.hasher
    monkeypatch.setattr(throttling, "hasher", CountingHasher())
    with pytest.raises(LoginRefused):
        services.authenticate(session, people.learner1.email, WRONG, "192.0.2.1")
    assert throttling._DUMMY_HASH in hashes_checked
