"""The operator's commands for centres and people: ``portfolio centre create`` and ``portfolio
user create | deactivate | reset-link``. They act as no user (audited with no actor), print the
password link they make, and also mail it when mail is set up. Bad input exits 2 with one line
and changes nothing."""

from __future__ import annotations

import click
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask.cli import with_appcontext

from portfolio.accounts import invitations, links
from portfolio.accounts.events import centre_created
from portfolio.accounts.import_cli import BadInput
from portfolio.accounts.models import ROLE_LABELS, Centre, User
from portfolio.accounts.services import (
    AccountError,
    NewUser,
    deactivate_user,
    normalise_email,
)
from portfolio.core.mail import MailRefused
from portfolio.extensions import db

#: Where ``portfolio serve`` (and ``make run``) answers unless told otherwise: the printed links
#: point there while ``PORTFOLIO_BASE_URL`` is not set.
DEFAULT_SITE = "http://127.0.0.1:5000"


def _email(value: str) -> str:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise BadInput(f"{value!r} is not an email address: {error}") from None
    return normalise_email(value)


def _centre(name: str) -> Centre:
    centre = db.session.scalar(sa.select(Centre).where(Centre.name == name))
    if centre is None:
        raise BadInput(f"There is no centre called {name!r}.")
    return centre


def _user(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise BadInput(f"There is no account for {email!r}.")
    return user


def _show_link(user: User, token: str, mailed: bool) -> None:
    base = current_app.config["PORTFOLIO_SETTINGS"].base_url
    click.echo(f"Link for {user.name} <{user.email}>"
               f"{' (also emailed to them)' if mailed else ''}:")
    click.echo(f"  {(base or DEFAULT_SITE).rstrip('/')}{links.link_path(token)}")
    if not base:
        click.echo(f"PORTFOLIO_BASE_URL is not set, so the link assumes the site is at "
                   f"{DEFAULT_SITE} (`portfolio serve` and `make run`); set it to the site's "
                   f"address to print links people can open elsewhere.", err=True)


def _add(centre: Centre, email: str, name: str, roles: tuple[str, ...]) -> None:
    """Add the person, commit, and print (and mail) their link; any refusal changes nothing."""
    mail = invitations.mail_is_configured()
    try:
        user, token = invitations.add_person(db.session, centre,
                                             NewUser(email, name, None, roles), None, mail=mail)
    except (AccountError, MailRefused) as refused:
        db.session.rollback()
        raise BadInput(str(refused)) from None
    db.session.commit()
    if token is None:
        click.echo(f"{user.email} already has an account (in {user.centre.name}): they now "
                   f"hold {', '.join(roles)} in {centre.name} and log in with their own "
                   f"password.")
    else:
        _show_link(user, token, mail)


@click.group("centre")
def centre_cli():
    """Assessment centres."""


@centre_cli.command("create")
@click.argument("name")
@click.option("--admin-email", required=True, metavar="EMAIL", help="The centre's first admin.")
@click.option("--admin-name", required=True, metavar="NAME", help="The admin's name.")
@with_appcontext
def create_centre_command(name, admin_email, admin_name):
    """Create the centre NAME and its first admin, and print the admin's set-your-password link
    (also emailed when mail is set up)."""
    name, admin_name = name.strip(), admin_name.strip()
    email = _email(admin_email)
    if not name or not admin_name:
        raise BadInput("The centre and its admin each need a name.")
    if db.session.scalar(sa.select(Centre.id).where(Centre.name == name)):
        raise BadInput(f"There is already a centre called {name!r}.")
    centre = Centre(name=name)
    db.session.add(centre)
    db.session.flush()
    centre_created.emit(db.session, centre_id=centre.id, subject=centre, name=name)
    _add(centre, email, admin_name, ("centre_admin",))


@click.group("user")
def user_cli():
    """One person's account."""


@user_cli.command("create")
@click.option("--centre", "centre_name", required=True, metavar="NAME")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", required=True, multiple=True, metavar="ROLE",
              help=f"One of {', '.join(ROLE_LABELS)}; repeat for several staff roles.")
@with_appcontext
def create_user_command(centre_name, email, name, roles):
    """Add a person to a centre and print their set-your-password link (also emailed when mail
    is set up). A learner holds the learner role alone; staff any of the staff roles."""
    centre = _centre(centre_name)
    email = _email(email)
    if not name.strip():
        raise BadInput("Give the person's name.")
    unknown = [role for role in roles if role not in ROLE_LABELS]
    if unknown:
        raise BadInput(f"There is no role called {unknown[0]!r}: choose from "
                       f"{', '.join(ROLE_LABELS)}.")
    _add(centre, email, name.strip(), tuple(dict.fromkeys(roles)))


@user_cli.command("deactivate")
@click.argument("email")
@with_appcontext
def deactivate_command(email):
    """Stop a person logging in and end their open sessions at once."""
    user = _user(email)
    try:
        deactivate_user(db.session, user, actor=None)
    except AccountError as refused:
        db.session.rollback()
        raise BadInput(str(refused)) from None
    db.session.commit()
    click.echo(f"{user.name} <{user.email}> is deactivated; their sessions have ended.")


@user_cli.command("reset-link")
@click.argument("email")
@with_appcontext
def reset_link_command(email):
    """Print a password link for someone locked out (also emailed when mail is set up): a
    reset link, working once for an hour, or a set-your-password link, for a week, to an account
    that never had a password. It voids their earlier links."""
    user = _user(email)
    mail = invitations.mail_is_configured()
    purpose = links.purpose_for(user)
    try:
        if mail:
            token = invitations.send_links(db.session, [user], purpose)[0]
        else:
            token = links.issue_link(db.session, user, purpose)
    except (AccountError, MailRefused) as refused:
        db.session.rollback()
        raise BadInput(str(refused)) from None
    db.session.commit()
    _show_link(user, token, mail)
