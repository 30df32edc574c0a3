"""``portfolio quality trail``: the sampling trail of a centre, as the trail page shows it, in
CSV (the figures file of the page's downloads) or JSON. Bad input exits 2 with one line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from portfolio.accounts.import_cli import BadInput
from portfolio.accounts.models import Centre
from portfolio.catalogue.models import Qualification
from portfolio.extensions import db
from portfolio.quality.trail import Period, TrailQuery, sampling_trail, today_in_london
from portfolio.quality.trail_export import figures_csv


@click.group("quality")
def quality_cli():
    """Internal quality assurance."""


def _day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{option} {value!r} is not a date: write it as YYYY-MM-DD.") from None


@quality_cli.command("trail")
@click.option("--centre", "centre_name", required=True, metavar="NAME")
@click.option("--qualification", "number", metavar="QN", help="Only this qualification.")
@click.option("--from", "starts_on", metavar="DATE", help="First day (default: a year before "
              "the last).")
@click.option("--to", "ends_on", metavar="DATE", help="Last day (default: today).")
@click.option("--format", "output", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@with_appcontext
def trail_command(centre_name, number, starts_on, ends_on, output):
    """Print the sampling trail of centre NAME: per assessor and qualification, planned against
    done samples, outcomes, open and overdue actions, CAMERA coverage and countersignatures
    pending, then the totals. Dates are UK days, both included."""
    centre = db.session.scalar(sa.select(Centre).where(Centre.name == centre_name))
    if centre is None:
        raise BadInput(f"There is no centre called {centre_name!r}.")
    qualification_id = None
    if number:
        qualification_id = db.session.scalar(
            sa.select(Qualification.id).where(Qualification.qualification_number == number))
        if qualification_id is None:
            raise BadInput(f"There is no qualification {number!r}.")
    today = today_in_london()
    try:
        period = Period.choose(_day(starts_on, "--from"), _day(ends_on, "--to"), today)
    except ValueError as refused:
        raise BadInput(str(refused)) from None
    trail = sampling_trail(db.session, TrailQuery(centre.id, period, today,
                                                  qualification_id=qualification_id))
    if output == "csv":
        click.echo(figures_csv(trail), nl=False)
    else:
        click.echo(json.dumps(trail_json(trail), indent=2))


def trail_json(trail) -> dict:
    period = trail.query.period
    return {
        "centre": trail.centre, "qualification": trail.qualification,
        "from": period.starts_on.isoformat(), "to": period.ends_on.isoformat(),
        "generated_at": trail.generated_at.isoformat(),
        "lines": [{"assessor": line.assessor, "qualification": line.qualification,
                   **dataclasses.asdict(line.figures)} for line in trail.lines],
        "totals": dataclasses.asdict(trail.totals),
    }
