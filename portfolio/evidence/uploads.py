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

from portfolio.core.storage import ObjectStore, StorageError
from portfolio.core.transaction import after_rollback
from portfolio.core.uploads.images import make_derivatives
from portfolio.core.uploads.sniffing import IMAGE_TYPES, sniff
from portfolio.core.uploads.streaming import StreamReader
from portfolio.evidence.models import EvidenceFile

logger = logging.getLogger(__name__)

KEY_PREFIX = "evidence/"
# Images are decoded whole by Pillow; they are spooled to a temporary file first, in memory up
# to this size.
SPOOL_IN_MEMORY = 8 * 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int


def receive_upload(session: Session, store: ObjectStore, enrolment_id: int, uploader_id: int,
                   stream, filename: str, limits: UploadLimits) -> EvidenceFile:
    """Validate and store one uploaded file, streaming it; returns the unattached file row. Its
    objects are removed again if the transaction does not commit.

    Ids, not loaded objects: the caller may have ended its transaction so that no database
    connection is held while the file streams (see :func:`portfolio.core.db.release_connection`);
    the row is written in a short transaction afterwards.
    """
    display_name = _display_name(filename)
    reader = StreamReader(stream, display_name, limits.max_bytes)
    content_type = sniff(reader.peek_head(), display_name)
    key = f"{KEY_PREFIX}{enrolment_id}/{uuid.uuid4().hex}"
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
    after_rollback(session, functools.partial(_forget_objects, store, stored))
    upload = EvidenceFile(
        enrolment_id=enrolment_id, uploader_id=uploader_id, object_key=key,
        sha256=reader.sha256, size=reader.size, content_type=content_type,
        original_name=display_name, thumbnail_key=thumbnail_key, preview_key=preview_key)
    session.add(upload)
    session.flush()
    logger.info("stored upload %s for enrolment %s: %s bytes of %s", key, enrolment_id,
                reader.size, content_type)
    return upload


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
