"""``portfolio demo generate``: synthetic centres for demonstrations and benchmarks."""

from __future__ import annotations

import click
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from portfolio.accounts.import_cli import BadInput
from portfolio.demo.generate import DemoRefused, generate
from portfolio.extensions import db


@click.group("demo")
def demo_cli():
    """Synthetic data for demonstrations and benchmarks."""


def migration_head() -> str:
    """The newest revision of the application's migrations."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def vacuum_analyze(engine) -> None:
    """Statistics and the visibility map as a running database's (after bulk loading the planner
    would otherwise avoid index-only scans, and misjudge the tables)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM (ANALYZE)"))


@demo_cli.command("generate")
@click.option("--learners", type=click.IntRange(min=1), required=True,
              help="How many learners, over all the centres.")
@click.option("--centres", type=click.IntRange(min=1),
              help="How many centres (default: one per 500 learners).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="The random seed: the same seed makes the same centres on the same day "
              "(their dates are counted back from today).")
@with_appcontext
def generate_command(learners, centres, seed):
    """Add synthetic centres with staff, learners, evidence, decisions, sign-offs, IQA samples
    and their audit trail, written in bulk. Needs `portfolio db upgrade` and `portfolio
    catalogue import --builtin` done first. A second run adds further centres. The evidence
    files' objects are not written: `portfolio storage verify` reports them missing."""
    try:
        made = generate(db.session, learners, head=migration_head(), centres=centres,
                        seed=seed, progress=click.echo)
    except DemoRefused as refused:
        db.session.rollback()
        raise BadInput(str(refused)) from None
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        vacuum_analyze(db.engine)
    click.echo(f"Generated {made}.")
    for centre in made.centres:
        click.echo(f"  {centre.name}: log in as {centre.email('admin')}, "
                   f"{centre.email('assessor', 0)}, {centre.email('iqa', 0)} or "
                   f"{centre.email('learner', 0)}")
    click.echo(f"Every generated person's password is {made.password}.")
    click.echo("The evidence files' objects were not written (no store is needed): "
               "`portfolio storage verify` reports them missing.")
