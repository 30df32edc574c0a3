"""``portfolio storage``: check the object store, verify what it holds, sweep orphaned objects."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from portfolio.core.command_store import command_store, embedded_data_dir
from portfolio.core.db import utcnow
from portfolio.core.embedded_store import vacuum
from portfolio.core.storage import StorageError
from portfolio.evidence import integrity, uploads
from portfolio.extensions import db, object_store


@click.group("storage")
def storage_cli():
    """The S3-compatible object store."""


@storage_cli.command("check")
@with_appcontext
def check_command():
    """Verify the bucket is reachable and writable; say what is wrong if not."""
    store = object_store()
    problems = store.check()
    where = f"{store.config.endpoint_url} bucket {store.config.bucket}"
    if problems:
        click.echo(f"Storage at {where} is NOT usable:", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)
    click.echo(f"Storage at {where} is reachable and writable.")


@storage_cli.command("sweep")
@click.option("--grace", type=int, default=None,
              help="Seconds an object or unattached upload is left alone "
                   "(default: PORTFOLIO_SWEEP_GRACE_SECONDS).")
@with_appcontext
def sweep_command(grace):
    """Remove orphaned objects and uploads never attached to evidence, older than the grace."""
    if grace is None:
        grace = current_app.config["PORTFOLIO_SETTINGS"].sweep_grace_seconds
    cutoff = utcnow() - dt.timedelta(seconds=grace)
    dropped = uploads.drop_unattached_uploads(db.session, cutoff)
    db.session.commit()
    settings = current_app.config["PORTFOLIO_SETTINGS"]
    with command_store(settings, object_store()) as store:
        swept = uploads.sweep_objects(db.session, store, cutoff)
        click.echo(f"Removed {dropped} unattached upload(s), {swept.orphaned_objects} orphaned "
                   f"object(s) and {swept.aborted_multipart_uploads} stalled multipart upload(s).")
        # SeaweedFS frees a deleted object's space only when it compacts the volume.
        if settings.uses_embedded_store and vacuum(embedded_data_dir(settings)):
            click.echo("Compacted the embedded store's volumes: their deleted objects' space "
                       "is free.")


@storage_cli.command("verify")
@click.option("--sample", type=click.IntRange(min=1), default=None,
              help="Check this many files chosen at random instead of every one.")
@with_appcontext
def verify_command(sample):
    """Re-read stored files and check their size and SHA-256 against the records.

    Exit status 0 when every file checked is intact, 1 when any is missing or altered, 2 when
    the store does not answer."""
    settings = current_app.config["PORTFOLIO_SETTINGS"]
    try:
        with command_store(settings, object_store()) as store:
            scrub = integrity.verify_store(db.session, store, sample)
    except StorageError as error:
        click.echo(f"Cannot verify the store: {error}", err=True)
        sys.exit(2)
    for damage in scrub.damaged:
        click.echo(f"{damage.key}: {damage.problem}")
        for line in damage.context:
            click.echo(f"  {line}")
    click.echo(scrub.summary())
    sys.exit(0 if scrub.ok else 1)
