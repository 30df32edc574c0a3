"""Roles are grants: held in one centre, optionally over one scope and until a time; only
``grant_role`` makes them, and it keeps learners apart from staff."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import selectinload

from portfolio.accounts import services
from portfolio.accounts.models import RoleGrant, User
from portfolio.accounts.permissions import is_centre_admin
from portfolio.assessment.permissions import can_assess
from tests.helpers.factories import make_user
from tests.helpers.queries import count_queries, count_rows

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


def _grant(session, user, role, centre=None, scope=None, expires_at=None) -> RoleGrant:
    """A grant made directly, as a later feature or an old row might have it."""
    grant = RoleGrant(user_id=user.id, centre_id=(centre or user.centre).id, role=role,
                      scope_type=scope[0] if scope else None, scope_id=scope[1] if scope else None,
                      expires_at=expires_at)
    session.add(grant)
    session.flush()
    session.expire(user, ["grants"])
    return grant


def _reload(session, user) -> User:
    """The user as a new request would load them, from the database."""
    session.expunge_all()
    return session.get(User, user.id)


def test_a_grant_is_held_in_its_centre_only(session, people):
    assessor = _reload(session, people.assessor1)
    assert assessor.holds("assessor")
    assert assessor.holds("assessor", people.centre.id)
    assert not assessor.holds("assessor", people.other_centre.id)
    assert not assessor.holds("iqa") and not assessor.holds("centre_admin")
    assert assessor.is_assessor and not assessor.is_iqa and not assessor.is_learner

    visitor = make_user(session, people.other_centre, "visitor@south.test")
    _grant(session, visitor, "assessor", centre=people.centre)
    visitor = _reload(session, visitor)
    assert visitor.holds("assessor", people.centre.id)
    assert not visitor.holds("assessor")  # not in their own centre
    assert not visitor.is_assessor and visitor.roles == []


def test_a_grant_counts_until_it_expires(session, people):
    user = make_user(session, people.centre, "temp@north.test")
    _grant(session, user, "iqa", expires_at=NOW + DAY)
    user = _reload(session, user)
    assert user.holds("iqa") and user.is_iqa
    assert user.holds("iqa", at=NOW + DAY - dt.timedelta(seconds=1))
    assert not user.holds("iqa", at=NOW + DAY)
    assert not user.holds("iqa", at=NOW + 2 * DAY)


def test_an_expired_grant_gives_nothing(session, people, login):
    admin = people.admin
    session.scalar(sa.select(RoleGrant).where(RoleGrant.user_id == admin.id)).expires_at = (
        NOW - DAY)
    session.flush()
    admin = _reload(session, admin)
    assert not admin.holds("centre_admin") and not admin.is_centre_admin
    assert admin.roles == [] and admin.role_labels == ""
    assert not is_centre_admin(admin, people.centre.id)
    assert login(admin).get("/admin/users").status_code == 404


def test_a_scoped_grant_covers_only_its_scope(session, people):
    eqa = make_user(session, people.centre, "eqa@north.test")
    _grant(session, eqa, "iqa", scope=("learner", people.learner1.id), expires_at=NOW + DAY)
    eqa = _reload(session, eqa)
    assert eqa.holds("iqa", scope=("learner", people.learner1.id))
    assert not eqa.holds("iqa", scope=("learner", people.learner2.id))
    assert not eqa.holds("iqa", scope=("qualification", people.learner1.id))
    assert not eqa.holds("iqa")  # without a scope asked for, only unscoped grants count
    assert not eqa.is_iqa and eqa.roles == []
    assert not eqa.holds("iqa", people.other_centre.id, scope=("learner", people.learner1.id))


def test_an_unscoped_grant_covers_every_scope(session, people):
    iqa = _reload(session, people.iqa1)
    assert iqa.holds("iqa", scope=("learner", people.learner1.id))
    assert iqa.holds("iqa", scope=("qualification", 1))
    assert not iqa.holds("assessor", scope=("learner", people.learner1.id))


def test_roles_are_listed_in_the_usual_order(session, people):
    iqa2 = _reload(session, people.iqa2)  # granted iqa first, then assessor
    assert [grant.role for grant in iqa2.grants] == ["iqa", "assessor"]
    assert iqa2.roles == ["assessor", "iqa"]
    assert iqa2.role_labels == "Assessor, Internal quality assurer"


def test_a_users_grants_load_once_and_with_many_users_in_one_query(session, people):
    session.expunge_all()
    with count_queries() as statements:
        user = session.get(User, people.iqa2.id)
        assert user.is_assessor and user.is_iqa and user.roles == ["assessor", "iqa"]
        assert user.holds("iqa", scope=("learner", people.learner1.id))
    assert len(statements) == 2, statements  # the user, then their grants once
    session.expunge_all()
    with count_queries() as statements:
        users = session.scalars(sa.select(User).where(User.centre_id == people.centre.id)
                                .options(selectinload(User.grants))).all()
        assert sum(user.is_learner for user in users) == 2
    assert len(users) == 7 and len(statements) == 2, statements


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_pages_listing_roles_do_not_grow_with_the_users(login, people, session, path):
    centre_id = people.centre.id
    client = login(people.admin)

    def measure():
        session.expunge_all()
        g.pop("_login_user", None)
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        return statements

    measure()
    few = measure()
    centre = session.get(type(people.centre), centre_id)
    for n in range(5):
        make_user(session, centre, f"more{n}@north.test", "learner" if n % 2 else "assessor")
    many = measure()
    assert len(many) == len(few), many


def test_permissions_ask_for_the_grant_in_the_enrolments_centre(session, people):
    assessor = people.assessor1
    assert can_assess(assessor, people.enrolment1)
    assert is_centre_admin(people.admin, people.centre.id)
    assert not is_centre_admin(people.admin, people.other_centre.id)
    grant = session.scalar(sa.select(RoleGrant).where(RoleGrant.user_id == assessor.id))
    grant.centre_id = people.other_centre.id
    session.flush()
    assert not can_assess(_reload(session, assessor), session.get(
        type(people.enrolment1), people.enrolment1.id))


def test_grant_role_refuses_a_staff_role_to_a_learner(session, people):
    before = count_rows(session, RoleGrant)
    for role in ("assessor", "iqa", "centre_admin"):
        with pytest.raises(services.AccountError,
                           match="Learner1 is a learner and cannot also hold a staff role"):
            services.grant_role(session, people.learner1, role)
    with pytest.raises(services.AccountError, match="cannot also hold a staff role"):
        services.grant_role(session, people.learner1, "iqa", people.other_centre.id,
                            scope=("learner", people.other_learner.id))
    assert count_rows(session, RoleGrant) == before


def test_grant_role_refuses_the_learner_role_to_staff(session, people):
    before = count_rows(session, RoleGrant)
    for staff in (people.admin, people.assessor1, people.iqa2):
        with pytest.raises(services.AccountError, match="holds a staff role and cannot also "
                                                        "be a learner"):
            services.grant_role(session, staff, "learner")
    assert count_rows(session, RoleGrant) == before


def test_an_expired_staff_role_does_not_stop_someone_becoming_a_learner(session, people):
    user = make_user(session, people.centre, "former@north.test")
    _grant(session, user, "assessor", expires_at=NOW - DAY)
    grant = services.grant_role(session, user, "learner")
    assert grant.role == "learner" and _reload(session, user).roles == ["learner"]


def test_grant_role_refuses_unknown_roles_and_duplicates(session, people):
    with pytest.raises(services.AccountError, match="There is no role called 'eqa'"):
        services.grant_role(session, people.assessor1, "eqa")
    with pytest.raises(services.AccountError,
                       match="already holds the assessor role in that centre"):
        services.grant_role(session, people.assessor1, "assessor")
    scope = ("learner", people.learner1.id)
    services.grant_role(session, people.iqa1, "assessor", scope=scope, expires_at=NOW + DAY)
    with pytest.raises(services.AccountError,
                       match="already holds the assessor role for that learner"):
        services.grant_role(session, people.iqa1, "assessor", scope=scope)


def test_grant_role_records_the_grant(session, people):
    user = make_user(session, people.centre, "new@north.test")
    grant = services.grant_role(session, user, "iqa", scope=("learner", people.learner1.id),
                                expires_at=NOW + DAY, granted_by=people.admin)
    session.expunge_all()
    grant = session.get(RoleGrant, grant.id)
    assert (grant.user_id, grant.centre_id, grant.role, grant.scope, grant.granted_by_id) == (
        user.id, people.centre.id, "iqa", ("learner", people.learner1.id), people.admin.id)
    assert grant.expires_at == NOW + DAY  # the same instant, back from the database
    assert abs(grant.granted_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    # A regranted role after the old one expired is not a duplicate.
    grant.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    session.flush()
    services.grant_role(session, session.get(User, user.id), "iqa",
                        scope=("learner", people.learner1.id))


def test_create_user_grants_each_role_in_the_centre(session, people):
    user = services.create_user(session, people.centre, services.NewUser(
        "both@north.test", "Both", "a long password", ("iqa", "assessor")), actor=people.admin)
    grants = session.scalars(sa.select(RoleGrant).where(RoleGrant.user_id == user.id)
                             .order_by(RoleGrant.id)).all()
    assert [(g.role, g.centre_id, g.scope, g.expires_at, g.granted_by_id) for g in grants] == [
        ("iqa", people.centre.id, None, None, people.admin.id),
        ("assessor", people.centre.id, None, None, people.admin.id)]
    assert _reload(session, user).roles == ["assessor", "iqa"]


def test_the_database_refuses_unknown_roles_and_half_scopes(session, people):
    for values in ({"role": "eqa"}, {"role": "iqa", "scope_type": "learner"},
                   {"role": "iqa", "scope_id": people.learner1.id}):
        with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
            session.add(RoleGrant(user_id=people.iqa1.id, centre_id=people.centre.id, **values))
            session.flush()


def test_centre_staff_lists_active_unscoped_grants_of_that_centre(session, people):
    expired = make_user(session, people.centre, "expired@north.test")
    _grant(session, expired, "assessor", expires_at=NOW - DAY)
    scoped = make_user(session, people.centre, "scoped@north.test")
    _grant(session, scoped, "assessor", scope=("learner", people.learner1.id))
    elsewhere = make_user(session, people.centre, "elsewhere@north.test")
    _grant(session, elsewhere, "assessor", centre=people.other_centre)
    until_tomorrow = make_user(session, people.centre, "until.tomorrow@north.test")
    _grant(session, until_tomorrow, "assessor", expires_at=NOW + DAY)
    disabled = make_user(session, people.centre, "disabled@north.test", "assessor")
    disabled.is_enabled = False
    session.flush()

    def emails(role, centre):
        return [u.email for u in services.centre_staff(session, centre.id, role)]

    assert emails("assessor", people.centre) == [
        "assessor1@north.test", "assessor2@north.test", "iqa2@north.test",
        "until.tomorrow@north.test"]
    assert emails("iqa", people.centre) == ["iqa1@north.test", "iqa2@north.test"]
    # A grant counts in its centre, whichever centre the person's account belongs to.
    assert emails("assessor", people.other_centre) == ["assessor@south.test",
                                                       "elsewhere@north.test"]
    assert emails("learner", people.centre) == ["learner1@north.test", "learner2@north.test"]
