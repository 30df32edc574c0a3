"""Evidence operations: receiving uploads, creating items, changing claims, withdrawing, and
sweeping orphaned objects. They flush; the caller commits once.

Ordering keeps storage and database consistent without a distributed transaction: objects are
written first under keys the server builds, then the row that names them. A failure before the
commit leaves objects that no row names, which :func:`sweep` removes after a grace period; a row
never exists without its objects. Uploads not yet attached to an item are rows with no item,
also swept after the grace period.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload, subqueryload

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.services import lock_enrolment
from portfolio.assessment.services import current_sign_offs
from portfolio.catalogue.models import Criterion, LearningOutcome, Unit
from portfolio.core import audit
from portfolio.core.db import utcnow
from portfolio.core.storage import ObjectStore, StorageError
from portfolio.core.uploads import (
    IMAGE_TYPES,
    StreamReader,
    make_derivatives,
    sniff,
)
from portfolio.evidence.models import METHODS, SETTINGS, CriterionClaim, EvidenceFile, EvidenceItem

KEY_PREFIX = "evidence/"
# Images are decoded whole by Pillow; they are spooled to a temporary file first, in memory up
# to this size.
SPOOL_IN_MEMORY = 8 * 1024 * 1024


class EvidenceError(ValueError):
    """A request refused with a message for the learner."""


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int


def receive_upload(session: Session, store: ObjectStore, enrolment: Enrolment, uploader: User,
                   stream, filename: str, limits: UploadLimits) -> EvidenceFile:
    """Validate and store one uploaded file, streaming it; returns the unattached file row."""
    display_name = _display_name(filename)
    reader = StreamReader(stream, display_name, limits.max_bytes)
    content_type = sniff(reader.peek_head(), display_name)
    key = f"{KEY_PREFIX}{enrolment.id}/{uuid.uuid4().hex}"
    stored: list[str] = []
    try:
        thumbnail_key = preview_key = None
        if content_type in IMAGE_TYPES:
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
                shutil.copyfileobj(reader, spool, length=1024 * 1024)
                spool.seek(0)
                derived = make_derivatives(spool, display_name, content_type, limits.max_pixels)
                spool.seek(0)
                store.put_stream(key, spool, content_type)
                stored.append(key)
            thumbnail_key, preview_key = f"{key}-thumbnail.jpg", f"{key}-preview.jpg"
            store.put_bytes(thumbnail_key, derived.thumbnail, "image/jpeg")
            stored.append(thumbnail_key)
            store.put_bytes(preview_key, derived.preview, "image/jpeg")
            stored.append(preview_key)
        else:
            store.put_stream(key, reader, content_type)
            stored.append(key)
    except BaseException:
        _forget_objects(store, stored)
        raise
    upload = EvidenceFile(
        enrolment_id=enrolment.id, uploader_id=uploader.id, object_key=key,
        sha256=reader.sha256, size=reader.size, content_type=content_type,
        original_name=display_name, thumbnail_key=thumbnail_key, preview_key=preview_key)
    session.add(upload)
    session.flush()
    return upload


def _forget_objects(store: ObjectStore, keys: list[str]) -> None:
    """Best effort; anything left behind is an orphan the sweep removes."""
    if keys:
        with contextlib.suppress(StorageError):
            store.delete_many(keys)


def forget_uploads(store: ObjectStore, uploads: Iterable[EvidenceFile]) -> None:
    """After a failed commit: remove the objects of uploads whose rows were never saved."""
    _forget_objects(store, [key for upload in uploads for key in upload.object_keys])


def _display_name(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "file"


@dataclass(frozen=True)
class ItemDetails:
    title: str
    description: str
    evidence_date: dt.date
    method: str
    setting: str
    witness_name: str | None = None
    witness_role: str | None = None
    witness_relationship: str | None = None
    witness_is_expert: bool = False


def _check_details(details: ItemDetails, today: dt.date) -> None:
    if not details.title.strip():
        raise EvidenceError("Give the evidence a title.")
    if details.method not in METHODS:
        raise EvidenceError("Choose how the evidence was produced.")
    if details.setting not in SETTINGS:
        raise EvidenceError("Choose where the evidence was produced.")
    if details.evidence_date > today:
        raise EvidenceError("The evidence date cannot be in the future.")
    if details.method == "witness_testimony" and not (details.witness_name or "").strip():
        raise EvidenceError("Witness testimony needs the witness's name.")


def claimable_criteria(session: Session, enrolment: Enrolment, criterion_ids: Iterable[int]
                       ) -> list[Criterion]:
    """The criteria among ``criterion_ids``, refusing any outside the learner's qualification
    version or in a unit already signed off (locked)."""

    wanted = set(criterion_ids)
    if not wanted:
        raise EvidenceError("Choose at least one assessment criterion this evidence proves.")
    found = list(session.scalars(
        sa.select(Criterion).join(Unit, Criterion.unit_id == Unit.id)
        .where(Criterion.id.in_(wanted), Unit.version_id == enrolment.version_id)))
    if len(found) != len(wanted):
        raise EvidenceError("Some chosen criteria are not part of your qualification.")
    locked = {s.unit_id for s in current_sign_offs(session, [enrolment.id])}
    if any(c.unit_id in locked for c in found):
        raise EvidenceError("Some chosen criteria are in a unit already signed off.")
    return found


def create_item(session: Session, enrolment: Enrolment, learner: User, details: ItemDetails,
                upload_ids: Iterable[int], criterion_ids: Iterable[int], declared: bool,
                today: dt.date | None = None, resubmission_of: EvidenceItem | None = None
                ) -> EvidenceItem:
    if not declared:
        raise EvidenceError("Confirm that this evidence is your own work.")
    _check_details(details, today or dt.date.today())
    upload_ids = set(upload_ids)
    if not upload_ids:
        raise EvidenceError("Add at least one file.")
    uploads = list(session.scalars(sa.select(EvidenceFile).where(
        EvidenceFile.id.in_(upload_ids), EvidenceFile.item_id.is_(None),
        EvidenceFile.enrolment_id == enrolment.id, EvidenceFile.uploader_id == learner.id)))
    if len(uploads) != len(upload_ids):
        raise EvidenceError("Some files were not uploaded, or expired: add them again.")
    criteria = claimable_criteria(session, enrolment, criterion_ids)
    if resubmission_of is not None and resubmission_of.enrolment_id != enrolment.id:
        raise EvidenceError("That is not one of your evidence items.")

    now = utcnow()
    item = EvidenceItem(enrolment=enrolment, declared_at=now, created_at=now, updated_at=now,
                        awaiting_decision_since=now,
                        resubmission_of_id=resubmission_of.id if resubmission_of else None,
                        **_cleaned(details))
    item.files.extend(uploads)
    item.claims.extend(CriterionClaim(criterion_id=c.id) for c in criteria)
    session.add(item)
    session.flush()
    audit.record(session, "evidence.created", actor=learner, centre_id=enrolment.centre_id,
                 learner_id=enrolment.learner_id, obj=item,
                 data={"title": item.title,
                       "files": [{"name": u.original_name, "sha256": u.sha256, "size": u.size}
                                 for u in uploads],
                       "criteria": sorted(c.id for c in criteria)})
    return item


def _cleaned(details: ItemDetails) -> dict:
    def optional(value):
        value = (value or "").strip()
        return value or None

    return {
        "title": details.title.strip(), "description": details.description.strip(),
        "evidence_date": details.evidence_date, "method": details.method,
        "setting": details.setting, "witness_name": optional(details.witness_name),
        "witness_role": optional(details.witness_role),
        "witness_relationship": optional(details.witness_relationship),
        "witness_is_expert": bool(details.witness_is_expert),
    }


def change_claims(session: Session, item: EvidenceItem, actor: User,
                  criterion_ids: Iterable[int]) -> None:
    """Replace the criteria an unjudged item claims (the view has checked the permission)."""
    lock_enrolment(session, item.enrolment)
    session.refresh(item)
    if item.is_judged:
        raise EvidenceError("An assessor has judged this evidence: its claims can no longer change.")
    criteria = claimable_criteria(session, item.enrolment, criterion_ids)
    before = sorted(c.criterion_id for c in item.claims)
    wanted = {c.id for c in criteria}
    item.claims = [c for c in item.claims if c.criterion_id in wanted] + [
        CriterionClaim(criterion_id=cid) for cid in sorted(wanted - set(before))]
    item.updated_at = utcnow()
    session.flush()
    audit.record(session, "evidence.claims_changed", actor=actor,
                 centre_id=item.enrolment.centre_id, learner_id=item.enrolment.learner_id,
                 obj=item, data={"before": before, "after": sorted(wanted)})


def withdraw(session: Session, item: EvidenceItem, actor: User) -> None:
    """Hide an item. Nothing is deleted: its files and history stay for the audit trail."""
    lock_enrolment(session, item.enrolment)
    session.refresh(item)
    if item.is_judged:
        raise EvidenceError("An assessor has judged this evidence: it cannot be withdrawn.")
    item.withdrawn_at = utcnow()
    session.flush()
    audit.record(session, "evidence.withdrawn", actor=actor, centre_id=item.enrolment.centre_id,
                 learner_id=item.enrolment.learner_id, obj=item, data={"title": item.title})


def items_for(session: Session, enrolment: Enrolment, include_withdrawn: bool = False
              ) -> list[EvidenceItem]:
    """An enrolment's items, newest first, with files and claimed criteria in a fixed number of
    queries whatever the portfolio's size (subquery loading: selectin loading batches its IN
    lists, so its query count grows with the number of items)."""
    query = (sa.select(EvidenceItem).where(EvidenceItem.enrolment_id == enrolment.id)
             .options(subqueryload(EvidenceItem.files),
                      subqueryload(EvidenceItem.claims).joinedload(CriterionClaim.criterion)
                      .joinedload(Criterion.unit))
             .order_by(EvidenceItem.evidence_date.desc(), EvidenceItem.id.desc()))
    if not include_withdrawn:
        query = query.where(EvidenceItem.withdrawn_at.is_(None))
    return list(session.scalars(query))


def criteria_tree(session: Session, version_id: int) -> list[Unit]:
    """Units with outcomes and criteria, for the picker, in three queries."""
    return list(session.scalars(
        sa.select(Unit).where(Unit.version_id == version_id).order_by(Unit.position)
        .options(selectinload(Unit.learning_outcomes).selectinload(LearningOutcome.criteria))))


def drop_unattached_uploads(session: Session, cutoff: dt.datetime) -> int:
    """Delete upload rows never attached to an item before ``cutoff``. Commit before sweeping
    objects, so no remaining row ever names a removed object."""
    stale = list(session.scalars(sa.select(EvidenceFile).where(
        EvidenceFile.item_id.is_(None), EvidenceFile.uploaded_at < cutoff)))
    for upload in stale:
        session.delete(upload)
    session.flush()
    return len(stale)


@dataclass(frozen=True)
class ObjectSweep:
    orphaned_objects: int
    aborted_multipart_uploads: int


def sweep_objects(session: Session, store: ObjectStore, cutoff: dt.datetime) -> ObjectSweep:
    """Remove objects older than ``cutoff`` that no file row names, and stalled multipart
    uploads. Objects of attached files are never touched."""
    referenced: set[str] = set()
    for row in session.execute(sa.select(EvidenceFile.object_key, EvidenceFile.thumbnail_key,
                                         EvidenceFile.preview_key)):
        referenced.update(key for key in row if key)
    orphans = [key for key, modified in store.iter_objects(KEY_PREFIX)
               if modified < cutoff and key not in referenced]
    store.delete_many(orphans)
    return ObjectSweep(len(orphans), store.abort_stale_multipart_uploads(cutoff))
