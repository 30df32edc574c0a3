"""``portfolio users import``: learners and their enrolments from a centre's CSV file."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from portfolio.accounts.imports import MAX_BYTES, ImportRefused, import_learners
from portfolio.accounts.invitations import import_summary
from portfolio.accounts.models import Centre
from portfolio.extensions import db


class BadInput(click.ClickException):
    """Input the command refuses (exit status 2, like click's own usage errors)."""

    exit_code = 2


@click.group("users")
def users_cli():
    """People and their enrolments."""


@users_cli.command("import")
@click.option("--centre", "centre_name", required=True, metavar="NAME",
              help="The centre the learners join.")
@click.option("--dry-run", is_flag=True, help="Check the file and import nothing.")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def import_command(centre_name, dry_run, file):
    """Import learners and their enrolments from a CSV file with the columns
    email,name,qualification,registration_number,start,planned_end,assessor_email,iqa_email
    (dates as YYYY-MM-DD or DD/MM/YYYY). Nothing is imported unless every row is right."""
    centre = db.session.scalar(sa.select(Centre).where(Centre.name == centre_name))
    if centre is None:
        raise BadInput(f"There is no centre called {centre_name!r}.")
    try:
        result = import_learners(db.session, centre, file.read(MAX_BYTES + 1), actor=None)
    except ImportRefused as refused:
        db.session.rollback()
        for problem in refused.problems:
            click.echo(str(problem), err=True)
        raise BadInput(str(refused)) from None
    except IntegrityError:
        # A learner or registration number added elsewhere since the check: the unique index
        # refused it.
        db.session.rollback()
        raise BadInput("Someone added one of these learners or registration numbers while "
                       "the file was imported: nothing was imported; run it again.") from None
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: the file is ready to import {len(result.rows)} learners with "
                   "their enrolments. Nothing was imported.")
        return
    db.session.commit()
    click.echo(import_summary(result))
