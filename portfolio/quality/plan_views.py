"""The sampling strategy page (centre admins) and sampling plans (IQAs): the list with a form for
a new plan, a plan's samples per learner, the grid that changes it, its history and the CAMERA
coverage it leaves."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from typing import TypeVar

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portfolio.accounts.models import Centre, User
from portfolio.accounts.staff import qualifications_for
from portfolio.catalogue.models import Qualification, Unit
from portfolio.core.dates import long_date
from portfolio.core.forms import choices
from portfolio.core.permissions import require
from portfolio.core.web import Outcome, committing
from portfolio.evidence.models import METHODS, SETTINGS
from portfolio.extensions import db
from portfolio.quality import plans, strategy
from portfolio.quality.generator import OWN_WORK, is_new_to_centre
from portfolio.quality.models import SamplingPlan
from portfolio.quality.plan_forms import (
    NewPlanForm,
    StrategyForm,
    due_name,
    plan_grid_form,
    stage_name,
)
from portfolio.quality.plan_permissions import (
    PREDICATES,
    can_edit_plan,
    can_make_plans,
    can_set_strategy,
    can_view_plan,
    can_view_plans,
)
from portfolio.quality.selection import ELEMENT_KINDS, Gap, rate_target

T = TypeVar("T")

blueprint = Blueprint("plans", __name__, url_prefix="/quality/plans")
for _predicate in PREDICATES.values():
    blueprint.add_app_template_global(_predicate)


def _centre() -> Centre:
    return db.session.get(Centre, current_user.centre_id)


def _submit(form, change: Callable[[], T]) -> tuple[Outcome, T | None]:
    """Commit ``change``; a refusal about one answer is shown next to it, any other is flashed
    at the top of the page. Returns the outcome and what ``change`` returned."""
    refused, result = None, None
    with committing(flash_messages=False) as done:
        try:
            result = change()
        except (plans.PlanRefused, strategy.StrategyRefused) as error:
            refused = error
            raise
    if not done:
        if refused is not None and refused.field and refused.field in form:
            form[refused.field].errors = [*form[refused.field].errors, str(refused)]
        else:
            flash(done.error, "error")
    return done, result


@blueprint.route("/strategy", methods=["GET", "POST"])
def strategy_page():
    centre = require(can_set_strategy, _centre())
    in_force = strategy.strategy_in_force(db.session, centre.id)
    form = StrategyForm(data=asdict(in_force))
    status = 200
    if form.validate_on_submit():
        done, _ = _submit(form, lambda: strategy.revise_strategy(
            db.session, centre.id, current_user,
            strategy.Strategy(**{name: form[name].data for name in asdict(in_force)})))
        if done:
            flash("The sampling strategy is saved: plans made from now on follow it.", "info")
            return redirect(url_for("plans.strategy_page"))
        status = done.status
    elif form.is_submitted():
        status = 422
    return render_template("quality/plans/strategy.html", form=form, in_force=in_force,
                           history=strategy.strategy_history(db.session, centre.id),
                           month_names=calendar.month_name), status


def _cycle_choices(in_force: strategy.Strategy, today: dt.date) -> list:
    start = in_force.cycle_containing(today)[0]
    starts = [strategy.add_months(start, in_force.cycle_months * step) for step in (0, 1, -1)]
    return choices((day.isoformat(), f"{long_date(day)} to "
                    f"{long_date(in_force.cycle_starting(day)[1] - dt.timedelta(days=1))}")
                   for day in starts)


def _new_plan_form(centre: Centre, **kwargs) -> NewPlanForm:
    form = NewPlanForm(**kwargs)
    assessors = db.session.scalars(sa.select(User).where(
        User.holding("assessor", centre.id), User.id != current_user.id,
        User.is_enabled.is_(True)).order_by(User.name))
    form.assessor_id.choices = choices((a.id, a.name) for a in assessors)
    form.qualification_id.choices = choices(
        (q.id, q.qualification_number) for q in qualifications_for(db.session, centre.id))
    form.cycle_starts_on.choices = _cycle_choices(
        strategy.strategy_in_force(db.session, centre.id), dt.date.today())
    return form


def _index(form: NewPlanForm | None, status: int = 200):
    made = plans.plans_of(db.session, current_user)
    numbers = dict(db.session.execute(sa.select(
        Qualification.id, Qualification.qualification_number).where(
        Qualification.id.in_({p.qualification_id for p in made}))).all())
    return render_template("quality/plans/index.html", form=form, plans=made,
                           numbers=numbers), status


@blueprint.get("/")
def index():
    centre = require(can_view_plans, _centre())
    return _index(_new_plan_form(centre) if can_make_plans(current_user, centre) else None)


@blueprint.post("/")
def create():
    centre = require(can_make_plans, _centre())
    form = _new_plan_form(centre)
    if not form.validate_on_submit():
        return _index(form, 422)
    assessor = db.session.get(User, form.assessor_id.data)
    qualification = db.session.get(Qualification, form.qualification_id.data)
    done, made = _submit(form, lambda: plans.create_plan(
        db.session, strategy.strategy_in_force(db.session, centre.id), current_user, assessor,
        qualification, dt.date.fromisoformat(form.cycle_starts_on.data)))
    if done:
        flash("The plan is made from the generator's proposal: check its coverage and change "
              "it as you need.", "info")
        return redirect(url_for("plans.show", plan_id=made.id))
    return _index(form, done.status)


def _plan(plan_id: int, predicate=can_view_plan) -> SamplingPlan:
    return require(predicate, db.session.get(SamplingPlan, plan_id))


def _unit_labels(unit_ids) -> dict[int, str]:
    return {unit_id: number for unit_id, number in db.session.execute(
        sa.select(Unit.id, Unit.number).where(Unit.id.in_(list(unit_ids))))}


def _context(plan: SamplingPlan, pairs=None) -> dict:
    """What every page of a plan shows: its people, qualification, cycle, band and samples, per
    learner."""
    samples = plans.active_samples(db.session, plan)
    pairs = plans.plan_pairs(db.session, plan) if pairs is None else pairs
    qualification = db.session.get(Qualification, plan.qualification_id)
    in_force = strategy.strategy_in_force(db.session, plan.centre_id)
    band = strategy.band_of(db.session, in_force, plan.assessor_id, plan.qualification_id,
                            plan.cycle_starts_on)
    enrolments = {p.enrolment_id for p in pairs} | {s.enrolment_id for s in samples}
    per_learner = defaultdict(list)
    for sample in samples:
        per_learner[sample.enrolment_id].append(sample)
    return dict(plan=plan, cycle_last_day=plan.cycle_ends_on - dt.timedelta(days=1),
                samples=samples, pairs=pairs, per_learner=per_learner,
                qualification=qualification, band=band, strategy=in_force,
                learners=plans.learner_names(db.session, enrolments),
                units=_unit_labels({p.unit_id for p in pairs} | {s.unit_id for s in samples}))


@blueprint.get("/<int:plan_id>")
def show(plan_id: int):
    plan = _plan(plan_id)
    context = _context(plan)
    gaps = plans.plan_gaps(context["pairs"], context["samples"])
    return render_template("quality/plans/show.html", gaps=gaps, **context)


@blueprint.route("/<int:plan_id>/edit", methods=["GET", "POST"])
def edit(plan_id: int):
    plan = _plan(plan_id, can_edit_plan)
    context = _context(plan)
    editable = [p for p in context["pairs"] if p.blocked != OWN_WORK]
    current = {(s.enrolment_id, s.unit_id): s for s in context["samples"]}
    data = {}
    for pair in editable:
        if pair.key in current:
            data[stage_name(pair)] = current[pair.key].stage
            data[due_name(pair)] = current[pair.key].due_on
    form = plan_grid_form(editable, context["units"], data=data)
    status = 200
    if form.validate_on_submit():
        wanted, missing = {}, False
        for pair in editable:
            stage, due = form[stage_name(pair)].data, form[due_name(pair)].data
            if stage and due is None:
                form[due_name(pair)].errors = ["Give the day it is due."]
                missing = True
            elif stage:
                wanted[pair.key] = plans.Cell(stage, due)
        if not missing:
            done, _ = _submit(form, lambda: plans.revise_plan(
                db.session, plan, current_user, wanted, form.note.data, pairs=context["pairs"]))
            if done:
                flash("The plan is changed; its history keeps the earlier version.", "info")
                return redirect(url_for("plans.show", plan_id=plan.id))
            status = done.status
        else:
            status = 422
    elif form.is_submitted():
        status = 422
    by_learner = defaultdict(list)
    for pair in editable:
        by_learner[pair.enrolment_id].append(pair)
    return render_template("quality/plans/edit.html", form=form, by_learner=by_learner,
                           stage_name=stage_name, due_name=due_name, methods=METHODS,
                           settings=SETTINGS, **context), status


@blueprint.get("/<int:plan_id>/history")
def history(plan_id: int):
    plan = _plan(plan_id)
    context = _context(plan, pairs=[])
    changes = plans.plan_history(db.session, plan)
    touched = {s.enrolment_id for c in changes for s in (*c.added, *c.removed)}
    context["learners"] = plans.learner_names(db.session, touched)
    context["units"] = _unit_labels({s.unit_id for c in changes for s in (*c.added, *c.removed)})
    return render_template("quality/plans/history.html", changes=changes, **context)


def _gap_label(gap: Gap, learners, units) -> str:
    if gap.kind in ("candidate", "record"):
        name, registration = learners.get(gap.value, ("?", "?"))
        return f"{name} ({registration})"
    if gap.kind == "unit":
        return f"Unit {units.get(gap.value, '?')}"
    if gap.kind == "method":
        return METHODS.get(gap.value, gap.value)
    if gap.kind == "setting":
        return SETTINGS.get(gap.value, gap.value)
    return "The assessor"


@blueprint.get("/<int:plan_id>/coverage")
def coverage(plan_id: int):
    plan = _plan(plan_id)
    context = _context(plan)
    gaps = plans.plan_gaps(context["pairs"], context["samples"])
    totals = defaultdict(set)
    for pair in context["pairs"]:
        for kind, value in pair.elements():
            totals[kind].add(value)
    missing = defaultdict(int)
    for gap in gaps:
        missing[gap.kind] += 1
    rows = [(label, len(totals[kind]) - missing[kind], len(totals[kind]))
            for kind, label in ELEMENT_KINDS.items()]
    new = (context["strategy"].every_unit_of_new_qualification
           and is_new_to_centre(db.session, plan.centre_id, plan.qualification_id,
                                context["strategy"], plan.cycle_starts_on))
    rate = 100 if new else context["band"].rate
    labelled = [(gap, _gap_label(gap, context["learners"], context["units"])) for gap in gaps]
    return render_template("quality/plans/coverage.html", rows=rows, gaps=labelled, rate=rate,
                           new_qualification=new,
                           target=rate_target(len(context["pairs"]), rate), **context)

