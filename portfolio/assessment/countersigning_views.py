"""The countersigning pages: a qualified assessor's list of the decisions and sign-offs in their
centre awaiting countersignature, countersigned several at once, and one decision with its
evidence, countersigned from there."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user

from portfolio.accounts.models import Enrolment
from portfolio.assessment import countersigning
from portfolio.assessment.forms import CountersignForm
from portfolio.assessment.models import Countersignature, Decision, UnitSignOff
from portfolio.assessment.permissions import can_countersign_in
from portfolio.core.permissions import require, roles_required
from portfolio.core.uploads.sniffing import download_name
from portfolio.core.web import committing
from portfolio.extensions import db, object_store

blueprint = Blueprint("countersigning", __name__)

ALREADY = ("Someone else countersigned one of these at the same moment. Nothing of yours was "
           "saved: check the list as it is now.")


@blueprint.app_template_global()
def may_countersign() -> bool:
    """Whether to offer the countersigning page: an assessor qualified on some qualification."""
    return bool(current_user.is_authenticated and current_user.holds("assessor")
                and countersigning.qualified_for(db.session, current_user,
                                                 countersigning.london_today()))


def _require_qualified() -> None:
    """404 unless the assessor is qualified on some qualification, as for any page they may
    not see."""
    if not may_countersign():
        abort(404)


@blueprint.get("/countersignatures")
@roles_required("assessor")
def index():
    _require_qualified()
    return _index_page(CountersignForm())


def _index_page(form: CountersignForm, status: int = 200):
    decisions, sign_offs = countersigning.awaiting_for(db.session, current_user)
    # Sections, so that IQA samples awaiting countersignature can be added as another list.
    sections = [("decisions", "Decisions", decisions), ("sign_offs", "Unit sign-offs", sign_offs)]
    return render_template("assessment/countersigning.html", form=form, sections=sections,
                           waiting=len(decisions) + len(sign_offs)), status


@blueprint.post("/countersignatures")
@roles_required("assessor")
def countersign():
    form = CountersignForm()
    if not form.validate_on_submit():
        return _index_page(form, 400)
    decisions = [_loaded(Decision, record_id) for record_id in form.decisions.data]
    sign_offs = [_loaded(UnitSignOff, record_id) for record_id in form.sign_offs.data]
    count = len(decisions) + len(sign_offs)
    done_message = ("Countersigned: it counts from now on." if count == 1 else
                    f"Countersigned {count} records: they count from now on.")
    with committing(done_message, conflict=ALREADY) as done:
        countersigning.countersign(db.session, current_user, decisions, sign_offs)
    if done:
        return redirect(url_for("countersigning.index"))
    form.form_errors.append(done.error)
    # A refusal from a decision's own page is shown there, to those who may see that page.
    if len(decisions) == 1 and not sign_offs and _is_qualified_for(decisions[0]):
        return _decision_page(decisions[0], form, done.status)
    return _index_page(form, done.status)


def _is_qualified_for(decision: Decision) -> bool:
    enrolment = db.session.get(Enrolment, decision.enrolment_id)
    return enrolment.qualification_id in countersigning.qualified_for(
        db.session, current_user, countersigning.london_today())


def _loaded(model, record_id: int):
    """A decision or sign-off of a learner of the assessor's centre, else 404."""
    record = db.session.get(model, record_id) or abort(404)
    require(can_countersign_in, db.session.get(Enrolment, record.enrolment_id))
    return record


@blueprint.get("/countersignatures/decisions/<int:decision_id>")
@roles_required("assessor")
def decision(decision_id: int):
    return _decision_page(_loaded(Decision, decision_id), CountersignForm())


def _decision_page(decision: Decision, form: CountersignForm, status: int = 200):
    """One decision beside its evidence: the countersigner downloads the files the assessor
    judged (links signed for a short while, sent only to those this page lets in)."""
    if not _is_qualified_for(decision):
        abort(404)
    enrolment = db.session.get(Enrolment, decision.enrolment_id)
    store = object_store()
    files = [(stored, store.presigned_url(
        stored.object_key, filename=download_name(stored.original_name, stored.content_type),
        attachment=True, content_type=stored.content_type)) for stored in decision.item.files]
    signature = db.session.scalar(sa.select(Countersignature).where(
        Countersignature.decision_id == decision.id))
    record = countersigning.AwaitingRecord(enrolment, decision=decision)
    return render_template("assessment/countersign_decision.html", form=form, record=record,
                           decision=decision, enrolment=enrolment, files=files,
                           signature=signature), status
