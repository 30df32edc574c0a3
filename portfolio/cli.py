"""The ``portfolio`` command: Flask's CLI group bound to the application factory.

``portfolio db upgrade`` (Flask-Migrate), ``portfolio serve`` (``--production``: gunicorn),
``portfolio worker``, ``portfolio catalogue ...``, ``portfolio storage ...``,
``portfolio mail status``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import NoReturn

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from portfolio import create_app
from portfolio.config import PROJECT_ROOT

#: gunicorn's configuration. It is found beside the package, as the migrations and templates
#: are: portfolio runs from its source tree (``pip install -e .``), not from a wheel.
GUNICORN_CONFIG = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"
#: The options only the development server takes, and those only gunicorn takes.
_DEVELOPMENT_ONLY = ("host", "port", "demo")
_PRODUCTION_ONLY = ("bind", "workers", "threads")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--demo", is_flag=True,
              help="Create the demo centre (once, on an installation with no other centre) and "
                   "print its logins.")
@click.option("--production", is_flag=True,
              help="Serve with gunicorn and deploy/gunicorn.conf.py, in place of this process. "
                   "Needs an S3 store and a database migrated to the latest revision.")
@click.option("--bind", metavar="HOST:PORT",
              help="With --production: the address gunicorn listens on (default 127.0.0.1:8000).")
@click.option("--workers", type=click.IntRange(min=1),
              help="With --production: processes (default one per core).")
@click.option("--threads", type=click.IntRange(min=1),
              help="With --production: threads per process (default in deploy/gunicorn.conf.py).")
@click.pass_context
@with_appcontext
def serve_command(context, host, port, demo, production, bind, workers, threads):
    """Serve the application: with the development server, starting the embedded object store
    when none is configured, or with --production, gunicorn."""
    _refuse_mixed_options(context, production)
    if production:
        _exec_gunicorn(bind, workers, threads)
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


def _refuse_mixed_options(context: click.Context, production: bool) -> None:
    given = {name for name in _DEVELOPMENT_ONLY + _PRODUCTION_ONLY
             if context.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE}
    if production and (wrong := given & set(_DEVELOPMENT_ONLY)):
        raise click.UsageError(f"{_listed(wrong)}: not with --production (gunicorn takes "
                               f"--bind HOST:PORT).")
    if not production and (wrong := given & set(_PRODUCTION_ONLY)):
        raise click.UsageError(f"{_listed(wrong)}: only with --production.")


def _listed(options: set[str]) -> str:
    return ", ".join(f"--{name}" for name in sorted(options))


class ProductionRefusal(click.ClickException):
    """Why ``serve --production`` does not start: one line, exit status 2 as for a usage
    error, so that a supervisor does not restart it in a loop to no avail."""

    exit_code = 2


def _exec_gunicorn(bind: str | None, workers: int | None, threads: int | None) -> NoReturn:
    """Check what production needs, then become gunicorn (same pid: a supervisor such as
    systemd watches gunicorn itself and its signals reach gunicorn)."""
    from portfolio.extensions import db

    settings = current_app.config["PORTFOLIO_SETTINGS"]
    if settings.uses_embedded_store:
        raise ProductionRefusal(
            "PORTFOLIO_S3_ENDPOINT_URL is not set: production needs an S3 store (the embedded "
            "one is for `portfolio serve` alone; see deploy/README.md).")
    if not GUNICORN_CONFIG.is_file():
        raise ProductionRefusal(
            f"{GUNICORN_CONFIG} is missing: install portfolio from its source tree "
            f"(pip install -e .), which holds deploy/ beside the package.")
    _refuse_unless_migrated(db.engine)
    if db.engine.dialect.name == "sqlite":
        click.echo("Warning: serving on SQLite. PostgreSQL is the production database "
                   "(PORTFOLIO_DATABASE_URL, see deploy/README.md).", err=True)
    db.engine.dispose()
    options = [("--bind", bind), ("--workers", workers), ("--threads", threads)]
    arguments = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG),
                 *(f"{name}={value}" for name, value in options if value is not None),
                 "portfolio:create_app()"]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, arguments)


def _refuse_unless_migrated(engine) -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    try:
        # Alembic's own table, read directly: its MigrationContext would log on the way.
        with engine.connect() as connection:
            current = (set(connection.scalars(sa.text("SELECT version_num FROM alembic_version")))
                       if sa.inspect(connection).has_table("alembic_version") else set())
    except sa.exc.OperationalError as error:
        answer = " ".join(str(error.orig).split())  # the driver's message may span lines
        raise ProductionRefusal(f"The database does not answer: {answer}") from None
    if current != set(scripts.get_heads()):
        at = ", ".join(sorted(current)) or "no revision (empty)"
        raise ProductionRefusal(
            f"The database is at {at}, not the latest revision "
            f"{', '.join(scripts.get_heads())}: run `portfolio db upgrade` first.")


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
