"""``portfolio backup create DIR`` and ``portfolio backup restore DIR``."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portfolio.core.backup.create import create_backup
from portfolio.core.backup.manifest import BackupError
from portfolio.core.backup.restore import restore_backup
from portfolio.core.command_store import command_store, serving_embedded_store
from portfolio.core.storage import StorageError
from portfolio.extensions import db, object_store


@click.group("backup")
def backup_cli():
    """Back up and restore the embedded database, every object and the instance secrets."""


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def create_command(directory: Path):
    """Copy the database, then every object, then the secrets into DIRECTORY (new or empty),
    with a manifest of their SHA-256. Safe while the application runs."""
    settings = current_app.config["PORTFOLIO_SETTINGS"]
    try:
        with command_store(settings, object_store()) as opened:
            report = create_backup(settings, db.engine, opened, directory)
    except (BackupError, StorageError) as error:
        _fail(f"The backup failed: {error}")
    click.echo(report.summary(directory))


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Overwrite the instance's database and add to its bucket even if they are "
                   "not empty.")
@with_appcontext
def restore_command(directory: Path, force: bool):
    """Check the backup in DIRECTORY against its manifest, then restore the database, the
    secrets and the objects into this (empty) instance, checking each object once stored."""
    settings = current_app.config["PORTFOLIO_SETTINGS"]
    if (serving := serving_embedded_store(settings)) is not None:
        _fail(f"`portfolio serve` runs this instance's object store (pid {serving['pid']}): "
              f"stop it before restoring into its instance.")
    open_store = functools.partial(command_store, settings, object_store())
    try:
        report = restore_backup(settings, db.engine, open_store, directory, force=force)
    except (BackupError, StorageError) as error:
        _fail(f"The restore failed: {error}")
    click.echo(report.summary(directory))


def _fail(message: str):
    click.echo(message, err=True)
    sys.exit(1)
