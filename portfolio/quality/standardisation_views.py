"""Standardisation pages: the list (upcoming and past), planning an activity, the activity, adding
the evidence discussed, reading it, judging it, and the agreement with its minutes and actions.
Every object loaded from the URL is checked with a named predicate; a refusal is a 404."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portfolio.accounts.models import Enrolment, User
from portfolio.catalogue.services import qualification_versions
from portfolio.catalogue.tree import version_tree
from portfolio.core.dates import LONDON
from portfolio.core.db import release_connection
from portfolio.core.forms import EmptyForm, choices
from portfolio.core.permissions import require
from portfolio.core.uploads.sniffing import download_name
from portfolio.core.web import committing
from portfolio.evidence.models import EvidenceFile, EvidenceItem
from portfolio.evidence.uploads import UploadLimits, store_file
from portfolio.evidence.views import presigned_redirect
from portfolio.extensions import db, object_store
from portfolio.quality import standardisation as services
from portfolio.quality.standardisation_agreement import agreement, judged_by, own_judgements
from portfolio.quality.standardisation_forms import (
    ActionForm,
    ActivityForm,
    AddItemForm,
    ExemplarForm,
    ItemSearchForm,
    MinutesForm,
    judgement_form,
)
from portfolio.quality.standardisation_models import (
    StandardisationActivity,
    StandardisationEvidence,
    StandardisationParticipant,
)
from portfolio.quality.standardisation_permissions import (
    can_change_evidence_discussed,
    can_judge_in_round,
    can_list_standardisation,
    can_plan_standardisation,
    can_read_discussed_evidence,
    can_see_agreement,
    can_view_activity,
    is_lead,
)

blueprint = Blueprint("standardisation", __name__, url_prefix="/quality/standardisation")
for _predicate in (can_change_evidence_discussed, can_judge_in_round, can_plan_standardisation,
                   can_read_discussed_evidence, can_see_agreement, is_lead):
    blueprint.add_app_template_global(_predicate)

#: Items offered when the lead searches the centre's portfolios.
SEARCH_LIMIT = 20


def _activity(activity_id: int, predicate=can_view_activity) -> StandardisationActivity:
    return require(predicate, db.session.get(StandardisationActivity, activity_id))


def _evidence(activity: StandardisationActivity, evidence_id: int,
              predicate=can_read_discussed_evidence) -> StandardisationEvidence:
    evidence = db.session.get(StandardisationEvidence, evidence_id)
    if evidence is None or evidence.activity_id != activity.id:
        abort(404)
    return require(predicate, evidence)


@blueprint.get("/")
def index():
    centre = require(can_list_standardisation, current_user.centre)
    query = (sa.select(StandardisationActivity)
             .where(StandardisationActivity.centre_id == centre.id)
             .order_by(StandardisationActivity.held_on.desc(), StandardisationActivity.id.desc()))
    if not current_user.holds("centre_admin", centre.id):
        query = query.where(StandardisationActivity.participants.any(
            StandardisationParticipant.user_id == current_user.id))
    activities = list(db.session.scalars(query))
    today = dt.datetime.now(LONDON).date()
    return render_template(
        "quality/standardisation/index.html", centre=centre,
        upcoming=[a for a in reversed(activities) if a.held_on >= today],
        past=[a for a in activities if a.held_on < today])


@blueprint.route("/new", methods=["GET", "POST"])
def new():
    centre = require(can_plan_standardisation, current_user.centre)
    form = ActivityForm()
    iqas = services.staff_of(db.session, centre.id, roles=("iqa",))
    is_admin = current_user.holds("centre_admin", centre.id)
    form.qualification.choices = choices(
        (v.qualification_id, f"{v.qualification.qualification_number} {v.title}")
        for v in qualification_versions(db.session, centre.id))
    form.lead.choices = choices((u.id, u.name) for u in iqas
                                if is_admin or u.id == current_user.id)
    form.participants.choices = choices(
        (u.id, f"{u.name} ({u.role_labels})") for u in services.staff_of(db.session, centre.id))
    if request.method == "GET":
        form.lead.data = current_user.id
    if form.validate_on_submit():
        with committing("Planned. The attendees have been told.") as done:
            activity = services.plan_activity(db.session, centre, services.NewActivity(
                form.qualification.data, form.title.data, form.held_on.data, form.lead.data,
                tuple(form.participants.data)), current_user)
        if done:
            return redirect(url_for("standardisation.show", activity_id=activity.id))
    return render_template("quality/standardisation/new.html", form=form)


@blueprint.get("/<int:activity_id>")
def show(activity_id: int):
    return _activity_page(_activity(activity_id), MinutesForm())


def _activity_page(activity: StandardisationActivity, minutes_form: MinutesForm,
                   status: int = 200):
    return render_template(
        "quality/standardisation/show.html", activity=activity, form=EmptyForm(),
        minutes_form=minutes_form, judged=judged_by(db.session, activity),
        own=own_judgements(db.session, activity, current_user),
        expected=services.expected_count(activity, per_participant=True)), status


@blueprint.get("/<int:activity_id>/evidence")
def evidence(activity_id: int):
    activity = _activity(activity_id, can_change_evidence_discussed)
    return _evidence_page(activity, ExemplarForm())


def _evidence_page(activity: StandardisationActivity, exemplar_form: ExemplarForm,
                   status: int = 200):
    search = ItemSearchForm(request.args)
    search.validate()
    found = _items_matching(activity, search.q.data or "") if search.q.data else []
    # An exemplar's criteria are picked from the qualification's current version.
    version = next(v for v in qualification_versions(db.session, activity.centre_id)
                   if v.qualification_id == activity.qualification_id)
    return render_template(
        "quality/standardisation/evidence.html", activity=activity, search=search, found=found,
        add_form=AddItemForm(), form=exemplar_form, units=version_tree(db.session, version.id).units,
        chosen=set(exemplar_form.criteria.data or []), criterion_statuses={}), status


def _items_matching(activity: StandardisationActivity, words: str) -> list[EvidenceItem]:
    """Items of the centre's portfolios on the activity's qualification whose title or learner's
    name holds the words; never withdrawn ones."""
    pattern = f"%{words.strip().lower()}%"
    return list(db.session.scalars(
        sa.select(EvidenceItem).join(EvidenceItem.enrolment).join(User, User.id ==
                                                                    Enrolment.learner_id)
        .where(Enrolment.centre_id == activity.centre_id,
               Enrolment.qualification_id == activity.qualification_id,
               EvidenceItem.withdrawn_at.is_(None),
               sa.or_(sa.func.lower(EvidenceItem.title).like(pattern),
                      sa.func.lower(User.name).like(pattern)))
        .order_by(EvidenceItem.created_at.desc()).limit(SEARCH_LIMIT)))


@blueprint.post("/<int:activity_id>/evidence/items")
def add_item(activity_id: int):
    activity = _activity(activity_id, can_change_evidence_discussed)
    form = AddItemForm()
    if not form.validate_on_submit():
        abort(400)
    item = db.session.get(EvidenceItem, int(form.item.data)) if form.item.data.isdigit() else None
    if item is None:
        abort(404)
    with committing(f"Added “{item.title}”.") as done:
        services.add_item(db.session, activity, item, current_user)
    return redirect(url_for("standardisation.show", activity_id=activity.id) if done
                    else url_for("standardisation.evidence", activity_id=activity.id))


@blueprint.post("/<int:activity_id>/evidence/exemplars")
def add_exemplar(activity_id: int):
    activity = _activity(activity_id, can_change_evidence_discussed)
    form = ExemplarForm()
    if not form.validate_on_submit():
        return _evidence_page(activity, form, 422)
    # The file streams through the one validation path to the store with no transaction open;
    # the row is written in a short one, whose rollback removes the objects.
    limits = UploadLimits.from_settings(current_app.config["PORTFOLIO_SETTINGS"], False)
    posted = form.file.data
    release_connection(db.session)
    with committing(flash_messages=False) as done:
        stored = store_file(object_store(), f"{services.EXEMPLAR_PREFIX}{activity_id}/",
                            posted.stream, posted.filename, limits)
        services.add_exemplar(db.session, object_store(), activity, stored, form.title.data,
                              form.criteria.data, current_user)
    if done:
        flash("Added the exemplar.", "info")
        return redirect(url_for("standardisation.show", activity_id=activity_id))
    (form.file.errors if done.status == 422 else form.form_errors).append(done.error)
    return _evidence_page(db.session.get(StandardisationActivity, activity_id), form, done.status)


@blueprint.get("/<int:activity_id>/evidence/<int:evidence_id>")
def discussed(activity_id: int, evidence_id: int):
    activity = _activity(activity_id)
    return render_template("quality/standardisation/discussed.html", activity=activity,
                           evidence=_evidence(activity, evidence_id))


@blueprint.get("/<int:activity_id>/evidence/<int:evidence_id>/files/<int:file_id>")
def item_file(activity_id: int, evidence_id: int, file_id: int):
    """A file of a learner's item, for a participant of the activity discussing it."""
    item = _evidence(_activity(activity_id), evidence_id).item
    stored = db.session.get(EvidenceFile, file_id)
    if item is None or stored is None or stored.item_id != item.id:
        abort(404)
    return presigned_redirect(stored.object_key,
                              download_name(stored.original_name, stored.content_type),
                              attachment=True, content_type=stored.content_type)


@blueprint.get("/<int:activity_id>/evidence/<int:evidence_id>/exemplar")
def exemplar_file(activity_id: int, evidence_id: int):
    exemplar = _evidence(_activity(activity_id), evidence_id)
    if not exemplar.is_exemplar:
        abort(404)
    return presigned_redirect(exemplar.object_key,
                              download_name(exemplar.original_name, exemplar.content_type),
                              attachment=True, content_type=exemplar.content_type)


@blueprint.route("/<int:activity_id>/evidence/<int:evidence_id>/judge", methods=["GET", "POST"])
def judge(activity_id: int, evidence_id: int):
    activity = _activity(activity_id, can_judge_in_round)
    evidence = _evidence(activity, evidence_id)
    criteria = [(c.criterion_id, f"{c.criterion.unit.number} {c.criterion.code} "
                                 f"{c.criterion.text}") for c in evidence.criteria]
    form = judgement_form(criteria)
    if form.validate_on_submit():
        judged = {cid: services.CriterionJudgement(form[f"outcome_{cid}"].data,
                                                   form[f"rationale_{cid}"].data)
                  for cid, _ in criteria}
        with committing("Your judgement is recorded.") as done:
            services.record_judgement(db.session, activity, evidence, current_user, judged)
        if done:
            return redirect(url_for("standardisation.show", activity_id=activity.id))
    return render_template("quality/standardisation/judge.html", activity=activity,
                           evidence=evidence, form=form, criteria=criteria,
                           own=own_judgements(db.session, activity, current_user))


@blueprint.post("/<int:activity_id>/close")
def close(activity_id: int):
    activity = _activity(activity_id, can_change_evidence_discussed)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with committing("The round is closed: everyone's judgements are open.") as done:
        services.close_round(db.session, activity, current_user)
    if done:
        return redirect(url_for("standardisation.result", activity_id=activity.id))
    return redirect(url_for("standardisation.show", activity_id=activity.id))


@blueprint.get("/<int:activity_id>/agreement")
def result(activity_id: int):
    activity = _activity(activity_id, can_see_agreement)
    return _result_page(activity, _action_form(activity))


def _action_form(activity: StandardisationActivity) -> ActionForm:
    form = ActionForm()
    form.owner.choices = choices((p.user_id, p.user.name) for p in activity.participants)
    return form


def _result_page(activity: StandardisationActivity, action_form: ActionForm,
                 status: int = 200):
    return render_template("quality/standardisation/agreement.html", activity=activity,
                           agreement=agreement(db.session, activity), action_form=action_form
                           ), status


@blueprint.post("/<int:activity_id>/minutes")
def minutes(activity_id: int):
    activity = _activity(activity_id, is_lead)
    form = MinutesForm()
    if form.validate_on_submit():
        with committing(flash_messages=False) as done:
            services.record_minutes(db.session, activity, form.text.data, current_user)
        if done:
            flash("Minutes recorded.", "info")
            return redirect(url_for("standardisation.show", activity_id=activity.id,
                                    _anchor="minutes"))
        form.text.errors.append(done.error)
    return _activity_page(activity, form, 422)


@blueprint.post("/<int:activity_id>/actions")
def actions(activity_id: int):
    activity = _activity(activity_id, is_lead)
    form = _action_form(activity)
    if form.validate_on_submit():
        with committing(flash_messages=False) as done:
            services.agree_action(db.session, activity, form.text.data, form.owner.data,
                                  form.due_on.data, current_user)
        if done:
            flash("Action recorded; its owner has been told.", "info")
            return redirect(url_for("standardisation.result", activity_id=activity.id,
                                    _anchor="actions"))
        form.form_errors.append(done.error)
    require(can_see_agreement, activity)
    return _result_page(activity, form, 422)
