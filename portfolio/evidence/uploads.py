"""Receiving evidence files into the object store, and sweeping what no row names.

Ordering keeps storage and database consistent without a distributed transaction: objects are
written first under keys the server builds, then the row that names them. If the transaction
then rolls back, the objects are removed as it ends; anything a crash leaves behind is an object
that no row names, which :func:`sweep_objects` removes after a grace period. A row never exists
without its objects. Uploads not yet attached to an item are rows with no item, also swept after
the grace period.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import shutil
import tempfile
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.services import lock_enrolment
from portfolio.config import Settings
from portfolio.core.metrics import count_upload
from portfolio.core.storage import ObjectStore, StorageError
from portfolio.core.transaction import after_commit, after_rollback
from portfolio.core.uploads import UploadRejected, human_size
from portfolio.core.uploads.containers import CONTAINER_TYPES, check_container
from portfolio.core.uploads.images import make_derivatives
from portfolio.core.uploads.sniffing import IMAGE_TYPES, sniff
from portfolio.core.uploads.streaming import StreamReader
from portfolio.evidence.events import upload_discarded
from portfolio.evidence.models import EvidenceFile

logger = logging.getLogger(__name__)

KEY_PREFIX = "evidence/"
# Images and Office files are read whole (decoded, or their directory read at the end); they are
# spooled to a temporary file first, in memory up to this size.
SPOOL_IN_MEMORY = 8 * 1024 * 1024


@dataclass(frozen=True)
class UploadQuota:
    """What one person may hold in uploads not yet added to evidence."""

    max_files: int
    max_bytes: int
    #: How old an unattached upload is when the sweep may remove it, for the message.
    swept_after_seconds: int


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int
    decode_max_bytes: int = Settings.image_decode_max_bytes
    concurrent_decodes: int = Settings.image_concurrent_decodes
    #: None for uploads attached in the transaction that records them (they never wait).
    quota: UploadQuota | None = None

    @classmethod
    def from_settings(cls, settings: Settings, with_quota: bool) -> UploadLimits:
        return cls(settings.upload_max_bytes, settings.image_max_pixels,
                   settings.image_decode_max_bytes, settings.image_concurrent_decodes,
                   UploadQuota(settings.unattached_upload_max_files,
                               settings.unattached_upload_max_bytes,
                               settings.sweep_grace_seconds) if with_quota else None)


@dataclass(frozen=True)
class StoredUpload:
    """A validated upload in the store, not yet named by any row."""

    key: str
    sha256: str
    size: int
    content_type: str
    original_name: str
    thumbnail_key: str | None = None
    preview_key: str | None = None

    @property
    def keys(self) -> list[str]:
        return [k for k in (self.key, self.thumbnail_key, self.preview_key) if k]


def receive_upload(session: Session, store: ObjectStore, enrolment_id: int, uploader_id: int,
                   stream, filename: str, limits: UploadLimits) -> EvidenceFile:
    """Validate and store one uploaded file, streaming it; returns the unattached file row. Its
    objects are removed again if the transaction does not commit.

    Ids, not loaded objects: the caller may have ended its transaction so that no database
    connection is held while the file streams (see :func:`portfolio.core.db.release_connection`);
    the row is written in a short transaction afterwards.
    """
    stored = store_upload(store, enrolment_id, stream, filename, limits)
    [upload] = record_uploads(session, store, [stored], enrolment_id, uploader_id, limits.quota)
    return upload


def store_upload(store: ObjectStore, enrolment_id: int, stream, filename: str,
                 limits: UploadLimits) -> StoredUpload:
    """Validate one file of a learner's evidence and write it (and an image's derivatives) to
    the store, touching no database; on any failure nothing of it stays in the store."""
    return store_file(store, f"{KEY_PREFIX}{enrolment_id}/", stream, filename, limits)


def store_file(store: ObjectStore, folder: str, stream, filename: str,
               limits: UploadLimits) -> StoredUpload:
    """:func:`store_upload` for any feature's files: the one validation path, with the object
    key built by the server under ``folder`` (which ends with a slash)."""
    display_name = _display_name(filename)
    reader = StreamReader(stream, display_name, limits.max_bytes)
    content_type = sniff(reader.peek_head(), display_name)
    key = f"{folder}{uuid.uuid4().hex}"
    stored: list[str] = []
    try:
        derived = None
        if content_type in IMAGE_TYPES or content_type in CONTAINER_TYPES:
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
                shutil.copyfileobj(reader, spool, length=1024 * 1024)
                if content_type in CONTAINER_TYPES:
                    content_type = check_container(spool, content_type, display_name)
                else:
                    spool.seek(0)
                    derived = make_derivatives(
                        spool, display_name, content_type, limits.max_pixels,
                        limits.decode_max_bytes, limits.concurrent_decodes)
                spool.seek(0)
                store.put_stream(key, spool, content_type)
                stored.append(key)
        else:
            store.put_stream(key, reader, content_type)
            stored.append(key)
        thumbnail_key = preview_key = None
        if derived is not None:
            thumbnail_key, preview_key = f"{key}-thumbnail.jpg", f"{key}-preview.jpg"
            store.put_bytes(thumbnail_key, derived.thumbnail, "image/jpeg")
            stored.append(thumbnail_key)
            store.put_bytes(preview_key, derived.preview, "image/jpeg")
            stored.append(preview_key)
    except BaseException:
        _forget_objects(store, stored)
        raise
    logger.info("stored upload %s: %s bytes of %s", key, reader.size, content_type)
    count_upload(reader.size)
    return StoredUpload(key, reader.sha256, reader.size, content_type, display_name,
                        thumbnail_key, preview_key)


def store_uploads(store: ObjectStore, enrolment_id: int, files, limits: UploadLimits
                  ) -> list[StoredUpload]:
    """:func:`store_upload` for each ``(stream, filename)``; all or nothing in the store."""
    stored: list[StoredUpload] = []
    try:
        for stream, filename in files:
            stored.append(store_upload(store, enrolment_id, stream, filename, limits))
    except BaseException:
        _forget_objects(store, [key for upload in stored for key in upload.keys])
        raise
    return stored


def record_uploads(session: Session, store: ObjectStore, stored: list[StoredUpload],
                   enrolment_id: int, uploader_id: int, quota: UploadQuota | None
                   ) -> list[EvidenceFile]:
    """The rows naming stored uploads, flushed. Their objects go if the transaction rolls back
    (the callback is registered before anything can fail), as they do when the uploader's quota
    is found full here, where parallel uploads of one person take turns."""
    forget_on_rollback(session, store, stored)
    # The enrolment may have ended while the files streamed: its record takes no more.
    lock_enrolment(session, session.get(Enrolment, enrolment_id))
    if quota is not None:
        # Serialises one person's uploads, so two at once cannot both fit the last place.
        # (SQLite has no row locks; it serialises all writers.)
        session.execute(sa.select(User.id).where(User.id == uploader_id).with_for_update())
        check_quota(session, uploader_id, quota, len(stored), sum(u.size for u in stored))
    rows = [EvidenceFile(
        enrolment_id=enrolment_id, uploader_id=uploader_id, object_key=upload.key,
        sha256=upload.sha256, size=upload.size, content_type=upload.content_type,
        original_name=upload.original_name, thumbnail_key=upload.thumbnail_key,
        preview_key=upload.preview_key) for upload in stored]
    session.add_all(rows)
    session.flush()
    return rows


def forget_on_rollback(session: Session, store: ObjectStore, stored: list[StoredUpload]) -> None:
    """Remove the stored uploads' objects if the session's transaction does not commit: to be
    called before anything that names them can fail."""
    after_rollback(session, functools.partial(
        _forget_objects, store, [key for upload in stored for key in upload.keys]))


def check_quota(session: Session, uploader_id: int, quota: UploadQuota, adding_files: int,
                adding_bytes: int) -> None:
    """Refuse uploads that would take the uploader's unattached files past the quota. Checked
    before the bytes are read (with the size the request announces) and again, under the
    uploader's lock, when the rows are written."""
    files, total = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(EvidenceFile.size), 0))
        .where(EvidenceFile.uploader_id == uploader_id, EvidenceFile.item_id.is_(None))).one()
    total = int(total)  # PostgreSQL sums integers as numeric
    if files + adding_files > quota.max_files or total + adding_bytes > quota.max_bytes:
        raise UploadRejected(
            f"You already have {_files(files)} ({human_size(total)}) uploaded but not yet added "
            f"to evidence, and the limit is {_files(quota.max_files)} or "
            f"{human_size(quota.max_bytes)}. Add your uploads to an "
            "evidence item to free space; uploads never added are cleared once they are "
            f"{max(1, round(quota.swept_after_seconds / 3600))} hours old")


def size_refusal(size: int, limit: int) -> str:
    """What a learner is told of a file over the limit, in the words their device uses."""
    return f"This file is {human_size(size)}; the limit is {human_size(limit)}."


def discard_upload(session: Session, store: ObjectStore, upload: EvidenceFile,
                   actor: User) -> None:
    """Remove an upload its uploader no longer wants before adding it to evidence (as the sweep
    would later): its row now, its objects once that has committed."""
    if upload.item_id is not None:
        raise UploadRejected("This file is part of an evidence item already and stays there.")
    keys = upload.object_keys
    upload_discarded.emit(session, actor=actor, centre_id=upload.enrolment.centre_id,
                          learner_id=upload.enrolment.learner_id, subject=upload,
                          name=upload.original_name, size=upload.size)
    session.delete(upload)
    session.flush()
    after_commit(session, functools.partial(_forget_objects, store, keys))


def _files(count: int) -> str:
    return f"{count} file{'' if count == 1 else 's'}"


def _forget_objects(store: ObjectStore, keys: list[str]) -> None:
    """Best effort; anything left behind is an orphan the sweep removes."""
    if keys:
        with contextlib.suppress(StorageError):
            store.delete_many(keys)


def _display_name(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "file"


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
