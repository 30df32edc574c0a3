"""Logging in and out, the home page, and centre administration (users, enrolments, the
catalogue, the audit trail)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import selectinload

from portfolio.accounts import enrolments as enrolments_lifecycle
from portfolio.accounts import invitations, services, sessions
from portfolio.accounts.audit_links import learner_link, thing_link
from portfolio.accounts.forms import (
    AuditFilterForm,
    CatalogueImportForm,
    ChangePasswordForm,
    EnrolmentForm,
    LoginForm,
    UserForm,
)
from portfolio.accounts.models import Enrolment, RoleGrant, User
from portfolio.accounts.permissions import can_manage_account, can_view_enrolment
from portfolio.catalogue import services as catalogue
from portfolio.catalogue.spec import UPLOAD_MAX_BYTES, SpecError, load_spec
from portfolio.core.audit import AuditEvent
from portfolio.core.dates import LONDON
from portfolio.core.forms import EmptyForm, choices
from portfolio.core.permissions import require, roles_required
from portfolio.core.security import client_address, safe_next_url
from portfolio.core.web import committing
from portfolio.extensions import db

blueprint = Blueprint("accounts", __name__)
blueprint.add_app_template_global(can_view_enrolment)
blueprint.add_app_template_global(can_manage_account)


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = LoginForm()
    if form.validate_on_submit():
        with committing() as done:
            user = services.authenticate(db.session, form.email.data, form.password.data,
                                         client_address())
            sessions.start_session(db.session, user, client_address())
        if not done:
            return render_template("accounts/login.html", form=form), 401
        login_user(user)
        return redirect(safe_next_url(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@blueprint.post("/logout")
def logout():
    if EmptyForm().validate_on_submit():
        with committing() as done:
            sessions.end_session(db.session, current_user)
        if done:
            logout_user()
            flash("You have logged out.", "info")
    return redirect(url_for("accounts.login"))


@blueprint.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with committing("Your password is changed. Any other sessions of yours have ended.") \
                as done:
            services.change_password(db.session, current_user, form.current.data,
                                     form.new.data, address=client_address(),
                                     keep=current_user.login_token)
        if done:
            return redirect(url_for("accounts.home"))
        return render_template("accounts/password.html", form=form), done.status
    return render_template("accounts/password.html", form=form)


@blueprint.get("/")
def home():
    # An assessor's day starts at the caseload, an IQA's at the quality home (which lists the
    # learners they quality-assure); a centre admin who also assesses reaches the admin pages
    # from the header. A person who is also a learner, or both assessor and IQA, keeps this
    # page, the only one listing all their enrolments; the other pages are in their header.
    if current_user.is_assessor and not (current_user.is_learner or current_user.is_iqa):
        return redirect(url_for("assessment.caseload"))
    if current_user.is_iqa and not (current_user.is_learner or current_user.is_assessor):
        return redirect(url_for("quality.home"))
    enrolments = services.enrolments_for(db.session, current_user)
    if current_user.is_learner and len(enrolments) == 1:
        return redirect(url_for("evidence.index", enrolment_id=enrolments[0].id))
    return render_template("accounts/home.html", enrolments=enrolments)


@blueprint.route("/admin/users", methods=["GET", "POST"])
@roles_required("centre_admin")
def users():
    form = UserForm()
    centre_id = current_user.centre_id
    status = 200
    mail_missing = not invitations.mail_is_configured()
    submitted = form.validate_on_submit()
    if submitted and mail_missing:
        form.form_errors.append(invitations.NO_MAIL)
        status = 422
    elif submitted:
        new = services.NewUser(form.email.data, form.name.data, None, form.roles)
        with committing(flash_messages=False) as done:
            invitations.add_person(db.session, current_user.centre, new, actor=current_user)
        if done:
            # Worded from what the admin typed, true whether or not the person had an account.
            flash(f"Added {new.name.strip()} ({services.normalise_email(new.email)}): they "
                  f"have been sent an email to set their password, or to log in with the one "
                  f"they have.", "info")
            return redirect(url_for("accounts.users"))
        # A refusal of a new person is about their address (it has an account here already, or
        # one that cannot take these roles); a conflict or a busy database is the form's.
        (form.email.errors if done.status == 422 else form.form_errors).append(done.error)
        status = done.status
    people = db.session.scalars(
        sa.select(User).where(sa.or_(
            User.centre_id == centre_id,
            sa.exists().where(RoleGrant.user_id == User.id, RoleGrant.centre_id == centre_id)))
        .options(selectinload(User.grants)).order_by(User.name))
    return render_template("admin/users.html", form=form, people=list(people),
                           buttons=EmptyForm(),
                           mail_missing=mail_missing), status


@blueprint.post("/admin/users/<int:user_id>/deactivate", defaults={"change": "deactivate"})
@blueprint.post("/admin/users/<int:user_id>/reactivate", defaults={"change": "reactivate"})
@roles_required("centre_admin")
def set_enabled(user_id: int, change: str):
    user = require(can_manage_account, db.session.get(User, user_id))
    if EmptyForm().validate_on_submit():
        with committing(f"{user.name} is {change}d."):
            action = services.deactivate_user if change == "deactivate" else \
                services.reactivate_user
            action(db.session, user, actor=current_user)
    # The person's page sends its own address, to come back to it.
    return redirect(safe_next_url(request.form.get("next"), "accounts.users"))


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
        for v in catalogue.qualification_versions(db.session, centre_id))
    if form.validate_on_submit():
        with committing("Enrolment created.") as done:
            services.enrol(db.session, current_user.centre, services.NewEnrolment(
                learner_id=form.learner_id.data, version_id=form.version_id.data,
                registration_number=form.registration_number.data,
                start_date=form.start_date.data, planned_end_date=form.planned_end_date.data,
                assessor_id=form.assessor_id.data, iqa_id=form.iqa_id.data),
                actor=current_user)
        if done:
            return redirect(url_for("accounts.enrolments"))
    listed = db.session.scalars(sa.select(Enrolment).where(Enrolment.centre_id == centre_id)
                                .order_by(Enrolment.created_at))
    return render_template("admin/enrolments.html", form=form, enrolments=list(listed),
                           needing=enrolments_lifecycle.needing_holders(db.session, centre_id))


@blueprint.route("/admin/catalogue", methods=["GET", "POST"])
@roles_required("centre_admin")
def catalogue_import():
    form = CatalogueImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            spec = load_spec(form.file.data.stream.read(UPLOAD_MAX_BYTES + 1), UPLOAD_MAX_BYTES)
        except SpecError as error:
            problems = error.problems
        else:
            with committing() as done:
                # A centre's import is its own version: the shared catalogue is the operator's.
                result = catalogue.import_spec(db.session, spec, actor=current_user,
                                               centre_id=current_user.centre_id)
            if done:
                flash(result.summary, "info")
                return redirect(url_for("accounts.catalogue_import"))
    return render_template("admin/catalogue.html", form=form, problems=problems)


AUDIT_PAGE = 200


@blueprint.get("/admin/audit")
@roles_required("centre_admin")
def audit_trail():
    centre_id = current_user.centre_id
    people = list(db.session.scalars(sa.select(User).where(User.centre_id == centre_id)
                                     .options(selectinload(User.grants)).order_by(User.name)))
    form = AuditFilterForm(request.args)
    form.user_id.choices = choices([(0, "Anyone"), *((u.id, u.name) for u in people)])
    form.learner_id.choices = choices(
        [(0, "Any learner"), *((u.id, u.name) for u in people if u.is_learner)])
    form.validate()
    query = sa.select(AuditEvent).where(AuditEvent.centre_id == centre_id)
    if form.user_id.data:
        query = query.where(AuditEvent.actor_id == form.user_id.data)
    if form.learner_id.data:
        query = query.where(AuditEvent.learner_id == form.learner_id.data)
    if form.since.data:
        query = query.where(AuditEvent.at >= dt.datetime.combine(
            form.since.data, dt.time(), tzinfo=LONDON))
    if form.until.data:
        query = query.where(AuditEvent.at < dt.datetime.combine(
            form.until.data + dt.timedelta(days=1), dt.time(), tzinfo=LONDON))
    # Newest first by time, which the (centre, time) index serves: ordered by id alone the
    # planner walks the whole trail's primary key from the newest event, a centre's being old.
    events = list(db.session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                     .limit(AUDIT_PAGE)))
    names = {u.id: u.name for u in people}
    return render_template("admin/audit.html", form=form, events=events, names=names,
                           limit=AUDIT_PAGE, thing_link=thing_link, learner_link=learner_link)
