"""Read-only catalogue pages: the qualifications, one qualification's structure, one unit."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from portfolio.catalogue import services
from portfolio.catalogue.spec import QN_PATTERN, rules_from_document
from portfolio.extensions import db

blueprint = Blueprint("catalogue", __name__, url_prefix="/catalogue")


def qn_from_slug(slug: str) -> str:
    """URLs write a QN with dashes (``600-1636-X``) so that it is one path segment."""
    qualification_number = slug.replace("-", "/")
    if not QN_PATTERN.match(qualification_number):
        abort(404)
    return qualification_number


def slug_for(qualification_number: str) -> str:
    return qualification_number.replace("/", "-")


@blueprint.app_template_filter("qn_slug")
def qn_slug_filter(qualification_number: str) -> str:
    return slug_for(qualification_number)


def _load_version(slug: str):
    requested = request.args.get("version", type=int)
    version = services.find_version(db.session, qn_from_slug(slug), requested,
                                    current_user.centre_id)
    if version is None:
        abort(404)
    return version


@blueprint.get("/")
def index():
    return render_template("catalogue/index.html",
                           versions=services.qualification_versions(db.session,
                                                                    current_user.centre_id))


@blueprint.get("/<slug>")
def qualification(slug: str):
    version = _load_version(slug)
    units = {u.number: u for u in version.units}
    return render_template("catalogue/qualification.html", version=version, units=units,
                           rules=rules_from_document(version.rules),
                           versions=services.sibling_versions(version, current_user.centre_id))


@blueprint.get("/<slug>/units/<number>")
def unit(slug: str, number: str):
    version = _load_version(slug)
    found = next((u for u in version.units if u.number == number), None)
    if found is None:
        abort(404)
    rules = rules_from_document(version.rules)
    group = next((g for g in rules.groups if number in g.units), None)
    barred = [b if a == number else a for a, b in rules.barred if number in (a, b)]
    return render_template("catalogue/unit.html", version=version, unit=found, group=group,
                           barred=barred)
