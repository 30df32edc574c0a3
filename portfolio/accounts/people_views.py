"""A person's page for the admins of their centre (their details, roles past and present, staff
records, open caseload, with a form for each change) and everyone's own profile, read-only."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from portfolio.accounts import people, staff
from portfolio.accounts.models import ROLE_LABELS, User
from portfolio.accounts.people_forms import PersonDetailsForm, RolesForm, StaffRecordForm
from portfolio.accounts.permissions import can_manage_account
from portfolio.core.forms import EmptyForm, choices
from portfolio.core.permissions import require
from portfolio.core.web import Outcome, committing
from portfolio.extensions import db

blueprint = Blueprint("people", __name__)



@blueprint.app_template_filter("role_label")
def role_label(role: str) -> str:
    return ROLE_LABELS[role]


FORMS = {"details": PersonDetailsForm, "roles": RolesForm, "staff-records": StaffRecordForm}


def _person(user_id: int) -> User:
    return require(can_manage_account, db.session.get(User, user_id))


def _forms(person: User, posted: str | None = None) -> dict[str, FlaskForm]:
    """Every form of the page, filled from the person; only ``posted`` reads the request."""
    staff_roles = [role for role in staff.STAFF_ROLES if person.holds(role)]
    defaults = {"details": {"name": person.name, "email": person.email},
                "roles": {"roles": person.roles},
                "staff-records": {"role": staff_roles[0] if staff_roles else None}}
    forms = {name: form(prefix=name, data=defaults[name],
                        **({} if name == posted else {"formdata": None}))
             for name, form in FORMS.items()}
    forms["details"].current_email = person.email
    forms["staff-records"].qualification_id.choices = choices(
        (q.id, q.qualification_number)
        for q in staff.qualifications_for(db.session, person.centre_id))
    return forms


def _page(person: User, forms: dict[str, FlaskForm], status: int = 200):
    history = staff.history_of(db.session, person.id)
    return render_template(
        "people/person.html", person=person, forms=forms, buttons=EmptyForm(),
        current_grants=people.current_grants(person, person.centre_id),
        past_grants=people.past_grants(person, person.centre_id),
        caseload=people.open_caseload(db.session, person, person.centre_id),
        records=staff.current_records(history), history=history), status


def _submit(form: FlaskForm, change: Callable[[], object], success: str) -> Outcome:
    """Commit ``change``; a refusal about one answer is shown next to that field, any other
    refusal as a message at the top of the page."""
    refused: people.FieldRefused | None = None
    with committing(flash_messages=False) as done:
        try:
            change()
        except people.FieldRefused as error:
            refused = error
            raise
    if done:
        flash(success, "info")
    elif refused is not None and refused.field in form:
        form[refused.field].errors = [*form[refused.field].errors, str(refused)]
    else:
        flash(done.error, "error")
    return done


@blueprint.get("/admin/users/<int:user_id>")
def show(user_id: int):
    person = _person(user_id)
    return _page(person, _forms(person))


@blueprint.post("/admin/users/<int:user_id>/details", defaults={"action": "details"})
@blueprint.post("/admin/users/<int:user_id>/roles", defaults={"action": "roles"})
@blueprint.post("/admin/users/<int:user_id>/staff-records", defaults={"action": "staff-records"})
def change(user_id: int, action: str):
    person = _person(user_id)
    forms = _forms(person, posted=action)
    form = forms[action]
    if not form.validate_on_submit():
        return _page(person, forms, 422)
    command, success = _COMMANDS[action]
    done = _submit(form, lambda: command(person, form), success)
    if done:
        return redirect(url_for("people.show", user_id=person.id, _anchor=action))
    return _page(person, forms, done.status)


_COMMANDS = {
    "details": (lambda person, form: people.edit_details(
        db.session, person, current_user, name=form.name.data, email=form.email.data),
        "The name and email are saved."),
    "roles": (lambda person, form: people.change_roles(
        db.session, person, current_user, form.roles.data or []),
        "The roles are changed: they apply from the person's next page."),
    "staff-records": (lambda person, form: staff.record_standing(
        db.session, person, staff.Standing(
            qualification_id=form.qualification_id.data, role=form.role.data,
            status=form.status.data, started_on=form.started_on.data,
            held_qualification=form.held_qualification.data or "",
            qualified_on=form.qualified_on.data), current_user),
        "The staff record is saved."),
}


@blueprint.get("/account")
def profile():
    history = staff.history_of(db.session, current_user.id)
    return render_template(
        "people/profile.html", person=current_user,
        current_grants=people.current_grants(current_user, current_user.centre_id),
        records=staff.current_records(history))
