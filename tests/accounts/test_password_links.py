"""Password links as a service: what is stored, expiry on a fixed clock, superseding, single use,
deactivated accounts, what using one ends and clears, and the forgot-password throttle."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from portfolio.accounts import links
from portfolio.accounts.models import LoginSession, LoginThrottle, User
from portfolio.accounts.services import UNUSABLE_PASSWORD, authenticate, deactivate_user
from portfolio.accounts.sessions import start_session
from portfolio.accounts.throttling import LoginRefused
from portfolio.core.audit import AuditEvent
from tests.helpers.factories import PASSWORD
from tests.helpers.queries import count_queries

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
NEW_PASSWORD = "a brand new passphrase"


def test_only_the_digest_of_a_token_is_stored(session, people):
    token = links.issue_link(session, people.learner1, "reset")
    row = session.scalar(sa.select(links.PasswordLink))
    assert row.token_digest == hashlib.sha256(token.encode()).hexdigest()
    stored = session.execute(sa.select(links.PasswordLink.__table__)).one()
    assert not any(token in str(value) for value in stored)
    assert len(token) >= 40  # 32 random bytes


@pytest.mark.parametrize(("purpose", "lifetime"), [
    ("set", dt.timedelta(days=7)), ("reset", dt.timedelta(hours=1))])
def test_a_link_works_until_it_expires(session, people, purpose, lifetime):
    token = links.issue_link(session, people.learner1, purpose, now=T0)
    last_moment = T0 + lifetime - dt.timedelta(seconds=1)
    assert links.usable_link(session, token, now=last_moment) is not None
    assert links.usable_link(session, token, now=T0 + lifetime) is None
    with pytest.raises(links.LinkUnusable, match="expired or has been used"):
        links.use_link(session, token, NEW_PASSWORD, now=T0 + lifetime)
    session.refresh(people.learner1)
    assert authenticate(session, people.learner1.email, PASSWORD, "10.0.0.1")


def test_a_new_link_supersedes_the_older_unused_ones(session, people):
    first = links.issue_link(session, people.learner1, "set", now=T0)
    second = links.issue_link(session, people.learner1, "reset", now=T0)
    others = links.issue_link(session, people.learner2, "reset", now=T0)
    assert links.usable_link(session, first, now=T0) is None
    assert links.usable_link(session, second, now=T0) is not None
    assert links.usable_link(session, others, now=T0) is not None  # someone else's stays
    with pytest.raises(links.LinkUnusable):
        links.use_link(session, first, NEW_PASSWORD, now=T0)


def test_a_link_sets_the_password_once(session, people):
    learner = people.learner1
    token = links.issue_link(session, learner, "reset")
    assert links.use_link(session, token, NEW_PASSWORD) == learner
    assert authenticate(session, learner.email, NEW_PASSWORD, "10.0.0.1") == learner
    with pytest.raises(LoginRefused):
        authenticate(session, learner.email, PASSWORD, "10.0.0.1")
    with pytest.raises(links.LinkUnusable):
        links.use_link(session, token, "another fine passphrase")
    assert authenticate(session, learner.email, NEW_PASSWORD, "10.0.0.1") == learner


def test_a_weak_password_is_refused_and_the_link_kept(session, people):
    token = links.issue_link(session, people.learner1, "set")
    with pytest.raises(links.AccountError, match="at least 10 characters"):
        links.use_link(session, token, "short")
    assert links.usable_link(session, token) is not None


def test_a_deactivated_account_gets_no_link_and_its_links_stop_working(session, people):
    token = links.issue_link(session, people.learner1, "reset")
    deactivate_user(session, people.learner1, people.admin)
    assert links.usable_link(session, token) is None
    with pytest.raises(links.LinkUnusable):
        links.use_link(session, token, NEW_PASSWORD)
    with pytest.raises(links.AccountError, match="deactivated"):
        links.issue_link(session, people.learner1, "reset")


def test_using_a_link_ends_sessions_lifts_throttling_voids_links_and_is_audited(session, people):
    learner = people.learner1
    start_session(session, learner, "10.0.0.1")
    session.add(LoginThrottle(email=learner.email, address="", failures=40,
                              blocked_until=T0 + dt.timedelta(days=1)))
    session.flush()
    used = links.issue_link(session, learner, "reset")
    # A second link issued at the same moment by another request (the admin's button).
    other = links.PasswordLink(token_digest="0" * 64, user_id=learner.id, purpose="reset",
                               expires_at=links.utcnow() + dt.timedelta(hours=1))
    session.add(other)
    session.flush()

    links.use_link(session, used, NEW_PASSWORD)
    assert session.scalar(sa.select(sa.func.count()).where(
        LoginSession.user_id == learner.id, LoginSession.ended_at.is_(None))) == 0
    throttle = session.scalar(sa.select(LoginThrottle).where(LoginThrottle.email == learner.email)
                              .execution_options(populate_existing=True))
    assert (throttle.failures, throttle.blocked_until) == (0, None)
    session.refresh(other)
    assert other.superseded_at is not None
    actions = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_id == learner.id, AuditEvent.object_type == "user")
        .order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["user.password_link_issued", "user.password_set_by_link"]


def test_an_account_that_never_had_a_password_is_sent_a_set_link(session, people):
    people.learner1.password_hash = UNUSABLE_PASSWORD
    assert links.purpose_for(people.learner1) == "set"
    assert links.purpose_for(people.learner2) == "reset"


def test_issuing_many_links_takes_as_many_statements_on_links_as_one(session, people):
    learners = [people.learner1, people.learner2, people.assessor1, people.iqa1]
    with count_queries() as one:
        links.issue_links(session, learners[:1], "set")
    with count_queries() as four:
        tokens = links.issue_links(session, learners, "set")
    assert len(set(tokens)) == 4

    def on_links(statements):  # audit rows are the audit trail's to batch (PostgreSQL does)
        return [statement for statement in statements if "password_links" in statement]

    assert len(on_links(four)) == len(on_links(one)) == 2, four


def test_forgot_password_requests_are_limited_per_email_and_per_client(session, people):
    email = people.learner1.email
    answers = [links.request_reset(session, email.upper(), "10.0.0.1", now=T0)
               for _ in range(links.REQUESTS_PER_EMAIL + 1)]
    assert all(answer is not None for answer in answers[:-1])
    assert answers[-1] is None  # over the address's limit: no more mail to its inbox
    later = T0 + links.REQUEST_WINDOW + dt.timedelta(seconds=1)
    assert links.request_reset(session, email, "10.0.0.1", now=later) is not None

    assert links.request_reset(session, "nobody@north.test", "10.0.0.2", now=T0) is None
    for n in range(links.REQUESTS_PER_ADDRESS - 1):
        links.request_reset(session, f"guess{n}@north.test", "10.0.0.2", now=T0)
    with pytest.raises(links.TooManyRequests, match="from your network"):
        links.request_reset(session, email, "10.0.0.2", now=T0)
    assert links.request_reset(session, email, "10.0.0.3", now=T0) is None  # email's own limit


def test_forgot_password_for_a_deactivated_account_issues_nothing(session, people):
    deactivate_user(session, people.learner1, people.admin)
    assert links.request_reset(session, people.learner1.email, "10.0.0.1") is None
    assert session.scalar(sa.select(sa.func.count()).select_from(links.PasswordLink)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(
        links.PasswordLinkRequest)) == 1  # recorded all the same


def test_a_link_names_its_user(session, people):
    token = links.issue_link(session, people.learner1, "set")
    assert session.get(User, links.usable_link(session, token).user_id) == people.learner1
