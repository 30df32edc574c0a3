"""A burst of simultaneous wrong passwords over real HTTP, against a live threaded server on a
database of its own (SQLite or PostgreSQL): the throttle counts them one after the other, so no
more passwords are checked than the limit, nobody gets a 500, and the owner still gets in from
their usual address. The server trusts one proxy, so each client's address is the
X-Forwarded-For it sends (the proxy tests show the header is ignored otherwise)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import Centre, LoginAttempt
from portfolio.accounts.throttling import FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.concurrency import TIMEOUT
from tests.helpers.factories import make_user
from tests.helpers.live_server import Visitor, serving_app

BURST = 40
EMAIL = "owner@north.test"
USUAL, ATTACKER = "198.51.100.1", "203.0.113.9"


@pytest.fixture()
def live(tmp_path):
    """The live server's port, and its app, whose database holds one learner."""
    with app_on_new_database(tmp_path, specs=[], settings={"trusted_proxies": 1}) as app:
        with app.app_context():
            centre = Centre(name="North College")
            db.session.add(centre)
            db.session.flush()
            make_user(db.session, centre, EMAIL, "learner")
            db.session.commit()
            db.session.remove()
        with serving_app(app) as port:
            yield port, app


def test_a_burst_of_wrong_passwords_checks_no_more_than_the_limit(live):
    port, app = live
    owner = Visitor(port, USUAL)
    assert owner.log_in(EMAIL).status == 302  # the owner's usual address
    attackers = [Visitor(port, ATTACKER) for _ in range(BURST)]
    for attacker in attackers:
        attacker.read_token()
    barrier = threading.Barrier(BURST, timeout=TIMEOUT)
    statuses: list[object] = [None] * BURST

    def guess(index):
        try:
            barrier.wait()
            statuses[index] = attackers[index].log_in(
                EMAIL, "wrong password!", token_read=True).status
        except BaseException as error:
            barrier.abort()
            statuses[index] = error

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
        assert not thread.is_alive(), "a login is stuck"
    assert statuses == [401] * BURST  # no 500, no 503: every one refused

    with app.app_context():
        attempts = db.session.execute(
            sa.select(LoginAttempt.password_checked, sa.func.count())
            .where(LoginAttempt.email == EMAIL, LoginAttempt.address == ATTACKER)
            .group_by(LoginAttempt.password_checked)).all()
        db.session.remove()
    assert dict(attempts) == {True: FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS,
                              False: BURST - FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS}

    refused = Visitor(port, ATTACKER).log_in(EMAIL)
    assert refused.status == 401 and "Too many failed attempts" in refused.text
    assert Visitor(port, USUAL).log_in(EMAIL).status == 302
