"""An enrolment's page: its status, holders past and present and breaks, for everyone who may
see the learner's record; and, for the admins of its centre while it is open, a form for each
change (``accounts.enrolments``)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user

from portfolio.accounts import enrolments as lifecycle
from portfolio.accounts.enrolment_forms import (
    BreakForm,
    CompleteForm,
    EditEnrolmentForm,
    EndBreakForm,
    MoveEnrolmentForm,
    WithdrawForm,
)
from portfolio.accounts.history import EnrolmentBreak
from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.permissions import can_manage_enrolment, can_view_enrolment
from portfolio.accounts.services import centre_staff
from portfolio.core.forms import choices
from portfolio.core.permissions import require
from portfolio.core.web import committing
from portfolio.extensions import db

blueprint = Blueprint("enrolments", __name__)
blueprint.add_app_template_global(can_manage_enrolment)

FORMS = {"edit": EditEnrolmentForm, "move": MoveEnrolmentForm, "break": BreakForm,
         "end-break": EndBreakForm, "withdraw": WithdrawForm, "complete": CompleteForm}


def _enrolment(enrolment_id: int) -> Enrolment:
    # Viewing is enough to reach the actions: the service refuses non-admins and ended
    # enrolments with a message; another centre's enrolment is a 404 here.
    return require(can_view_enrolment, db.session.get(Enrolment, enrolment_id))


def _forms(enrolment: Enrolment, posted: str | None = None) -> dict[str, object]:
    """Every form of the page, filled from the enrolment; only ``posted`` reads the request."""
    today = dt.date.today()
    defaults = {
        "edit": {"registration_number": enrolment.registration_number,
                 "start_date": enrolment.start_date,
                 "planned_end_date": enrolment.planned_end_date},
        "move": {"assessor_id": enrolment.assessor_id, "iqa_id": enrolment.iqa_id},
        "break": {"starts_on": today}, "end-break": {"ends_on": today},
        "withdraw": {"ended_on": today}, "complete": {"ended_on": today},
    }
    forms = {name: form(prefix=name, data=defaults[name],
                        **({} if name == posted else {"formdata": None}))
             for name, form in FORMS.items()}
    move = forms["move"]
    move.assessor_id.choices = _holders(enrolment, "assessor", enrolment.assessor)
    move.iqa_id.choices = _holders(enrolment, "iqa", enrolment.iqa)
    return forms


def _holders(enrolment: Enrolment, role: str, current: User):
    """The centre's staff who may take the role, and the current holder even if they no longer
    may (so that moving one role leaves the other as it is)."""
    staff = centre_staff(db.session, enrolment.centre_id, role)
    if current not in staff:
        staff.insert(0, current)
    return choices((user.id, user.name if user.is_enabled else f"{user.name} (deactivated)")
                   for user in staff)


def _page(enrolment: Enrolment, forms: dict[str, object], status: int = 200):
    breaks = lifecycle.breaks_of(db.session, enrolment)
    return render_template(
        "enrolments/show.html", enrolment=enrolment, forms=forms, breaks=breaks,
        current_break=lifecycle.current_break(breaks),
        holders=lifecycle.holders_of(db.session, enrolment)), status


@blueprint.get("/enrolments/<int:enrolment_id>/record")
def show(enrolment_id: int):
    enrolment = _enrolment(enrolment_id)
    return _page(enrolment, _forms(enrolment))


@blueprint.post("/enrolments/<int:enrolment_id>/edit", defaults={"action": "edit"})
@blueprint.post("/enrolments/<int:enrolment_id>/move", defaults={"action": "move"})
@blueprint.post("/enrolments/<int:enrolment_id>/break", defaults={"action": "break"})
@blueprint.post("/enrolments/<int:enrolment_id>/withdraw", defaults={"action": "withdraw"})
@blueprint.post("/enrolments/<int:enrolment_id>/complete", defaults={"action": "complete"})
def change(enrolment_id: int, action: str):
    enrolment = _enrolment(enrolment_id)
    forms = _forms(enrolment, posted=action)
    form = forms[action]
    if not form.validate_on_submit():
        return _page(enrolment, forms, 422)
    command, message = _COMMANDS[action]
    with committing(message) as done:
        command(enrolment, form)
    if done:
        return redirect(url_for("enrolments.show", enrolment_id=enrolment.id))
    return _page(enrolment, forms, done.status)


@blueprint.post("/enrolments/<int:enrolment_id>/breaks/<int:break_id>/end")
def end_break(enrolment_id: int, break_id: int):
    enrolment = _enrolment(enrolment_id)
    pause = db.session.get(EnrolmentBreak, break_id)
    if pause is None or pause.enrolment_id != enrolment.id:
        abort(404)
    forms = _forms(enrolment, posted="end-break")
    if not forms["end-break"].validate_on_submit():
        return _page(enrolment, forms, 422)
    with committing("The break is ended.") as done:
        lifecycle.end_break(db.session, pause, current_user, forms["end-break"].ends_on.data)
    if done:
        return redirect(url_for("enrolments.show", enrolment_id=enrolment.id))
    return _page(enrolment, forms, done.status)


_COMMANDS = {
    "edit": (lambda enrolment, form: lifecycle.edit_enrolment(
        db.session, enrolment, lifecycle.EnrolmentDetails(
            form.registration_number.data, form.start_date.data, form.planned_end_date.data),
        current_user), "The enrolment's details are changed."),
    "move": (lambda enrolment, form: lifecycle.move_enrolment(
        db.session, enrolment, current_user, assessor_id=form.assessor_id.data,
        iqa_id=form.iqa_id.data), "The enrolment is moved."),
    "break": (lambda enrolment, form: lifecycle.record_break(
        db.session, enrolment, current_user, starts_on=form.starts_on.data,
        ends_on=form.ends_on.data, reason=form.reason.data,
        planned_end_date=form.planned_end_date.data), "The break is recorded."),
    "withdraw": (lambda enrolment, form: lifecycle.withdraw_enrolment(
        db.session, enrolment, current_user, on=form.ended_on.data, reason=form.reason.data),
        "The learner is withdrawn: the enrolment is now read-only."),
    "complete": (lambda enrolment, form: lifecycle.complete_enrolment(
        db.session, enrolment, current_user, on=form.ended_on.data),
        "The enrolment is complete: it is now read-only."),
}
