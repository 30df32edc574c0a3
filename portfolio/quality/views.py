"""The IQA's home, opening and recording a sample, a sample's page and its actions."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portfolio.accounts.models import Enrolment
from portfolio.assessment.judging import inline_files
from portfolio.core.forms import EmptyForm, choices
from portfolio.core.permissions import require, roles_required
from portfolio.core.web import committing
from portfolio.extensions import db, object_store
from portfolio.quality import actions, permissions
from portfolio.quality.countersigning import countersign_samples, samples_awaiting
from portfolio.quality.errors import SampleRefused
from portfolio.quality.forms import EntryForm, SampleForm
from portfolio.quality.home import home_for, learners_of
from portfolio.quality.models import PlannedSample, Sample, SampleAction, SamplingPlan
from portfolio.quality.reading import SampleContext, sample_context, sampled_record
from portfolio.quality.sampling import record_sample

blueprint = Blueprint("quality", __name__, url_prefix="/quality")
for _predicate in (permissions.can_sample, permissions.can_respond, permissions.can_close,
                   permissions.can_reopen):
    blueprint.add_app_template_global(_predicate)

CONFLICT = ("This sample was recorded by someone else at the same moment. Nothing of yours was "
            "saved: check the IQA home for it.")


@blueprint.get("")
@roles_required("iqa", "assessor")
def home():
    return render_template("quality/home.html", home=home_for(db.session, current_user),
                           learners=learners_of(db.session, current_user),
                           samples_to_countersign=samples_awaiting(db.session, current_user))


@blueprint.route("/countersignatures", methods=["GET", "POST"])
def countersignatures():
    """Samples of IQAs working towards their qualification, for a qualified IQA to countersign,
    several at once."""
    if not permissions.can_countersign_samples(current_user):
        abort(404)
    form, status = EmptyForm(), 200
    if request.method == "POST" and form.validate_on_submit():
        ids = {int(value) for value in request.form.getlist("sample") if value.isdigit()}
        chosen = list(db.session.scalars(sa.select(Sample).where(
            Sample.id.in_(ids), Sample.centre_id == current_user.centre_id)
            .order_by(Sample.id)))
        if len(chosen) != len(ids):
            abort(404)
        with committing("Sample countersigned." if len(chosen) == 1
                         else f"{len(chosen)} samples countersigned.") as done:
            countersign_samples(db.session, current_user, chosen)
        if done:
            return redirect(url_for("quality.countersignatures"))
        status = done.status
    return render_template("quality/countersignatures.html", form=form,
                           samples=samples_awaiting(db.session, current_user)), status


@blueprint.route("/enrolments/<int:enrolment_id>/units/<int:unit_id>/sample",
                 methods=["GET", "POST"])
def open_sample(enrolment_id: int, unit_id: int):
    enrolment = require(permissions.can_sample, db.session.get(Enrolment, enrolment_id))
    return _sample_form(enrolment, unit_id, None)


@blueprint.route("/planned/<int:planned_id>/sample", methods=["GET", "POST"])
def open_planned(planned_id: int):
    planned = db.session.get(PlannedSample, planned_id) or abort(404)
    plan = db.session.get(SamplingPlan, planned.plan_id)
    if not permissions.can_carry_out(current_user, planned, plan):
        abort(404)
    return _sample_form(planned.enrolment, planned.unit_id, planned)


def _sample_form(enrolment: Enrolment, unit_id: int, planned: PlannedSample | None):
    context = sample_context(db.session, enrolment, unit_id, current_user, planned) or abort(404)
    form = SampleForm()
    for row in form.actions:
        row.owner_id.choices = _owners(context)
    problems: dict[str, str] = {}
    status = 200
    if form.validate_on_submit():
        with committing(flash_messages=False, conflict=CONFLICT) as done:
            try:
                sample = record_sample(db.session, current_user, enrolment, unit_id,
                                       form.record(), planned)
            except SampleRefused as refused:
                problems = refused.problems
                raise
        if done:
            flash("Sample recorded.", "info")
            return redirect(url_for("quality.sample", sample_id=sample.id))
        status = done.status
        form.form_errors.append(done.error)
        _show_problems(form, problems)
    elif form.is_submitted():
        status = 422
    else:
        form.decisions.data = context.selectable_decision_ids
        form.items.data = context.item_ids
    return render_template("quality/open.html", context=context, form=form,
                           inline={item.id: inline_files(item, object_store())
                                   for item in context.items}), status


def _owners(context: SampleContext):
    """Who may own an action: the learner's assessor first (the default), then any other
    assessor of the unit's decisions."""
    people = [context.enrolment.assessor]
    for row in context.criteria:
        people.extend(d.assessor for d in row.decisions if d.assessor not in people)
    return choices((person.id, person.name) for person in people)


def _show_problems(form: SampleForm, problems: dict[str, str]) -> None:
    """Each refusal at its field: ``actions-<row>-<field>`` at that row's field."""
    for name, message in problems.items():
        if name == "actions":  # about the rows as a whole, drawn above them
            form.actions_problem = message
            continue
        target = form
        for part in name.split("-"):
            target = target[int(part)] if part.isdigit() else target[part]
        target.errors = [*target.errors, message]


@blueprint.get("/samples/<int:sample_id>")
def sample(sample_id: int):
    return _sample_page(require(permissions.can_view_sample, db.session.get(Sample, sample_id)))


def _sample_page(sample: Sample, posted: tuple[int, EntryForm] | None = None, status=200):
    forms = {action.id: EntryForm(prefix=f"action-{action.id}", formdata=None)
             for action in sample.actions}
    if posted:
        forms[posted[0]] = posted[1]
    return render_template("quality/sample.html", sample=sample, forms=forms,
                           sampled=sampled_record(db.session, sample)), status


@blueprint.post("/actions/<int:action_id>/respond", defaults={"verb": "respond"})
@blueprint.post("/actions/<int:action_id>/close", defaults={"verb": "close"})
@blueprint.post("/actions/<int:action_id>/reopen", defaults={"verb": "reopen"})
def act(action_id: int, verb: str):
    predicate, command, message = VERBS[verb]
    action = require(predicate, db.session.get(SampleAction, action_id))
    form = EntryForm(prefix=f"action-{action.id}")
    if not form.validate_on_submit():
        return _sample_page(action.sample, (action.id, form), 422)
    with committing(message, flash_messages=False) as done:
        command(db.session, action, current_user, form.text.data or "")
    if done:
        flash(message, "info")
        return redirect(url_for("quality.sample", sample_id=action.sample_id,
                                _anchor=f"action-{action.id}"))
    form.text.errors = [*form.text.errors, done.error]
    db.session.refresh(action)
    return _sample_page(action.sample, (action.id, form), done.status)


VERBS = {
    "respond": (permissions.can_respond, actions.respond, "Response recorded."),
    "close": (permissions.can_close, actions.close, "Action closed."),
    "reopen": (permissions.can_reopen, actions.reopen, "Action reopened."),
}
