"""The assessor's caseload, judging evidence, unit sign-off, progress, the tracking grid,
criterion histories and the audit trail."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portfolio.accounts.models import Enrolment, User
from portfolio.assessment import services
from portfolio.assessment.forms import AuditFilterForm, PriorAchievementForm, UnlockForm
from portfolio.assessment.models import UnitSignOff
from portfolio.core.audit import AuditEvent
from portfolio.core.forms import EmptyForm, choices
from portfolio.core.permissions import (
    can_assess,
    can_declare_units,
    can_unlock_units,
    can_view_enrolment,
    require,
    roles_required,
)
from portfolio.evidence.models import EvidenceItem
from portfolio.extensions import db

blueprint = Blueprint("assessment", __name__)

CONFLICT = ("Someone else recorded a decision on one of these criteria at the same moment. "
            "Nothing of yours was saved: check their decision below and judge again.")


def _enrolment(enrolment_id: int, predicate=can_view_enrolment) -> Enrolment:
    return require(predicate, db.session.get(Enrolment, enrolment_id))


_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
CASELOAD_SORTS = {
    "learner": lambda row: row.enrolment.learner.name.lower(),
    "qualification": lambda row: row.enrolment.version.title,
    "percent": lambda row: row.percent_met,
    "credits": lambda row: row.credits,
    # Most waiting first; among equals, the longest waiting.
    "awaiting": lambda row: (-row.awaiting, row.oldest_awaiting or _NEVER),
    "ready": lambda row: -row.units_ready,
    "activity": lambda row: row.last_activity or _NEVER,
}


@blueprint.get("/caseload")
@roles_required("assessor")
def caseload():
    enrolments = list(db.session.scalars(
        sa.select(Enrolment).where(Enrolment.assessor_id == current_user.id,
                                   Enrolment.ended_at.is_(None))
        .options(sa.orm.joinedload(Enrolment.learner), sa.orm.joinedload(Enrolment.version))))
    rows = services.caseload(db.session, enrolments)
    sort = request.args.get("sort", "awaiting")
    rows.sort(key=CASELOAD_SORTS.get(sort, CASELOAD_SORTS["awaiting"]),
              reverse=request.args.get("desc") == "1")
    return render_template("assessment/caseload.html", rows=rows, sort=sort)


@blueprint.route("/evidence/<int:item_id>/judge", methods=["GET", "POST"])
def judge(item_id: int):
    item = db.session.get(EvidenceItem, item_id)
    if item is None:
        abort(404)
    enrolment = _enrolment(item.enrolment_id, can_assess)
    if request.method == "POST" and EmptyForm().validate_on_submit():
        try:
            services.record_decisions(db.session, item, current_user, _judgements(item),
                                      map_criteria=_ints(request.form.getlist("map")))
            db.session.commit()
        except services.AssessmentError as error:
            db.session.rollback()
            flash(str(error), "error")
        except IntegrityError:
            db.session.rollback()
            flash(CONFLICT, "error")
        else:
            flash("Decisions recorded.", "info")
            return redirect(url_for("assessment.judge", item_id=item.id))
    progress = services.progress_for(db.session, [enrolment])[enrolment.id]
    return render_template("assessment/judge.html", item=item, enrolment=enrolment,
                           progress=progress, form=EmptyForm(),
                           decisions=services.decisions_on_item(db.session, item),
                           claimed={c.criterion_id for c in item.claims})


def _ints(values) -> list[int]:
    try:
        return [int(v) for v in values if v]
    except ValueError:
        abort(400)


def _judgements(item: EvidenceItem) -> list[services.Judgement]:
    judgements = []
    for claim in item.claims:
        outcome = request.form.get(f"outcome-{claim.criterion_id}", "")
        if not outcome:
            continue
        expected = request.form.get(f"current-{claim.criterion_id}", "")
        judgements.append(services.Judgement(
            criterion_id=claim.criterion_id, outcome=outcome,
            feedback=request.form.get(f"feedback-{claim.criterion_id}", ""),
            expected_current_id=int(expected) if expected.isdigit() else None,
            reason=request.form.get(f"reason-{claim.criterion_id}", "")))
    return judgements


@blueprint.get("/enrolments/<int:enrolment_id>/progress")
def progress(enrolment_id: int):
    enrolment = _enrolment(enrolment_id)
    result = services.progress_for(db.session, [enrolment])[enrolment.id]
    return render_template("assessment/progress.html", enrolment=enrolment, progress=result,
                           form=EmptyForm(), can_assess=can_assess(current_user, enrolment),
                           can_declare=can_declare_units(current_user, enrolment),
                           can_unlock=can_unlock_units(current_user, enrolment))


@blueprint.get("/enrolments/<int:enrolment_id>/grid")
def grid(enrolment_id: int):
    enrolment = _enrolment(enrolment_id)
    result = services.progress_for(db.session, [enrolment])[enrolment.id]
    return render_template("assessment/grid.html", enrolment=enrolment, progress=result)


@blueprint.get("/enrolments/<int:enrolment_id>/criteria/<int:criterion_id>")
def criterion(enrolment_id: int, criterion_id: int):
    enrolment = _enrolment(enrolment_id)
    result = services.progress_for(db.session, [enrolment])[enrolment.id]
    unit = result.tree.unit_of_criterion.get(criterion_id)
    if unit is None:
        abort(404)
    node = next(c for c in unit.criteria if c.id == criterion_id)
    return render_template(
        "assessment/criterion.html", enrolment=enrolment, unit=unit, criterion=node,
        state=result.state(criterion_id),
        history=services.history(db.session, enrolment.id, criterion_id),
        items=services.items_claiming(db.session, enrolment.id, criterion_id))


def _unit_action(enrolment_id: int, predicate):
    enrolment = _enrolment(enrolment_id, predicate)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return enrolment


@blueprint.post("/enrolments/<int:enrolment_id>/units/<int:unit_id>/declare")
def declare(enrolment_id: int, unit_id: int):
    enrolment = _unit_action(enrolment_id, can_declare_units)
    return _commit_unit_action(enrolment, lambda: services.declare_unit(
        db.session, enrolment, unit_id, current_user), "Declaration recorded.")


@blueprint.post("/enrolments/<int:enrolment_id>/units/<int:unit_id>/sign-off")
def sign_off(enrolment_id: int, unit_id: int):
    enrolment = _unit_action(enrolment_id, can_assess)
    return _commit_unit_action(enrolment, lambda: services.sign_off_unit(
        db.session, enrolment, unit_id, current_user), "Unit signed off.")


def _commit_unit_action(enrolment, action, message):
    try:
        action()
        db.session.flush()
    except services.AssessmentError as error:
        db.session.rollback()
        flash(str(error), "error")
    except IntegrityError:
        db.session.rollback()
        flash("Someone else changed this unit at the same moment: check its state below.",
              "error")
    else:
        db.session.commit()
        flash(message, "info")
    return redirect(url_for("assessment.progress", enrolment_id=enrolment.id))


@blueprint.route("/enrolments/<int:enrolment_id>/units/<int:unit_id>/prior",
                 methods=["GET", "POST"])
def prior_achievement(enrolment_id: int, unit_id: int):
    enrolment = _enrolment(enrolment_id, can_assess)
    tree = services.version_tree(db.session, enrolment.version_id)
    unit = tree.units_by_id.get(unit_id) or abort(404)
    form = PriorAchievementForm()
    if form.validate_on_submit():
        return _commit_unit_action(enrolment, lambda: services.record_prior_achievement(
            db.session, enrolment, unit.id, current_user, form.method.data, form.details.data,
            form.item_id.data), f"Unit {unit.number} recorded as achieved.")
    return render_template("assessment/prior.html", form=form, unit=unit, enrolment=enrolment)


@blueprint.route("/enrolments/<int:enrolment_id>/sign-offs/<int:sign_off_id>/unlock",
                 methods=["GET", "POST"])
def unlock(enrolment_id: int, sign_off_id: int):
    enrolment = _enrolment(enrolment_id, can_unlock_units)
    sign_off = db.session.get(UnitSignOff, sign_off_id)
    if sign_off is None or sign_off.enrolment_id != enrolment.id:
        abort(404)
    form = UnlockForm()
    if form.validate_on_submit():
        return _commit_unit_action(enrolment, lambda: services.unlock_unit(
            db.session, sign_off, current_user, form.reason.data),
            f"Unit {sign_off.unit.number} unlocked.")
    return render_template("assessment/unlock.html", form=form, sign_off=sign_off,
                           enrolment=enrolment)


AUDIT_PAGE = 200


@blueprint.get("/admin/audit")
@roles_required("centre_admin")
def audit_trail():
    centre_id = current_user.centre_id
    people = list(db.session.scalars(sa.select(User).where(User.centre_id == centre_id)
                                     .order_by(User.name)))
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
            form.since.data, dt.time(), tzinfo=dt.UTC))
    if form.until.data:
        query = query.where(AuditEvent.at < dt.datetime.combine(
            form.until.data + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC))
    events = list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE)))
    names = {u.id: u.name for u in people}
    return render_template("assessment/audit.html", form=form, events=events, names=names,
                           limit=AUDIT_PAGE)
