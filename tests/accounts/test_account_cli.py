"""The operator's commands through click's runner: ``portfolio centre create``, ``portfolio user
create | deactivate | reset-link``. Each prints a link that works (and mails it when mail is set
up); each bad input exits 2 with one line and changes nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portfolio.accounts import links
from portfolio.accounts.models import Centre, LoginSession, RoleGrant, User
from portfolio.accounts.services import UNUSABLE_PASSWORD
from portfolio.accounts.sessions import start_session
from portfolio.core.audit import AuditEvent
from portfolio.core.mail import OutboxMail
from tests.helpers.factories import make_user
from tests.helpers.mail import BASE_URL, link_token, outbox, with_mail
from tests.helpers.queries import count_rows

_PRINTED = re.compile(r"^  (\S+/password/set/(\S+))$", re.M)


def printed_link(output: str) -> tuple[str, str]:
    """The link a command printed, and its token."""
    (found,) = _PRINTED.findall(output)
    return found


def rows(session) -> tuple[int, ...]:
    """Everything a refused command must leave as it was."""
    session.expire_all()
    return tuple(count_rows(session, model) for model in (
        Centre, User, RoleGrant, links.PasswordLink, OutboxMail, AuditEvent))


@pytest.fixture()
def people(people, session):
    """The factories' people, committed: a command's application context ends with a rollback
    of whatever it did not commit."""
    make_user(session, people.centre, "ada.admin@north-college.ac.uk", "centre_admin")
    session.commit()
    return people


def refused(result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [f"Error: {message}"]


def test_centre_create_prints_the_first_admins_link(cli, session, people):
    result = cli.invoke(args=["centre", "create", "East Institute", "--admin-email",
                              "Ann.Admin@East-Institute.ac.uk", "--admin-name", "Ann Admin"])
    assert result.exit_code == 0, result.output
    url, token = printed_link(result.stdout)
    assert url.startswith("http://127.0.0.1:5000/password/set/")  # no PORTFOLIO_BASE_URL
    assert "PORTFOLIO_BASE_URL is not set" in result.stderr
    admin = session.scalar(sa.select(User).where(User.email == "ann.admin@east-institute.ac.uk"))
    assert admin.centre.name == "East Institute" and admin.roles == ["centre_admin"]
    assert admin.password_hash == UNUSABLE_PASSWORD
    link = links.usable_link(session, token)
    assert (link.user_id, link.purpose) == (admin.id, "set")
    assert not outbox(session)  # no mail set up: the printed link is the only one
    actions = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.centre_id == admin.centre_id).order_by(AuditEvent.id)).all()
    assert actions == ["centre.created", "user.created", "user.password_link_issued"]
    assert not session.scalar(sa.select(AuditEvent.actor_id).where(
        AuditEvent.centre_id == admin.centre_id, AuditEvent.actor_id.is_not(None)))


def test_with_mail_set_up_the_link_is_also_mailed(app, cli, session, people):
    with_mail(app)
    result = cli.invoke(args=["user", "create", "--centre", "North College", "--email",
                              "pat.assessor@north-college.ac.uk", "--name", "Pat Assessor",
                              "--role", "assessor", "--role", "iqa"])
    assert result.exit_code == 0, result.output
    url, token = printed_link(result.stdout)
    assert url == f"{BASE_URL}/password/set/{token}" and "also emailed" in result.stdout
    (mail,) = outbox(session)
    assert link_token(mail.text_body) == token
    user = session.scalar(sa.select(User).where(User.email == "pat.assessor@north-college.ac.uk"))
    assert user.roles == ["assessor", "iqa"]


def test_an_account_of_another_centre_is_given_the_roles_and_no_link(cli, session, people):
    result = cli.invoke(args=["centre", "create", "West", "--admin-email",
                              "Ada.Admin@north-college.ac.uk", "--admin-name", "Ada"])
    assert result.exit_code == 0, result.output
    assert not _PRINTED.search(result.stdout) and "log in with their own password" in \
        result.stdout
    ada = session.scalar(sa.select(User).where(User.email == "ada.admin@north-college.ac.uk"))
    west = session.scalar(sa.select(Centre).where(Centre.name == "West"))
    assert ada.holds("centre_admin", west.id) and ada.centre_id == people.centre.id
    assert count_rows(session, links.PasswordLink) == 0


def test_user_create_adds_a_learner(cli, session, people):
    result = cli.invoke(args=["user", "create", "--centre", "South Academy", "--email",
                              "lou@south-academy.ac.uk", "--name", "Lou", "--role", "learner"])
    assert result.exit_code == 0, result.output
    _, token = printed_link(result.stdout)
    user = session.get(User, links.usable_link(session, token).user_id)
    assert (user.email, user.roles, user.centre_id) == (
        "lou@south-academy.ac.uk", ["learner"], people.other_centre.id)


@pytest.mark.parametrize(("args", "message"), [
    (["centre", "create", "North College", "--admin-email", "x@north-college.ac.uk",
      "--admin-name", "X"], "There is already a centre called 'North College'."),
    (["centre", "create", "West", "--admin-email", "not-an-email", "--admin-name", "X"],
     "'not-an-email' is not an email address: An email address must have an @-sign."),
    (["centre", "create", "West", "--admin-email", "x@north.test", "--admin-name", "X"],
     "'x@north.test' is not an email address: The part after the @-sign is a special-use or "
     "reserved name that cannot be used with email."),
    (["centre", "create", " ", "--admin-email", "x@west.ac.uk", "--admin-name", "X"],
     "The centre and its admin each need a name."),
    (["user", "create", "--centre", "Nowhere", "--email", "x@north-college.ac.uk", "--name",
      "X", "--role", "learner"], "There is no centre called 'Nowhere'."),
    (["user", "create", "--centre", "North College", "--email",
      "ada.admin@north-college.ac.uk", "--name", "X", "--role", "assessor"],
     "There is already an account for ada.admin@north-college.ac.uk."),
    (["user", "create", "--centre", "North College", "--email", "x@north-college.ac.uk",
      "--name", "X", "--role", "boss"],
     "There is no role called 'boss': choose from learner, assessor, iqa, centre_admin."),
    (["user", "create", "--centre", "North College", "--email", "x@north-college.ac.uk",
      "--name", "X", "--role", "learner", "--role", "assessor"],
     "A learner account cannot also hold a staff role."),
    (["user", "create", "--centre", "North College", "--email", "x@@north", "--name", "X",
      "--role", "learner"],
     "'x@@north' is not an email address: The part after the @-sign contains invalid "
     "characters: '@'."),
    (["user", "deactivate", "nobody@north.test"], "There is no account for 'nobody@north.test'."),
    (["user", "reset-link", "nobody@north.test"], "There is no account for 'nobody@north.test'."),
])
def test_bad_input_exits_2_with_one_line_and_changes_nothing(cli, session, people, args,
                                                             message):
    before = rows(session)
    refused(cli.invoke(args=args), message)
    assert rows(session) == before


def test_deactivate_ends_sessions_at_once_and_is_audited_without_an_actor(cli, session, people):
    start_session(session, people.learner1, "10.0.0.1")
    result = cli.invoke(args=["user", "deactivate", "Learner1@North.test"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert not session.get(User, people.learner1.id).is_enabled
    assert count_rows(session, LoginSession, LoginSession.user_id == people.learner1.id,
                      LoginSession.ended_at.is_(None)) == 0
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.deactivated"))
    assert (event.actor_id, event.object_id) == (None, people.learner1.id)

    before = rows(session)
    refused(cli.invoke(args=["user", "deactivate", people.learner1.email]),
            f"{people.learner1.name} is already deactivated.")
    refused(cli.invoke(args=["user", "reset-link", people.learner1.email]),
            "A deactivated account gets no password link.")
    assert rows(session) == before


def test_reset_link_voids_earlier_links_and_sets_a_new_password(cli, session, people):
    earlier = links.issue_link(session, people.learner1, "reset")
    session.commit()
    result = cli.invoke(args=["user", "reset-link", people.learner1.email])
    assert result.exit_code == 0, result.output
    _, token = printed_link(result.stdout)
    assert links.usable_link(session, earlier) is None
    assert links.usable_link(session, token).purpose == "reset"
    people.learner1.password_hash = UNUSABLE_PASSWORD  # never had one: a week-long set link
    session.commit()
    _, token = printed_link(cli.invoke(args=["user", "reset-link", people.learner1.email]).stdout)
    assert links.usable_link(session, token).purpose == "set"
