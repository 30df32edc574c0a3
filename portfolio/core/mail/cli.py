"""``portfolio mail status``: what the outbox holds, and the mails given up with their error."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from portfolio.core.mail.outbox import OutboxMail
from portfolio.extensions import db

mail_cli = AppGroup("mail", help="The outbox of mail to send.")

#: Given-up mails listed, newest first.
LISTED = 20


@mail_cli.command("status")
def status_command():
    """Count the mails waiting, sent and given up, and list the last given up with why."""
    settings = current_app.config["PORTFOLIO_SETTINGS"]
    state = sa.case((OutboxMail.sent_at.is_not(None), "sent"),
                    (OutboxMail.given_up_at.is_not(None), "given up"), else_="waiting")
    counts = dict(db.session.execute(sa.select(state, sa.func.count()).group_by(state)).all())
    click.echo(f"waiting: {counts.get('waiting', 0)}  sent: {counts.get('sent', 0)}  "
               f"given up: {counts.get('given up', 0)}")
    if not settings.smtp_url:
        click.echo("PORTFOLIO_SMTP_URL is not set: nothing is sent until it is.")
    for mail in db.session.scalars(
            sa.select(OutboxMail).where(OutboxMail.given_up_at.is_not(None))
            .order_by(OutboxMail.given_up_at.desc()).limit(LISTED)):
        click.echo(f"  mail {mail.id} to {mail.to_address}, {mail.attempts} attempts, given up "
                   f"{mail.given_up_at:%Y-%m-%d %H:%M} UTC: {mail.last_error}")
    if counts.get("given up", 0):
        raise SystemExit(1)
