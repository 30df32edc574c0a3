"""``portfolio notifications digest``: write today's digest mails (the worker also runs it)."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from portfolio.core.errors import DomainError
from portfolio.core.periodic import every
from portfolio.extensions import db
from portfolio.notifications.digest import send_digests

notifications_cli = AppGroup("notifications", help="Notifications and their mail.")


@notifications_cli.command("digest")
def digest_command():
    """One mail to each person on the daily digest who has not had today's, if anything waits
    for them. Safe to run again: a second run the same day sends nothing."""
    try:
        sent = send_digests(db.session)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(2) from None
    click.echo(f"{sent} digest mail{'' if sent == 1 else 's'} written to the outbox.")


@every(dt.timedelta(hours=1), "notifications.digest")
def digest_job() -> None:
    """Hourly: each person's digest goes at the first run of their (UTC) day."""
    try:
        send_digests(db.session)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
