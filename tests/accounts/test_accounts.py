"""Accounts: logging in, deny-by-default, CSRF, cookies, users and enrolments."""

from __future__ import annotations

import datetime as dt

import click
import pytest
import sqlalchemy as sa

from portfolio.accounts import services
from portfolio.accounts.models import Centre, Enrolment, User
from portfolio.core.audit import AuditEvent
from tests.helpers.factories import PASSWORD
from tests.helpers.mail import with_mail
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token, log_in


def test_passwords_are_hashed_with_argon2id(people):
    assert people.learner1.password_hash.startswith("$argon2id$")
    assert PASSWORD not in people.learner1.password_hash


def test_login_and_logout(client, people):
    response = log_in(client, people.learner1)
    assert response.status_code == 302
    assert client.get("/").status_code in (200, 302)
    # Logging out is a POST with a token; a GET does nothing.
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={"csrf_token": csrf_token(client, "/catalogue/")})
    assert client.get("/catalogue/").status_code == 302


def test_wrong_password_is_refused_and_audited(client, people, session):
    response = log_in(client, people.learner1, password="wrong password!")
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "login.failed")
                            .order_by(AuditEvent.id.desc())).first()
    assert event.data["email"] == people.learner1.email


def test_deactivated_users_cannot_log_in(client, people, session):
    people.learner1.is_enabled = False
    session.flush()
    assert log_in(client, people.learner1).status_code == 401


def test_every_endpoint_but_the_public_ones_needs_login(app, client):
    public = {"accounts.login", "passwords.forgot", "passwords.set_password", "static",
              "health.healthz", "health.readyz"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in public:
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<int:{argument}>", "1").replace(f"<{argument}>", "x")
            url = url.replace(f"<any(thumbnail, preview):{argument}>", "thumbnail")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code in (302, 400), (method, url, response.status_code)
            if response.status_code == 302:
                assert "/login" in response.headers["Location"]
            checked += 1
    assert checked >= 15


def test_a_post_without_a_csrf_token_is_refused(client, people):
    response = client.post("/login", data={"email": people.learner1.email,
                                           "password": PASSWORD})
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)
    assert client.get("/catalogue/").status_code == 302  # not logged in


def test_session_cookie_is_httponly_and_samesite(client, people):
    response = log_in(client, people.learner1)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_next_url_cannot_leave_the_site(client, people):
    token = csrf_token(client)
    response = client.post("/login?next=https://evil.example/", data={
        "email": people.learner1.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_admin_creates_users(app, login, people, session):
    with_mail(app)
    client = login(people.admin)
    response = client.post("/admin/users", data={
        "name": "New Assessor", "email": "New.Assessor@North-College.ac.uk",
        "account_type": "staff", "staff_roles": ["assessor", "iqa"],
        "csrf_token": csrf_token(client, "/admin/users")})
    assert response.status_code == 302
    user = session.scalar(sa.select(User).where(User.email == "new.assessor@north-college.ac.uk"))
    assert (user.centre_id, user.is_assessor, user.is_iqa, user.is_learner) == (
        people.centre.id, True, True, False)
    assert user.password_hash == services.UNUSABLE_PASSWORD  # until they follow their link


def test_a_learner_cannot_be_staff(session, people):
    with pytest.raises(services.AccountError, match="cannot also hold a staff role"):
        services.create_user(session, people.centre, services.NewUser(
            "x@north.test", "X", "a long password", ("learner", "assessor")), actor=people.admin)


@pytest.mark.parametrize("user", ["assessor1", "iqa1", "learner1"])
def test_only_admins_reach_admin_pages(login, people, user):
    client = login(getattr(people, user))
    for path in ("/admin/users", "/admin/enrolments", "/admin/catalogue"):
        assert client.get(path).status_code == 404


def _enrolment(people, **changes):
    values = dict(learner_id=people.learner1.id, version_id=people.enrolment2.version_id,
                  registration_number="NEW-1", start_date=dt.date(2026, 9, 1),
                  planned_end_date=dt.date(2027, 9, 1), assessor_id=people.assessor1.id,
                  iqa_id=people.iqa1.id)
    values.update(changes)
    return services.NewEnrolment(**values)


def test_enrol_a_learner(session, people):
    enrolment = services.enrol(session, people.centre, _enrolment(people), actor=people.admin)
    assert enrolment.version_id == people.enrolment2.version_id
    assert session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "enrolment.created", AuditEvent.object_id == enrolment.id))


@pytest.mark.parametrize(("changes", "message"), [
    (lambda p: {"iqa_id": p.iqa2.id, "assessor_id": p.iqa2.id},
     "The IQA cannot be the learner's assessor"),
    (lambda p: {"version_id": p.enrolment1.version_id},
     "is already enrolled on Pearson BTEC Level 3 Certificate in Contact Centre Operations"),
    (lambda p: {"version_id": 999999}, "That qualification is not in the catalogue."),
    (lambda p: {"registration_number": p.enrolment1.registration_number},
     "is already in use"),
    (lambda p: {"learner_id": p.other_learner.id}, "Choose a learner from this centre."),
    (lambda p: {"assessor_id": p.learner2.id}, "Choose a assessor from this centre."),
    (lambda p: {"planned_end_date": dt.date(2020, 1, 1)}, "before the start date"),
])
def test_enrolments_that_must_be_refused(session, people, changes, message):
    before = count_rows(session, Enrolment)
    with pytest.raises(services.AccountError, match=message):
        services.enrol(session, people.centre, _enrolment(people, **changes(people)),
                       actor=people.admin)
    assert count_rows(session, Enrolment) == before


def test_ended_qualifications_refuse_registrations(session, people):
    version = session.get(type(people.enrolment2.version), people.enrolment2.version_id)
    version.operational_end = dt.date(2020, 12, 31)
    session.flush()
    with pytest.raises(services.AccountError, match="closed to new registrations"):
        services.enrol(session, people.centre, _enrolment(people), actor=people.admin)


def test_enrolment_form_reports_refusals(login, people):
    client = login(people.admin)
    response = client.post("/admin/enrolments", data={
        "learner_id": people.learner1.id, "version_id": people.enrolment2.version_id,
        "registration_number": "R-9", "start_date": "2026-09-01",
        "planned_end_date": "2027-09-01", "assessor_id": people.iqa2.id,
        "iqa_id": people.iqa2.id, "csrf_token": csrf_token(client, "/admin/enrolments")})
    assert "The IQA cannot be the learner&#39;s assessor" in response.get_data(as_text=True)


def test_catalogue_import_from_the_web_validates_like_the_cli(login, people, session):
    from io import BytesIO

    from tests.helpers.catalogue_files import MINIMAL, as_bytes

    client = login(people.admin)
    bad = as_bytes({**MINIMAL, "credit_value": "six"})
    response = client.post("/admin/catalogue", data={
        "file": (BytesIO(bad), "bad.yaml"), "csrf_token": csrf_token(client, "/admin/catalogue")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page and "credit_value: expected a positive integer" in page
    response = client.post("/admin/catalogue", data={
        "file": (BytesIO(as_bytes(MINIMAL)), "good.yaml"),
        "csrf_token": csrf_token(client, "/admin/catalogue")}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert client.get("/catalogue/999-0001-X").status_code == 200


def test_demo_centre_is_seeded_once(session):
    from portfolio.catalogue.services import qualification_versions

    versions = {v.qualification_number: v for v in qualification_versions(session)}
    first = services.seed_demo_centre(session, versions)
    users = count_rows(session, User)
    second = services.seed_demo_centre(session, versions)
    assert first == second and count_rows(session, User) == users
    roles = [r for _, _, r in first]
    assert roles.count("assessor") == 2 and roles.count("learner") == 3
    assert roles.count("iqa") == 1 and roles.count("centre_admin") == 1


def test_serve_makes_the_demo_centre_only_when_asked_and_never_beside_real_centres(
        cli, people, session):
    from portfolio.cli import serve_command

    demo_option = next(p for p in serve_command.params if p.name == "demo")
    assert demo_option.is_flag and not demo_option.get_default(click.Context(serve_command))
    result = cli.invoke(serve_command, ["--demo", "--port", "0"])
    assert result.exit_code == 2
    assert "only for an empty one" in result.output
    assert not session.scalar(sa.select(Centre).where(Centre.name == services.DEMO_CENTRE))
