"""The assessor's caseload, judging evidence, unit sign-off, progress and the pathway, the
tracking grid and criterion histories."""

from __future__ import annotations

import datetime as dt
import functools

from flask import (
    Blueprint,
    abort,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from portfolio.accounts.models import Enrolment, enrolment_for_page
from portfolio.accounts.permissions import can_view_enrolment
from portfolio.assessment import caseload as caseloads
from portfolio.assessment import decisions, pathway, permissions, queries, units
from portfolio.assessment import item_status as evidence_hook_answers  # noqa: F401
from portfolio.assessment.attention import by_attention
from portfolio.assessment.forms import PathwayForm, PriorAchievementForm, UnlockForm
from portfolio.assessment.grid import grid_unit
from portfolio.assessment.hooks import unit_notes
from portfolio.assessment.judging import inline_files, judgements_sent
from portfolio.assessment.models import UnitSignOff
from portfolio.assessment.permissions import can_assess, can_declare_units, can_unlock_units
from portfolio.assessment.progress import progress_for
from portfolio.assessment.queue import next_awaiting_item
from portfolio.catalogue.tree import version_tree
from portfolio.core.db import utcnow
from portfolio.core.forms import EmptyForm
from portfolio.core.memo import Memo
from portfolio.core.permissions import require, roles_required
from portfolio.core.urls import hrefs
from portfolio.core.web import committing
from portfolio.evidence.models import EvidenceItem
from portfolio.extensions import db, object_store

blueprint = Blueprint("assessment", __name__)
for _predicate in (can_assess, permissions.can_judge, permissions.can_declare_unit,
                   permissions.can_sign_off_unit, permissions.can_record_prior_achievement,
                   can_unlock_units, permissions.can_choose_pathway, units.declaration_wording,
                   grid_unit):
    blueprint.add_app_template_global(_predicate)


@blueprint.app_template_global()
def item_feedback_on(item: EvidenceItem) -> list:
    """For templates/assessment/_item_feedback.html, which the evidence page includes."""
    return queries.feedback_on_item(db.session, item.id)

CONFLICT = ("Someone else recorded a decision on one of these criteria at the same moment. "
            "Nothing of yours was saved: check their decision below and judge again.")
UNIT_CONFLICT = "Someone else changed this unit at the same moment: check its state below."


def _enrolment(enrolment_id: int, predicate=can_view_enrolment) -> Enrolment:
    return require(predicate, enrolment_for_page(db.session, enrolment_id))


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
    enrolments = caseloads.open_enrolments(db.session, current_user.id)
    ranked = by_attention(caseloads.caseload(db.session, enrolments), utcnow())
    sort = request.args.get("sort", "attention")
    descending = request.args.get("desc") == "1"
    if sort in CASELOAD_SORTS:
        ranked.sort(key=lambda pair: CASELOAD_SORTS[sort](pair[0]), reverse=descending)
    else:
        sort = "attention"
        if descending:
            ranked.reverse()
    return render_template("assessment/caseload.html", ranked=ranked, sort=sort,
                           rows=_caseload_rows(ranked))


#: Caseload rows drawn, by every value they show: a row costs the template more than its figures
#: cost to read, and most stay the same from one visit to the next.
_caseload_rows_drawn: Memo[Markup] = Memo(size=4096)


def _caseload_rows(ranked: list) -> list[Markup]:
    progress_hrefs = hrefs("assessment.progress", "enrolment_id",
                           [row.enrolment.id for row, _ in ranked])
    judge_hrefs = hrefs("assessment.judge", "item_id", [
        row.first_awaiting_item_id for row, _ in ranked if row.first_awaiting_item_id])
    draw = get_template_attribute("assessment/_caseload_row.html", "caseload_row")
    drawn = []
    for row, why in ranked:
        enrolment = row.enrolment
        progress_href = progress_hrefs[enrolment.id]
        judge_href = judge_hrefs.get(row.first_awaiting_item_id)
        key = (why.rank, why.reason, enrolment.id, enrolment.learner.name,
               enrolment.version.title, row.percent_met, row.has_pathway, row.credits,
               row.credits_required, row.awaiting, row.oldest_awaiting, row.units_ready,
               row.last_activity, progress_href, judge_href)
        drawn.append(_caseload_rows_drawn.get(key, functools.partial(
            draw, row, why, enrolment, progress_href, judge_href)))
    return drawn


@blueprint.route("/evidence/<int:item_id>/judge", methods=["GET", "POST"])
def judge(item_id: int):
    item = db.session.get(EvidenceItem, item_id) or abort(404)
    enrolment = _enrolment(item.enrolment_id, can_assess)
    form = EmptyForm()
    problems: dict[int, str] = {}
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        with committing(flash_messages=False, conflict=CONFLICT) as done:
            try:
                recorded = decisions.record_decisions(
                    db.session, item, current_user, judgements_sent(request.form),
                    map_criteria=_ints(request.form.getlist("map")),
                    item_feedback=request.form.get("item_feedback", ""))
            except decisions.JudgementsRefused as refused:
                problems = refused.problems
                raise
        if done:
            flash(_recorded(recorded, request.form.get("item_feedback", "")), "info")
            return redirect(url_for("assessment.judge", item_id=item.id))
        status = done.status
        form.form_errors.append(_refusal(done.error, problems))
        form.form_errors.extend(message for criterion_id, message in problems.items()
                                if criterion_id not in {c.criterion_id for c in item.claims})
    progress = progress_for(db.session, [enrolment])[enrolment.id]
    claimed = {c.criterion_id for c in item.claims}
    current = [progress.state(criterion_id).decision for criterion_id in claimed]
    return render_template("assessment/judge.html", item=item, enrolment=enrolment,
                           progress=progress, form=form, problems=problems,
                           assessor_names=queries.names_of(
                               db.session, {d.assessor_id for d in current if d}),
                           # A refused batch is drawn again as it was sent.
                           sent=request.form if status != 200 else {},
                           decisions=queries.decisions_on_item(db.session, item),
                           item_feedback=queries.feedback_on_item(db.session, item.id),
                           inline=inline_files(item, object_store()),
                           claimed=claimed), status


def _recorded(recorded: list, item_feedback: str) -> str:
    parts = []
    if recorded:
        parts.append("Decisions recorded." if len(recorded) > 1 else "Decision recorded.")
    if item_feedback.strip():
        parts.append("Feedback on the item recorded.")
    return " ".join(parts) or "Criteria mapped to this evidence."


def _refusal(error: str, problems: dict[int, str]) -> str:
    if not problems:
        return error
    count = len(problems)
    return (f"Nothing was recorded: {count} "
            f"{'judgement needs' if count == 1 else 'judgements need'} changing. Everything "
            f"you entered is kept below.")


@blueprint.get("/evidence/<int:item_id>/next")
@roles_required("assessor")
def next_awaiting(item_id: int):
    """The next item awaiting this assessor's decision after the one just judged."""
    item = db.session.get(EvidenceItem, item_id) or abort(404)
    _enrolment(item.enrolment_id, can_assess)
    following = next_awaiting_item(db.session, current_user, item)
    if following is None:
        flash("Nothing else awaits your decision: every item in your caseload is judged.", "info")
        return redirect(url_for("assessment.caseload"))
    return redirect(url_for("assessment.judge", item_id=following.id))


def _ints(values) -> list[int]:
    try:
        return [int(v) for v in values if v]
    except ValueError:
        abort(400)


@blueprint.get("/enrolments/<int:enrolment_id>/progress")
def progress(enrolment_id: int):
    return _progress_page(_enrolment(enrolment_id))


def _progress_page(enrolment: Enrolment, pathway_form: PathwayForm | None = None,
                   check=None, error: str | None = None):
    """The progress page; after a refused choice, with the choice as sent and what is wrong."""
    result = progress_for(db.session, [enrolment])[enrolment.id]
    if pathway_form is None:
        pathway_form = _pathway_form(result.tree, data={"units": list(
            result.pathway.units if result.pathway else result.tree.structure.mandatory)})
        check = result.pathway_check
    return render_template("assessment/progress.html", enrolment=enrolment, progress=result,
                           pathway_form=pathway_form, check=check, pathway_error=error,
                           history=pathway.pathway_history(db.session, enrolment.id),
                           unit_rows=_progress_rows(enrolment, result))


#: Unit rows of progress pages drawn, by every value they show: the rows cost the template more
#: than the rest of the page, and most stay the same from one visit to the next.
_progress_rows_drawn: Memo[Markup] = Memo(size=4096)


def _progress_rows(enrolment: Enrolment, result) -> list[Markup]:
    """The progress page's unit rows. A row offering a form is drawn afresh: its CSRF token is
    never kept."""
    user, form, notes = current_user, EmptyForm(), _unit_notes(enrolment)
    grid_url = url_for("assessment.grid", enrolment_id=enrolment.id)
    prior_hrefs = hrefs("assessment.prior_achievement", "unit_id",
                        [u.id for u in result.tree.units], enrolment_id=enrolment.id)
    may_unlock = can_unlock_units(user, enrolment)
    draw = get_template_attribute("assessment/_progress_row.html", "progress_row")
    rows = []
    for u in result.units:
        their_notes = notes.get(u.unit.id, [])
        drawing = functools.partial(draw, u, enrolment, result, user, form, grid_url,
                                    prior_hrefs[u.unit.id], their_notes)
        if permissions.can_declare_unit(user, result, u) or permissions.can_sign_off_unit(
                user, result, u):
            rows.append(drawing())
            continue
        sign_off, declaration = u.sign_off, u.declaration
        # Unit nodes belong to version trees, which are kept for the life of the process.
        key = (id(u.unit), u.status, u.met, u.provisional, u.is_achieved, u.is_signed_off,
               u.ready_for_sign_off, sign_off and (sign_off.id, sign_off.method_label,
                                                   sign_off.signed_at, sign_off.assessor.name,
                                                   sign_off.declaration_id),
               declaration and (declaration.id, declaration.declared_at),
               enrolment.id, enrolment.learner.name, result.tree.unit_declarations, may_unlock,
               permissions.can_record_prior_achievement(user, result, u), tuple(their_notes),
               grid_url, prior_hrefs[u.unit.id])
        rows.append(_progress_rows_drawn.get(key, drawing))
    return rows


def _unit_notes(enrolment: Enrolment) -> dict[int, list]:
    """Every answer to :data:`unit_notes`, merged by unit."""
    merged: dict[int, list] = {}
    for answer in unit_notes(db.session, current_user, enrolment):
        for unit_id, notes in answer.items():
            merged.setdefault(unit_id, []).extend(notes)
    return merged


def _pathway_form(tree, **kwargs) -> PathwayForm:
    form = PathwayForm(**kwargs)
    form.units.choices = [(u.number, f"Unit {u.number} {u.title}") for u in tree.units]
    return form


@blueprint.post("/enrolments/<int:enrolment_id>/pathway")
def choose_pathway(enrolment_id: int):
    enrolment = _enrolment(enrolment_id, permissions.can_choose_pathway)
    form = _pathway_form(version_tree(db.session, enrolment.version_id))
    if not form.validate_on_submit():
        return _progress_page(enrolment, form), 422
    with committing("Pathway saved.", flash_messages=False) as done:
        pathway.choose_pathway(db.session, enrolment, current_user, form.units.data)
    if done:
        flash("Pathway saved.", "info")
        return _back_to_progress(enrolment)
    # The check says group by group what the rules refuse; other refusals (nothing changed, an
    # ended enrolment) are shown with the choice as a whole.
    check = pathway.check_choice(db.session, enrolment, form.units.data)
    return _progress_page(enrolment, form, check,
                          None if not check.may_save else done.error), done.status


@blueprint.get("/enrolments/<int:enrolment_id>/grid")
def grid(enrolment_id: int):
    enrolment = _enrolment(enrolment_id)
    result = progress_for(db.session, [enrolment])[enrolment.id]
    return render_template("assessment/grid.html", enrolment=enrolment, progress=result,
                           criterion_stem=url_for("assessment.criterion", enrolment_id=enrolment.id,
                                                  criterion_id=0).removesuffix("/0"))


@blueprint.get("/enrolments/<int:enrolment_id>/criteria/<int:criterion_id>")
def criterion(enrolment_id: int, criterion_id: int):
    enrolment = _enrolment(enrolment_id)
    result = progress_for(db.session, [enrolment])[enrolment.id]
    node = result.tree.criterion(criterion_id) or abort(404)
    return render_template(
        "assessment/criterion.html", enrolment=enrolment,
        unit=result.tree.unit_of_criterion[criterion_id], criterion=node,
        state=result.state(criterion_id),
        history=queries.history(db.session, enrolment.id, criterion_id),
        items=queries.items_claiming(db.session, enrolment.id, criterion_id))


def _unit_action(enrolment_id: int, predicate):
    enrolment = _enrolment(enrolment_id, predicate)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return enrolment


def _back_to_progress(enrolment: Enrolment):
    return redirect(url_for("assessment.progress", enrolment_id=enrolment.id))


def _unit_button(enrolment_id: int, unit_id: int, predicate, command, message: str):
    """A one-button unit action from the progress page, which it returns to either way."""
    enrolment = _unit_action(enrolment_id, predicate)
    with committing(message, conflict=UNIT_CONFLICT):
        command(db.session, enrolment, unit_id, current_user)
    return _back_to_progress(enrolment)


@blueprint.post("/enrolments/<int:enrolment_id>/units/<int:unit_id>/declare")
def declare(enrolment_id: int, unit_id: int):
    return _unit_button(enrolment_id, unit_id, can_declare_units, units.declare_unit,
                        "Declaration recorded.")


@blueprint.post("/enrolments/<int:enrolment_id>/units/<int:unit_id>/sign-off")
def sign_off(enrolment_id: int, unit_id: int):
    return _unit_button(enrolment_id, unit_id, can_assess, units.sign_off_unit,
                        "Unit signed off.")


@blueprint.route("/enrolments/<int:enrolment_id>/units/<int:unit_id>/prior",
                 methods=["GET", "POST"])
def prior_achievement(enrolment_id: int, unit_id: int):
    enrolment = _enrolment(enrolment_id, can_assess)
    unit = version_tree(db.session, enrolment.version_id).units_by_id.get(unit_id) or abort(404)
    form = PriorAchievementForm()
    if form.validate_on_submit():
        with committing(f"Unit {unit.number} recorded as achieved.", conflict=UNIT_CONFLICT):
            units.record_prior_achievement(db.session, enrolment, unit.id, current_user,
                                           form.method.data, form.details.data,
                                           form.item_id.data)
        return _back_to_progress(enrolment)
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
        with committing(f"Unit {sign_off.unit.number} unlocked.", conflict=UNIT_CONFLICT):
            units.unlock_unit(db.session, sign_off, current_user, form.reason.data)
        return _back_to_progress(enrolment)
    return render_template("assessment/unlock.html", form=form, sign_off=sign_off,
                           enrolment=enrolment)
