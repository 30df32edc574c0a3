"""Logging in and out, the home page, and centre administration (users, enrolments, catalogue)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from portfolio.accounts import services
from portfolio.accounts.forms import CatalogueImportForm, EnrolmentForm, LoginForm, UserForm
from portfolio.accounts.models import Enrolment, User
from portfolio.catalogue import services as catalogue
from portfolio.catalogue.spec import MAX_BYTES, SpecError, load_spec
from portfolio.core.forms import EmptyForm, choices
from portfolio.core.permissions import roles_required
from portfolio.core.security import client_address, safe_next_url
from portfolio.extensions import db

blueprint = Blueprint("accounts", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(db.session, form.email.data, form.password.data,
                                         client_address())
        except services.AccountError as error:
            db.session.commit()  # the failed attempt and its audit event must be kept
            flash(str(error), "error")
            return render_template("accounts/login.html", form=form), 401
        db.session.commit()
        login_user(user)
        return redirect(safe_next_url(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@blueprint.post("/logout")
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
        flash("You have logged out.", "info")
    return redirect(url_for("accounts.login"))


@blueprint.get("/")
def home():
    enrolments = services.enrolments_for(db.session, current_user)
    if current_user.is_learner and len(enrolments) == 1:
        return redirect(url_for("evidence.index", enrolment_id=enrolments[0].id))
    return render_template("accounts/home.html", enrolments=enrolments)


@blueprint.route("/admin/users", methods=["GET", "POST"])
@roles_required("centre_admin")
def users():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                db.session, current_user.centre,
                services.NewUser(form.email.data, form.name.data, form.password.data,
                                 tuple(form.roles.data)),
                actor=current_user)
        except services.AccountError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"Created {user.name} ({user.email}).", "info")
            return redirect(url_for("accounts.users"))
    people = db.session.scalars(sa.select(User).where(User.centre_id == current_user.centre_id)
                                .order_by(User.name))
    return render_template("admin/users.html", form=form, people=list(people))


@blueprint.route("/admin/enrolments", methods=["GET", "POST"])
@roles_required("centre_admin")
def enrolments():
    centre_id = current_user.centre_id
    form = EnrolmentForm()
    form.learner_id.choices = choices(
        (u.id, f"{u.name} ({u.email})")
        for u in services.centre_staff(db.session, centre_id, "learner"))
    form.assessor_id.choices = choices(
        (u.id, u.name) for u in services.centre_staff(db.session, centre_id, "assessor"))
    form.iqa_id.choices = choices(
        (u.id, u.name) for u in services.centre_staff(db.session, centre_id, "iqa"))
    form.version_id.choices = choices(
        (v.id, f"{v.title} ({v.qualification_number}, v{v.version})")
        for v in catalogue.qualification_versions(db.session))
    if form.validate_on_submit():
        try:
            services.enrol(db.session, current_user.centre, services.NewEnrolment(
                learner_id=form.learner_id.data, version_id=form.version_id.data,
                registration_number=form.registration_number.data,
                start_date=form.start_date.data, planned_end_date=form.planned_end_date.data,
                assessor_id=form.assessor_id.data, iqa_id=form.iqa_id.data),
                actor=current_user)
        except services.AccountError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Enrolment created.", "info")
            return redirect(url_for("accounts.enrolments"))
    listed = db.session.scalars(sa.select(Enrolment).where(Enrolment.centre_id == centre_id)
                                .order_by(Enrolment.created_at))
    return render_template("admin/enrolments.html", form=form, enrolments=list(listed))


@blueprint.route("/admin/catalogue", methods=["GET", "POST"])
@roles_required("centre_admin")
def catalogue_import():
    form = CatalogueImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        data = form.file.data.stream.read(MAX_BYTES + 1)
        try:
            result = catalogue.import_spec(db.session, load_spec(data), actor=current_user)
        except SpecError as error:
            db.session.rollback()
            problems = error.problems
        else:
            db.session.commit()
            flash(result.summary, "info")
            return redirect(url_for("accounts.catalogue_import"))
    return render_template("admin/catalogue.html", form=form, problems=problems)
