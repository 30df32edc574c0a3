"""Resumable uploads: a large file sent in parts of :data:`PART_SIZE`, each its own request, so a
phone that loses its signal resends only the parts the store has not got.

The protocol (routes in :mod:`portfolio.evidence.upload_views`):

1. *begin* with the file's size: the server refuses a file over the limit or the uploader's
   quota, starts an S3 multipart upload under a key it builds, and answers a *ticket*;
2. *send part n* (1-based) as the raw body: streamed to the store as part ``n``; sending a part
   again replaces it, so a retry is harmless;
3. after a dropped connection, *ask which parts are done* and send the rest;
4. *finish*: the store joins the parts, and the joined object goes through the one validation
   path of every upload (:func:`portfolio.evidence.uploads.store_upload`: sniffing, hash,
   derivatives) to the key the file keeps; the joined object is then removed.

No database is involved until finish records the row; the ticket, signed with the application's
secret, names the enrolment and the uploader, so nobody else can send parts to an upload. What a
learner abandons is cleared by the sweep: the stalled multipart upload after the grace period,
and a joined object no row names (it lives under the evidence prefix) as an orphan.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from dataclasses import dataclass
from typing import BinaryIO

from itsdangerous import BadSignature, URLSafeSerializer

from portfolio.core.multipart import MultipartUploads, Part
from portfolio.core.storage import MiB, MissingObject, ObjectStore, StorageError
from portfolio.core.uploads import UploadRejected
from portfolio.evidence.uploads import (
    KEY_PREFIX,
    StoredUpload,
    UploadLimits,
    size_refusal,
    store_upload,
)

#: Every part but the last has this size; one part is all a request holds in memory.
PART_SIZE = 8 * MiB
INCOMING_PREFIX = f"{KEY_PREFIX}incoming/"
_TICKET_SALT = "portfolio.resumable-upload"


class UnknownUpload(Exception):
    """A ticket that is forged, another person's, or names an upload the store no longer has."""


class FileTooLarge(UploadRejected):
    """A file announced over the size limit; the answer names the limit."""

    def __init__(self, size: int, limit: int):
        super().__init__(size_refusal(size, limit))
        self.limit = limit


@dataclass(frozen=True)
class ResumableUpload:
    """One person's upload in progress, for one enrolment."""

    enrolment_id: int
    uploader_id: int
    token: str
    upload_id: str

    @property
    def key(self) -> str:
        return _incoming_key(self.enrolment_id, self.uploader_id, self.token)

    def ticket(self, secret: str) -> str:
        return _serializer(secret).dumps([self.enrolment_id, self.uploader_id, self.token,
                                          self.upload_id])

    @classmethod
    def from_ticket(cls, secret: str, ticket: str, enrolment_id: int,
                    uploader_id: int) -> ResumableUpload:
        """The upload a ticket names, if it is this uploader's for this enrolment."""
        try:
            enrolment, uploader, token, upload_id = _serializer(secret).loads(ticket)
        except (BadSignature, ValueError, TypeError):
            raise UnknownUpload from None
        if (enrolment, uploader) != (enrolment_id, uploader_id):
            raise UnknownUpload
        return cls(enrolment, uploader, token, upload_id)


def _incoming_key(enrolment_id: int, uploader_id: int, token: str) -> str:
    """Where the parts are joined; built by the server, never by the client."""
    return f"{INCOMING_PREFIX}{enrolment_id}/{uploader_id}/{token}"


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_TICKET_SALT)


def begin(store: ObjectStore, enrolment_id: int, uploader_id: int, size: int,
          limits: UploadLimits) -> ResumableUpload:
    """Start an upload of ``size`` bytes (the quota is the caller's to check first)."""
    if size > limits.max_bytes:
        raise FileTooLarge(size, limits.max_bytes)
    token = uuid.uuid4().hex
    upload_id = MultipartUploads(store).begin(_incoming_key(enrolment_id, uploader_id, token))
    return ResumableUpload(enrolment_id, uploader_id, token, upload_id)


def put_part(store: ObjectStore, upload: ResumableUpload, number: int, stream: BinaryIO,
             length: int | None, limits: UploadLimits) -> Part:
    """Store part ``number`` from a request body of ``length`` bytes, read whole (at most
    :data:`PART_SIZE`) and only then sent on: a body cut short stores nothing."""
    if not 1 <= number <= max(1, math.ceil(limits.max_bytes / PART_SIZE)):
        raise UploadRejected(f"There is no part {number} of a file of at most the size limit.")
    if length is None or not 0 < length <= PART_SIZE:
        raise UploadRejected(f"Each part must announce its size, at most {PART_SIZE} bytes.")
    data = stream.read(length)
    if len(data) != length:
        raise UploadRejected("The connection was lost while this part was sent: send it again.")
    return _known(lambda: MultipartUploads(store).put_part(upload.key, upload.upload_id,
                                                           number, data))


def parts_done(store: ObjectStore, upload: ResumableUpload) -> list[Part]:
    return _known(lambda: MultipartUploads(store).parts(upload.key, upload.upload_id))


def finish(store: ObjectStore, upload: ResumableUpload, filename: str,
           limits: UploadLimits) -> StoredUpload:
    """Join the parts and validate the file as every upload is; the stored upload still needs
    its row (:func:`portfolio.evidence.uploads.record_uploads`)."""
    multipart = MultipartUploads(store)
    parts = parts_done(store, upload)
    if not _complete(parts):
        raise UploadRejected("Some parts of this file have not arrived yet: send them, then "
                             "finish again.")
    if (size := sum(part.size for part in parts)) > limits.max_bytes:
        abort(store, upload)
        raise FileTooLarge(size, limits.max_bytes)
    _known(lambda: multipart.complete(upload.key, upload.upload_id, parts))
    try:
        body = store.get(upload.key)
        return store_upload(store, upload.enrolment_id, _ChunkStream(body.chunks), filename,
                            limits)
    finally:
        with contextlib.suppress(StorageError):  # otherwise an orphan the sweep removes
            store.delete(upload.key)


def abort(store: ObjectStore, upload: ResumableUpload) -> None:
    MultipartUploads(store).abort(upload.key, upload.upload_id)


def _complete(parts: list[Part]) -> bool:
    """Parts 1 to n, all of the fixed size but the last (which the store requires, bar the
    last, to be at least 5 MiB)."""
    return (bool(parts) and [p.number for p in parts] == list(range(1, len(parts) + 1))
            and all(p.size == PART_SIZE for p in parts[:-1]))


def _known(request):
    try:
        return request()
    except MissingObject:
        raise UnknownUpload from None


class _ChunkStream:
    """A file-like ``read(n)`` over an object's chunks, for the validation path to read."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buffer = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buffer) < n:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._buffer += chunk
        if n < 0:
            n = len(self._buffer)
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data
