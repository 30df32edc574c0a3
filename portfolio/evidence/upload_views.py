"""The uploader's JSON endpoints besides the one-request upload: resumable uploads sent in parts
(the protocol is described in :mod:`portfolio.evidence.resumable`) and discarding an upload not
yet added to evidence. A refusal is JSON with an ``error`` sentence for the learner; a file over
the limit is a 413 that also gives the ``limit`` in bytes.

No transaction is open while bytes move: each view checks the permission in a read-only
transaction, ends it, then talks to the store; only finish and discard write, in a short
transaction afterwards.
"""

from __future__ import annotations

from urllib.parse import unquote

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from portfolio.accounts.models import Enrolment
from portfolio.core.db import release_connection
from portfolio.core.permissions import require
from portfolio.core.storage import StorageError
from portfolio.core.uploads import UploadRejected, human_size
from portfolio.core.web import STORE_UNAVAILABLE, committing
from portfolio.evidence import resumable, uploads
from portfolio.evidence.models import EvidenceFile
from portfolio.evidence.permissions import can_add_evidence, can_discard_upload
from portfolio.extensions import db, object_store

blueprint = Blueprint("uploads", __name__)
blueprint.add_app_template_filter(human_size, "human_size")


def limits(with_quota: bool = True) -> uploads.UploadLimits:
    return uploads.UploadLimits.from_settings(current_app.config["PORTFOLIO_SETTINGS"],
                                              with_quota)


def too_large(size: int, limit: int):
    """The 413 answer the uploader reads: the file's size and the limit, in words and bytes."""
    return jsonify(error=uploads.size_refusal(size, limit), limit=limit), 413


@blueprint.errorhandler(413)
def request_too_large(error):
    """A body over the server's own ceiling, refused before any view runs."""
    return too_large(request.content_length or 0, limits().max_bytes)


def _permitted(enrolment_id: int) -> int:
    """The permission, checked before any byte is read; then no transaction stays open. Returns
    the uploader's id, read before the transaction ends (reading it after would begin another)."""
    require(can_add_evidence, db.session.get(Enrolment, enrolment_id))
    uploader_id = current_user.id
    release_connection(db.session)
    return uploader_id


def _upload(enrolment_id: int, ticket: str) -> resumable.ResumableUpload:
    uploader_id = _permitted(enrolment_id)
    return resumable.ResumableUpload.from_ticket(
        current_app.config["SECRET_KEY"], ticket, enrolment_id, uploader_id)


# The protocol's refusals, wherever a view meets them, as the JSON the uploader reads.
@blueprint.errorhandler(resumable.UnknownUpload)
def unknown_upload(error):
    return jsonify(error="This upload is not known (it may have expired): add the file "
                         "again."), 404


@blueprint.errorhandler(UploadRejected)
def refused(error: UploadRejected):
    if isinstance(error, resumable.FileTooLarge):
        return jsonify(error=str(error), limit=error.limit), 413
    return jsonify(error=str(error)), 422


@blueprint.errorhandler(StorageError)
def store_unavailable(error):
    current_app.logger.exception("the object store failed")
    return jsonify(error=STORE_UNAVAILABLE), 503


@blueprint.post("/enrolments/<int:enrolment_id>/uploads/resumable")
def begin(enrolment_id: int):
    """Start a resumable upload of the ``size`` bytes the JSON body announces."""
    uploader_id = _permitted(enrolment_id)
    size = (request.get_json(silent=True) or {}).get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        return jsonify(error="Say how large the file is, in bytes."), 400
    current = limits()
    uploads.check_quota(db.session, uploader_id, current.quota, 1, size)
    release_connection(db.session)
    upload = resumable.begin(object_store(), enrolment_id, uploader_id, size, current)
    return jsonify(ticket=upload.ticket(current_app.config["SECRET_KEY"]),
                   part_size=resumable.PART_SIZE), 201


@blueprint.get("/enrolments/<int:enrolment_id>/uploads/resumable/<ticket>")
def status(enrolment_id: int, ticket: str):
    """Which parts the store has: a retry sends only the others."""
    parts = resumable.parts_done(object_store(), _upload(enrolment_id, ticket))
    return jsonify(parts=[p.number for p in parts], received=sum(p.size for p in parts),
                   part_size=resumable.PART_SIZE)


@blueprint.put("/enrolments/<int:enrolment_id>/uploads/resumable/<ticket>/parts/<int:number>")
def part(enrolment_id: int, ticket: str, number: int):
    upload = _upload(enrolment_id, ticket)
    stored = resumable.put_part(object_store(), upload, number, request.stream,
                                request.content_length, limits())
    return jsonify(part=stored.number, size=stored.size)


@blueprint.post("/enrolments/<int:enrolment_id>/uploads/resumable/<ticket>/finish")
def finish(enrolment_id: int, ticket: str):
    """Join the parts, validate the file and record it as an upload, as the one-request
    endpoint does."""
    upload = _upload(enrolment_id, ticket)
    current = limits()
    stored = resumable.finish(object_store(), upload,
                              unquote(request.headers.get("X-Filename", "")), current)
    with committing(flash_messages=False) as done:
        [row] = uploads.record_uploads(db.session, object_store(), [stored], enrolment_id,
                                       upload.uploader_id, current.quota)
    if not done:
        return jsonify(error=done.error), done.status
    return jsonify(id=row.id, name=row.original_name, size=row.size,
                   content_type=row.content_type)


@blueprint.post("/enrolments/<int:enrolment_id>/uploads/resumable/<ticket>/abort")
def abandon(enrolment_id: int, ticket: str):
    """The learner removed a file still being sent: its parts go now, not at the sweep."""
    resumable.abort(object_store(), _upload(enrolment_id, ticket))
    return jsonify(aborted=True)


@blueprint.post("/uploads/<int:file_id>/discard")
def discard(file_id: int):
    """Remove an upload of one's own not yet added to evidence, and its objects."""
    upload = require(can_discard_upload, db.session.get(EvidenceFile, file_id))
    with committing(flash_messages=False) as done:
        uploads.discard_upload(db.session, object_store(), upload, current_user)
    if not done:
        return jsonify(error=done.error), done.status
    return jsonify(discarded=file_id)

