"""``portfolio catalogue``: list, show, import, export, evaluate and plan."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from portfolio.catalogue import services
from portfolio.catalogue.planning import plan
from portfolio.catalogue.rules import evaluate
from portfolio.catalogue.spec import SpecError, read_spec_file
from portfolio.catalogue.tree import version_tree
from portfolio.extensions import db


class UsageProblem(click.ClickException):
    """A request the command cannot answer: unknown qualification or unit (exit status 2)."""

    exit_code = 2


@click.group("catalogue")
def catalogue_cli():
    """The qualification catalogue."""


# The operator's commands see the global catalogue; a centre's private versions (imported by its
# admin on the web) only when that centre is named.
centre_option = click.option("--centre", "centre_id", type=int, metavar="ID",
                             help="Also see this centre's own versions.")


@catalogue_cli.command("list")
@centre_option
@with_appcontext
def list_command(centre_id):
    """List the qualifications and their current versions."""
    versions = services.qualification_versions(db.session, centre_id)
    if not versions:
        click.echo("The catalogue is empty: run 'portfolio catalogue import --builtin'.")
    for version in versions:
        click.echo(f"{version.qualification_number:<12} v{version.version:<3} "
                   f"L{version.level} {version.credit_value:>3} credits  {version.title}")


@catalogue_cli.command("show")
@click.argument("qualification_number")
@click.option("--version", "number", type=int, help="A version other than the newest.")
@centre_option
@with_appcontext
def show_command(qualification_number, number, centre_id):
    """Show a qualification's details, rules and units."""
    version = _version(qualification_number, number, centre_id)
    click.echo(f"{version.title}")
    click.echo(f"  QN {version.qualification_number}, version {version.version}, "
               f"{version.awarding_organisation}, level {version.level} {version.size}")
    click.echo(f"  {version.credit_value} credits, GLH {version.glh_display}, "
               f"TQT {version.tqt if version.tqt is not None else 'not stated'}")
    rules = services.rules_from_document(version.rules)
    click.echo(f"  Rules: at least {rules.min_credits} credits")
    for group in rules.groups:
        limits = ", ".join(f"{k.replace('_', ' ')} {getattr(group, k)}"
                           for k in ("min_credits", "max_credits", "min_units", "max_units")
                           if getattr(group, k) is not None)
        kind = "mandatory" if group.mandatory else "optional"
        click.echo(f"    {group.label} ({kind}{', ' + limits if limits else ''}): "
                   f"{', '.join(group.units)}")
    for pool in rules.pools:
        click.echo(f"    {pool.min_credits} further credits from groups {' or '.join(pool.groups)}")
    for level in rules.levels:
        click.echo(f"    at least {level.min_credits} credits {level.phrase}")
    for a, b in rules.barred:
        click.echo(f"    barred: {a} and {b} (only one counts)")
    click.echo("  Units:")
    for unit in version.units:
        click.echo(f"    {unit.number:<4} {unit.urn:<11} L{unit.level} {unit.credit:>2} cr  "
                   f"{unit.criteria_count:>3} criteria  {unit.title}")


@catalogue_cli.command("import")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--builtin", is_flag=True, help="Import the built-in qualifications.")
@with_appcontext
def import_command(files, builtin):
    """Import catalogue files. Every file is checked first; any error imports nothing."""
    if not files and not builtin:
        raise UsageProblem("give catalogue files to import, or --builtin")
    specs, failed = [], False
    sources = [(str(p), p) for p in services.builtin_spec_paths()] if builtin else []
    sources += [(f, f) for f in files]
    for name, path in sources:
        try:
            specs.append(read_spec_file(path))
        except SpecError as error:
            failed = True
            click.echo(f"{name}: {len(error.problems)} problem(s)", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
    if failed:
        click.echo("Nothing was imported.", err=True)
        sys.exit(1)
    for spec in specs:
        click.echo(services.import_spec(db.session, spec).summary)
    db.session.commit()


@catalogue_cli.command("export")
@click.argument("qualification_number")
@click.option("--version", "number", type=int, help="A version other than the newest.")
@click.option("--format", "output_format", type=click.Choice(["json"]), default="json",
              show_default=True)
@centre_option
@with_appcontext
def export_command(qualification_number, number, output_format, centre_id):
    """Write a whole qualification as JSON (re-importable: JSON is valid YAML)."""
    version = _version(qualification_number, number, centre_id)
    document = services.spec_from_version(version).document()
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _achieved_option(function):
    function = click.option("--achieved", default="",
                            help="Achieved units: local numbers or URNs, comma-separated.")(function)
    function = click.option("--json", "as_json", is_flag=True, help="Answer in JSON.")(function)
    function = click.option("--version", "number", type=int,
                            help="A version other than the newest.")(function)
    function = centre_option(function)
    return click.argument("qualification_number")(function)


@catalogue_cli.command("evaluate")
@_achieved_option
@with_appcontext
def evaluate_command(qualification_number, achieved, as_json, number, centre_id):
    """Is the qualification achieved with these units, and if not, what is missing?"""
    version, result = _engine_answer(evaluate, qualification_number, number, centre_id,
                                     achieved, as_json)
    if result is None:
        return
    state = "achieved" if result.achieved else "not yet achieved"
    click.echo(f"{version.qualification_number}: {state}, {result.total_credits} credits count")
    click.echo(f"  counted: {', '.join(result.counted_units) or 'none'}")
    for excluded in result.excluded_units:
        click.echo(f"  excluded: {excluded.unit} ({excluded.reason})")
    for shortfall in result.shortfalls:
        click.echo(f"  - {shortfall.message}")


@catalogue_cli.command("plan")
@_achieved_option
@with_appcontext
def plan_command(qualification_number, achieved, as_json, number, centre_id):
    """The least remaining work: fewest additional credits, then fewest criteria."""
    version, result = _engine_answer(plan, qualification_number, number, centre_id,
                                     achieved, as_json)
    if result is None:
        return
    if not result.units:
        click.echo(f"{version.qualification_number}: nothing left to do")
        return
    click.echo(f"{version.qualification_number}: add {', '.join(result.units)} "
               f"({result.additional_credits} credits, {result.open_criteria} criteria)")


def _version(qualification_number: str, number: int | None, centre_id: int | None):
    version = services.find_version(db.session, qualification_number.strip(), number, centre_id)
    if version is None:
        which = f" version {number}" if number else ""
        raise UsageProblem(f"qualification {qualification_number}{which} is not in the catalogue")
    return version


def _engine_answer(engine, qualification_number, number, centre_id, achieved, as_json):
    """The version and what ``engine`` (evaluate or plan) answers for the achieved units; the
    answer is printed as JSON instead when asked, and None returned in its place."""
    version = _version(qualification_number, number, centre_id)
    try:
        numbers = services.resolve_units(version, achieved.split(","))
    except services.UnitLookupError as error:
        raise UsageProblem(str(error)) from None
    result = engine(version_tree(db.session, version.id).structure, numbers)
    if result is None:
        raise UsageProblem("no combination of units completes this qualification")
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return version, None
    return version, result
