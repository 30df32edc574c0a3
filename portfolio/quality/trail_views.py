"""The sampling trail's page and its downloads (two CSV files and a PDF), for the IQAs and the
admins of the centre. The filters are a GET form, so a trail can be bookmarked and each download
carries the page's query string: the files always hold what the page shows."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import DateField, Form, SelectField
from wtforms.validators import Optional

from portfolio.accounts.models import Centre, Enrolment, RoleGrant, User
from portfolio.catalogue.models import Qualification
from portfolio.core.forms import choices
from portfolio.core.permissions import require
from portfolio.extensions import db
from portfolio.quality import trail_export
from portfolio.quality.trail import (
    COVERAGE,
    Period,
    TrailQuery,
    sampling_trail,
    today_in_london,
)
from portfolio.quality.trail_listing import trail_samples

blueprint = Blueprint("trail", __name__)


def can_view_trail(user: User, centre: Centre) -> bool:
    """The centre's IQAs and admins."""
    return bool(user.is_authenticated and (user.holds("iqa", centre.id)
                                           or user.holds("centre_admin", centre.id)))


blueprint.add_app_template_global(can_view_trail)


class TrailFilterForm(Form):
    """A GET form: no CSRF token (it changes nothing)."""

    qualification = SelectField("Qualification", coerce=int, validators=[Optional()])
    assessor = SelectField("Assessor", coerce=int, validators=[Optional()])
    starts_on = DateField("From", validators=[Optional()])
    ends_on = DateField("To", validators=[Optional()])


def _filters(centre: Centre) -> tuple[TrailFilterForm, TrailQuery | None]:
    """The form as asked, and the trail's query, or None when a filter is refused (the form
    then carries the message at its field)."""
    form = TrailFilterForm(request.args)
    form.qualification.choices = choices([(0, "All qualifications"), *db.session.execute(
        sa.select(Qualification.id, Qualification.qualification_number).where(
            Qualification.id.in_(sa.select(Enrolment.qualification_id)
                                 .where(Enrolment.centre_id == centre.id)))
        .order_by(Qualification.qualification_number))])
    form.assessor.choices = choices([(0, "All assessors"), *db.session.execute(
        sa.select(User.id, User.name).where(sa.exists().where(
            RoleGrant.user_id == User.id, RoleGrant.role == "assessor",
            RoleGrant.centre_id == centre.id)).order_by(User.name))])
    if not form.validate():
        return form, None
    today = today_in_london()
    try:
        period = Period.choose(form.starts_on.data, form.ends_on.data, today)
    except ValueError as refused:
        form.ends_on.errors = [str(refused)]
        return form, None
    form.starts_on.data, form.ends_on.data = period.starts_on, period.ends_on
    return form, TrailQuery(centre.id, period, today,
                            qualification_id=form.qualification.data or None,
                            assessor_id=form.assessor.data or None)


def _centre() -> Centre:
    return require(can_view_trail, db.session.get(Centre, current_user.centre_id))


@blueprint.get("/quality/trail")
def page():
    form, query = _filters(_centre())
    trail = sampling_trail(db.session, query) if query else None
    return render_template("quality/trail/page.html", form=form, trail=trail,
                           coverage_labels=COVERAGE, count_labels=trail_export.PDF_COUNT_LABELS,
                           args=request.args.to_dict())


def _download(make) -> Response:
    """``make(trail)`` as a download; a refused filter goes back to the page, which says why."""
    form, query = _filters(_centre())
    if query is None:
        return redirect(url_for("trail.page", **request.args))
    trail = sampling_trail(db.session, query)
    body, mimetype, suffix = make(trail)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{trail_export.file_stem(trail)}{suffix}"'})


@blueprint.get("/quality/trail/figures.csv")
def figures_csv():
    return _download(lambda trail: (trail_export.figures_csv(trail), "text/csv", ".csv"))


@blueprint.get("/quality/trail/samples.csv")
def samples_csv():
    return _download(lambda trail: (
        trail_export.samples_csv(trail_samples(db.session, trail.query)), "text/csv",
        "-samples.csv"))


@blueprint.get("/quality/trail/trail.pdf")
def pdf():
    return _download(lambda trail: (
        trail_export.trail_pdf(trail, trail_samples(db.session, trail.query)),
        "application/pdf", ".pdf"))
