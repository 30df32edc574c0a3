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

from portfolio.accounts.models import Enrolment
from portfolio.assessment.services import decisions_on_item
from portfolio.core.forms import EmptyForm
from portfolio.core.permissions import (
    can_add_evidence,
    can_change_evidence,
    can_view_enrolment,
    can_view_evidence,
    require,
)
from portfolio.core.storage import StorageError
from portfolio.core.uploads import UploadRejected
from portfolio.evidence import services
from portfolio.evidence.forms import ClaimsForm, EvidenceForm
from portfolio.evidence.models import EvidenceFile, EvidenceItem
from portfolio.extensions import db, object_store

blueprint = Blueprint("evidence", __name__)


def _limits() -> services.UploadLimits:
    settings = current_app.config["PORTFOLIO_SETTINGS"]
    return services.UploadLimits(settings.upload_max_bytes, settings.image_max_pixels)


def _enrolment(enrolment_id: int, predicate=can_view_enrolment) -> Enrolment:
    return require(predicate, db.session.get(Enrolment, enrolment_id))


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
    show_withdrawn = request.args.get("withdrawn") == "1"
    items = services.items_for(db.session, enrolment, include_withdrawn=show_withdrawn)
    return render_template("evidence/index.html", enrolment=enrolment, items=items,
                           show_withdrawn=show_withdrawn)


@blueprint.post("/enrolments/<int:enrolment_id>/uploads")
def upload(enrolment_id: int):
    """One file as the raw request body, streamed to storage (the browser uploader's path)."""
    enrolment = _enrolment(enrolment_id, can_add_evidence)
    filename = unquote(request.headers.get("X-Filename", ""))
    try:
        stored = services.receive_upload(db.session, object_store(), enrolment, current_user,
                                         request.stream, filename, _limits())
    except UploadRejected as error:
        return jsonify(error=str(error)), 422
    except StorageError:
        current_app.logger.exception("storage failed during an upload")
        return jsonify(error="The file store is not answering. Try again in a minute."), 503
    _commit_or_forget([stored])
    return jsonify(id=stored.id, name=stored.original_name, size=stored.size,
                   content_type=stored.content_type)


def _commit_or_forget(uploads) -> None:
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        services.forget_uploads(object_store(), uploads)
        raise


@blueprint.route("/enrolments/<int:enrolment_id>/evidence/new", methods=["GET", "POST"])
def new(enrolment_id: int):
    enrolment = _enrolment(enrolment_id, can_add_evidence)
    form = EvidenceForm()
    resubmission_of = _resubmitted_item(enrolment, form)
    if form.validate_on_submit():
        received = []
        try:
            # Without JavaScript the files arrive in the form itself: same path, same checks.
            for posted in form.files.data or []:
                if posted and posted.filename:
                    received.append(services.receive_upload(
                        db.session, object_store(), enrolment, current_user, posted.stream,
                        posted.filename, _limits()))
            item = services.create_item(
                db.session, enrolment, current_user, _details(form),
                [*form.uploads.data, *(u.id for u in received)], form.criteria.data,
                declared=form.declaration.data, resubmission_of=resubmission_of)
        except (services.EvidenceError, UploadRejected) as error:
            db.session.rollback()
            services.forget_uploads(object_store(), received)
            flash(str(error), "error")
        except StorageError:
            db.session.rollback()
            services.forget_uploads(object_store(), received)
            flash("The file store is not answering. Try again in a minute.", "error")
        else:
            _commit_or_forget(received)
            flash(f"Added “{item.title}”.", "info")
            return redirect(url_for("evidence.show", item_id=item.id))
    elif request.method == "POST":
        flash("Check the form: " + "; ".join(
            f"{getattr(form, name).label.text}: {errors[0]}" for name, errors in form.errors.items()),
            "error")
    return render_template("evidence/new.html", form=form, enrolment=enrolment,
                           units=services.criteria_tree(db.session, enrolment.version_id),
                           chosen=set(form.criteria.data or []), resubmission_of=resubmission_of)


def _resubmitted_item(enrolment: Enrolment, form: EvidenceForm) -> EvidenceItem | None:
    """The judged item a resubmission answers; on first display its not-yet-met criteria are
    claimed again and its title offered."""
    item_id = request.args.get("resubmit", type=int)
    if item_id is None:
        return None
    item = db.session.get(EvidenceItem, item_id)
    if item is None or item.enrolment_id != enrolment.id:
        abort(404)
    if request.method == "GET":
        decisions = decisions_on_item(db.session, item)
        form.criteria.data = sorted(cid for cid, found in decisions.items()
                                    if found[-1].outcome == "not_yet_met")
        form.title.data = f"Resubmission: {item.title}"[:200]
    return item


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
    decisions = decisions_on_item(db.session, item)
    return render_template("evidence/show.html", item=item, form=EmptyForm(),
                           decisions={cid: found[-1] for cid, found in decisions.items()},
                           can_change=can_change_evidence(current_user, item))


@blueprint.get("/evidence/<int:item_id>/files/<int:file_id>")
def download(item_id: int, file_id: int):
    stored = _file(_item(item_id), file_id)
    return _presigned_redirect(stored.object_key, stored.original_name, attachment=True,
                               content_type=stored.content_type)


@blueprint.get("/evidence/<int:item_id>/files/<int:file_id>/<any(thumbnail, preview):size>")
def image(item_id: int, file_id: int, size: str):
    stored = _file(_item(item_id), file_id)
    key = stored.thumbnail_key if size == "thumbnail" else stored.preview_key
    if key is None:
        abort(404)
    return _presigned_redirect(key, f"{size}.jpg", attachment=False, content_type="image/jpeg")


def _presigned_redirect(key: str, filename: str, attachment: bool, content_type: str):
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
        try:
            services.change_claims(db.session, item, current_user, form.criteria.data)
        except services.EvidenceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Claims updated.", "info")
            return redirect(url_for("evidence.show", item_id=item.id))
    chosen = set(form.criteria.data) if request.method == "POST" else {
        c.criterion_id for c in item.claims}
    return render_template("evidence/claims.html", form=form, item=item, chosen=chosen,
                           units=services.criteria_tree(db.session, item.enrolment.version_id))


@blueprint.post("/evidence/<int:item_id>/withdraw")
def withdraw(item_id: int):
    item = _item(item_id, can_change_evidence)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw(db.session, item, current_user)
    except services.EvidenceError as error:  # judged meanwhile
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("evidence.show", item_id=item.id))
    db.session.commit()
    flash(f"Withdrew “{item.title}”. It is hidden, not deleted.", "info")
    return redirect(url_for("evidence.index", enrolment_id=item.enrolment_id))
