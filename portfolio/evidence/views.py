"""Evidence pages: the list, adding an item (with streamed uploads), viewing, files, claims and
withdrawal. Every object loaded from the URL is checked with a named predicate; a refusal is a
404, the same as a missing id."""

from __future__ import annotations

from urllib.parse import unquote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portfolio.accounts.models import Enrolment, enrolment_for_page
from portfolio.accounts.permissions import can_view_enrolment
from portfolio.catalogue.tree import version_tree
from portfolio.core.db import release_connection
from portfolio.core.forms import EmptyForm, choices
from portfolio.core.permissions import require
from portfolio.core.uploads import UploadRejected
from portfolio.core.uploads.sniffing import download_name
from portfolio.core.urls import hrefs
from portfolio.core.web import committing
from portfolio.evidence import listing, services, uploads
from portfolio.evidence.forms import ClaimsForm, EvidenceForm, ListFilterForm
from portfolio.evidence.hooks import criterion_statuses, item_decisions
from portfolio.evidence.models import EvidenceFile, EvidenceItem
from portfolio.evidence.permissions import (
    can_add_evidence,
    can_change_evidence,
    can_resubmit,
    can_see_file_digests,
    can_view_evidence,
)
from portfolio.evidence.upload_views import too_large
from portfolio.extensions import db, object_store

blueprint = Blueprint("evidence", __name__)
blueprint.add_app_template_global(can_add_evidence)


def _limits(with_quota: bool) -> uploads.UploadLimits:
    return uploads.UploadLimits.from_settings(current_app.config["PORTFOLIO_SETTINGS"],
                                              with_quota)


def _enrolment(enrolment_id: int, predicate=can_view_enrolment) -> Enrolment:
    return require(predicate, enrolment_for_page(db.session, enrolment_id))


def _item(item_id: int, predicate=can_view_evidence) -> EvidenceItem:
    return require(predicate, db.session.get(EvidenceItem, item_id))


def _file(item: EvidenceItem, file_id: int) -> EvidenceFile:
    upload = db.session.get(EvidenceFile, file_id)
    if upload is None or upload.item_id != item.id:
        abort(404)
    return upload


@blueprint.get("/enrolments/<int:enrolment_id>/evidence")
def index(enrolment_id: int):
    enrolment = _enrolment(enrolment_id)
    tree = version_tree(db.session, enrolment.version_id)
    form = ListFilterForm(request.args)
    form.unit.choices = choices([("", "Any unit"),
                                 *((u.number, f"{u.number} {u.title}") for u in tree.units)])
    form.validate()  # a refused filter is shown next to its field and left out of the query

    def accepted(field):
        return None if field.errors else field.data

    unit = next((u for u in tree.units if u.number == accepted(form.unit)), None)
    query = listing.ListQuery(
        search=accepted(form.q) or "", status=accepted(form.status) or "",
        unit_id=unit.id if unit else None, include_withdrawn=bool(form.withdrawn.data),
        page=request.args.get("page", 1, type=int))
    result = listing.evidence_page(db.session, enrolment, query)
    return render_template("evidence/index.html", enrolment=enrolment, form=form, result=result,
                           filtered=any(request.args.get(k) for k in ("q", "status", "unit")),
                           page_url=_page_url, item_hrefs=hrefs(
                               "evidence.show", "item_id", [i.item.id for i in result.items]))


def _page_url(page: int) -> str:
    """The list's current URL on another page: the search and filters are kept."""
    args = {k: v for k, v in request.args.items() if k != "page"}
    return url_for(request.endpoint, **request.view_args, **args, page=page)


@blueprint.post("/enrolments/<int:enrolment_id>/uploads")
def upload(enrolment_id: int):
    """One file as the raw request body, streamed to storage (the browser uploader's path).
    It waits unattached for the form, so it counts against the uploader's quota."""
    _enrolment(enrolment_id, can_add_evidence)  # the permission, checked before any byte is read
    uploader_id, filename = current_user.id, unquote(request.headers.get("X-Filename", ""))
    limits = _limits(with_quota=True)
    if (request.content_length or 0) > limits.max_bytes:
        return too_large(request.content_length, limits.max_bytes)
    # A full quota is refused before any byte is read, and checked again as the row is written.
    try:
        uploads.check_quota(db.session, uploader_id, limits.quota, 1, request.content_length or 0)
    except UploadRejected as refused:
        return jsonify(error=str(refused)), 422
    finally:
        release_connection(db.session)
    with committing(flash_messages=False) as done:
        stored = uploads.receive_upload(db.session, object_store(), enrolment_id, uploader_id,
                                        request.stream, filename, limits)
    if not done:
        return jsonify(error=done.error), done.status
    return jsonify(id=stored.id, name=stored.original_name, size=stored.size,
                   content_type=stored.content_type)


@blueprint.errorhandler(413)
def request_too_large(error):
    """The uploader reads JSON; a form posted without JavaScript gets the page."""
    if request.endpoint == "evidence.upload":
        return too_large(request.content_length or 0, _limits(with_quota=False).max_bytes)
    return render_template("errors/413.html"), 413


@blueprint.route("/enrolments/<int:enrolment_id>/evidence/new", methods=["GET", "POST"])
def new(enrolment_id: int):
    enrolment = _enrolment(enrolment_id, can_add_evidence)
    form = EvidenceForm()
    resubmission_of = _resubmitted_item(enrolment, form)
    if form.validate_on_submit():
        # Without JavaScript the files arrive in the form itself: same path, same checks, and
        # likewise streamed to the store with no transaction open; the rows and the item are
        # then written in one short transaction, whose rollback removes the objects. These
        # files are attached as they are recorded, so no quota of unattached uploads applies.
        posted = [(f.stream, f.filename) for f in form.files.data or [] if f and f.filename]
        uploader_id = current_user.id
        if posted:
            release_connection(db.session)
        with committing() as done:
            stored = uploads.store_uploads(object_store(), enrolment_id, posted,
                                           _limits(with_quota=False))
            received = uploads.record_uploads(db.session, object_store(), stored, enrolment_id,
                                              uploader_id, quota=None)
            item = services.create_item(
                db.session, enrolment, current_user, _details(form),
                [*form.uploads.data, *(u.id for u in received)], form.criteria.data,
                declared=form.declaration.data, resubmission_of=resubmission_of)
        if done:
            flash(f"Added “{item.title}”.", "info")
            return redirect(url_for("evidence.show", item_id=item.id))
    return render_template("evidence/new.html", form=form, enrolment=enrolment,
                           units=version_tree(db.session, enrolment.version_id).units,
                           chosen=set(form.criteria.data or []), resubmission_of=resubmission_of,
                           uploaded=services.waiting_uploads(db.session, enrolment, current_user,
                                                             form.uploads.data or []),
                           criterion_statuses=_criterion_statuses(enrolment))


#: What a resubmission keeps of the item it answers: the work was usually done the same way.
_CARRIED_OVER = ("evidence_date", "method", "setting", "witness_name", "witness_role",
                 "witness_relationship", "witness_is_expert")


def _resubmitted_item(enrolment: Enrolment, form: EvidenceForm) -> EvidenceItem | None:
    """The judged item a resubmission answers; on first display its not-yet-met criteria are
    claimed again, its title offered and its date, method, setting and witness carried over."""
    item_id = request.args.get("resubmit", type=int)
    if item_id is None:
        return None
    item = db.session.get(EvidenceItem, item_id)
    if item is None or item.enrolment_id != enrolment.id:
        abort(404)
    if request.method == "GET":
        decisions = _decisions(item)
        form.criteria.data = sorted(cid for cid, found in decisions.items()
                                    if found[-1].outcome == "not_yet_met")
        form.title.data = f"Resubmission: {item.title}"[:200]
        for name in _CARRIED_OVER:
            getattr(form, name).data = getattr(item, name)
    return item


def _decisions(item: EvidenceItem) -> dict[int, list]:
    """The item's decisions by criterion, oldest first, from the features that make them."""
    found: dict[int, list] = {}
    for answer in item_decisions(db.session, item):
        found.update(answer)
    return found


def _criterion_statuses(enrolment: Enrolment) -> dict[int, str]:
    """Criteria already met or awaiting a decision, which the picker marks."""
    found: dict[int, str] = {}
    for answer in criterion_statuses(db.session, enrolment):
        found.update(answer)
    return found


def _details(form: EvidenceForm) -> services.ItemDetails:
    return services.ItemDetails(
        title=form.title.data or "", description=form.description.data or "",
        evidence_date=form.evidence_date.data, method=form.method.data,
        setting=form.setting.data, witness_name=form.witness_name.data,
        witness_role=form.witness_role.data, witness_relationship=form.witness_relationship.data,
        witness_is_expert=form.witness_is_expert.data)


@blueprint.get("/evidence/<int:item_id>")
def show(item_id: int):
    item = _item(item_id)
    decisions = _decisions(item)
    return render_template("evidence/show.html", item=item, form=EmptyForm(),
                           decisions={cid: found[-1] for cid, found in decisions.items()},
                           can_change=can_change_evidence(current_user, item),
                           can_resubmit=can_resubmit(current_user, item, decisions),
                           can_see_digests=can_see_file_digests(current_user, item))


@blueprint.get("/evidence/<int:item_id>/files/<int:file_id>")
def download(item_id: int, file_id: int):
    stored = _file(_item(item_id), file_id)
    return presigned_redirect(stored.object_key,
                               download_name(stored.original_name, stored.content_type),
                               attachment=True,
                               content_type=stored.content_type)


@blueprint.get("/evidence/<int:item_id>/files/<int:file_id>/<any(thumbnail, preview):size>")
def image(item_id: int, file_id: int, size: str):
    stored = _file(_item(item_id), file_id)
    key = stored.thumbnail_key if size == "thumbnail" else stored.preview_key
    if key is None:
        abort(404)
    return presigned_redirect(key, f"{size}.jpg", attachment=False, content_type="image/jpeg")


def presigned_redirect(key: str, filename: str, attachment: bool, content_type: str):
    url = object_store().presigned_url(key, filename=filename, attachment=attachment,
                                       content_type=content_type)
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "private, max-age=30"
    return response


@blueprint.route("/evidence/<int:item_id>/claims", methods=["GET", "POST"])
def claims(item_id: int):
    item = _item(item_id, can_change_evidence)
    form = ClaimsForm()
    if form.validate_on_submit():
        with committing(flash_messages=False) as done:
            services.change_claims(db.session, item, current_user, form.criteria.data)
        if done:
            flash("Claims updated.", "info")
            return redirect(url_for("evidence.show", item_id=item.id))
        # A refusal is about the criteria chosen (none, or in a signed-off unit), shown at the
        # picker; a conflict or a busy database is the form's.
        (form.criteria.errors if done.status == 422 else form.form_errors).append(done.error)
    chosen = set(form.criteria.data) if request.method == "POST" else {
        c.criterion_id for c in item.claims}
    return render_template("evidence/claims.html", form=form, item=item, chosen=chosen,
                           units=version_tree(db.session, item.enrolment.version_id).units,
                           criterion_statuses=_criterion_statuses(item.enrolment))


@blueprint.post("/evidence/<int:item_id>/withdraw")
def withdraw(item_id: int):
    item = _item(item_id, can_change_evidence)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with committing(f"Withdrew “{item.title}”. It is hidden, not deleted.") as done:
        services.withdraw(db.session, item, current_user)  # refused if judged meanwhile
    if not done:
        return redirect(url_for("evidence.show", item_id=item.id))
    return redirect(url_for("evidence.index", enrolment_id=item.enrolment_id))
