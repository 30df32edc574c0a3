"""The ``portfolio`` command: Flask's CLI group bound to the application factory.

``portfolio db upgrade`` (Flask-Migrate), ``portfolio serve``, ``portfolio worker``,
``portfolio catalogue ...``, ``portfolio storage ...``, ``portfolio mail status``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from portfolio import create_app


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--demo", is_flag=True,
              help="Create the demo centre (once, on an installation with no other centre) and "
                   "print its logins.")
@with_appcontext
def serve_command(host, port, demo):
    """Serve the application, starting the embedded object store when none is configured."""
    from werkzeug.serving import run_simple

    from portfolio.accounts.services import AccountError, seed_demo_centre
    from portfolio.catalogue.services import qualification_versions
    from portfolio.core.embedded_store import EmbeddedStore
    from portfolio.core.mail.worker import MailWorker
    from portfolio.extensions import db

    logins = []
    if demo:
        versions = {v.qualification_number: v for v in qualification_versions(db.session)}
        try:
            logins = seed_demo_centre(db.session, versions)
        except AccountError as error:
            db.session.rollback()
            raise click.UsageError(str(error)) from None
        db.session.commit()
    # A plain SIGTERM would skip the ``finally`` below and leave the object store running.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    settings = current_app.config["PORTFOLIO_SETTINGS"]
    embedded = None
    if settings.uses_embedded_store:
        embedded = EmbeddedStore(
            settings.instance_path / "objects", s3_port=settings.embedded_s3_port,
            bucket=settings.s3_bucket, access_key=settings.resolved_s3_access_key,
            secret_key=settings.resolved_s3_secret_key)
        embedded.start()
        click.echo(f"Embedded object store (SeaweedFS) on {embedded.endpoint_url}, "
                   f"pid {embedded.pid}, data in {settings.instance_path / 'objects'}")
    # The embedded default has no other process to send mail: this one does, in a thread.
    mail_worker = MailWorker(current_app._get_current_object()).start()
    try:
        if logins:
            click.echo("Demo logins:")
            for email, password, roles in logins:
                click.echo(f"  {email:<22} {password}   ({roles})")
        click.echo(f"Serving on http://{host}:{port}/")
        run_simple(host, port, current_app._get_current_object(), threaded=True)
    finally:
        mail_worker.stop()
        if embedded is not None:
            embedded.stop()


@click.command("worker")
@with_appcontext
def worker_command():
    """Send the outbox's mail until stopped (SIGTERM or Ctrl-C ends it after the current send)."""
    from portfolio.core.mail.worker import MailWorker

    if not current_app.config["PORTFOLIO_SETTINGS"].smtp_url:
        raise click.UsageError("PORTFOLIO_SMTP_URL is not set: there is no mail server to send "
                               "to, and mail waits in the outbox until there is.")
    worker = MailWorker(current_app._get_current_object())
    signal.signal(signal.SIGTERM, lambda signum, frame: worker.stop_soon())
    with contextlib.suppress(KeyboardInterrupt):
        worker.run()


def command_group() -> FlaskGroup:
    """Every ``portfolio`` command: the application's and the process-level ones."""
    group = FlaskGroup(create_app=lambda: create_app(), help=__doc__)
    group.add_command(serve_command)
    group.add_command(worker_command)
    return group


def main() -> None:
    # Whatever the command creates (the embedded database and its journal, secrets, the embedded
    # store's files, which its process inherits this from) is its owner's alone.
    os.umask(0o077)
    command_group()(prog_name="portfolio")
