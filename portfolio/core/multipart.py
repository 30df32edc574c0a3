"""S3 multipart uploads driven part by part from outside the store: a resumable upload whose
parts arrive in separate requests, possibly more than once, possibly after a dropped connection.

A companion of :class:`~portfolio.core.storage.ObjectStore` (which streams a whole file in one
call and is at its size limit): it uses the store's client and its way of explaining failures.
Parts are replaced when sent again under the same number, so a retried part is harmless. An
upload never completed takes space but shows no object; the store's
``abort_stale_multipart_uploads`` clears it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from botocore.exceptions import ClientError

from portfolio.core.storage import MissingObject, ObjectStore, _error_code

_MISSING_UPLOAD_CODES = frozenset({"NoSuchUpload", "NoSuchKey", "404"})


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str


class MultipartUploads:
    """Multipart uploads in one store's bucket. A missing (aborted, completed or never begun)
    upload is :class:`MissingObject`."""

    def __init__(self, store: ObjectStore):
        self._store = store
        self._client = store._client
        self._bucket = store.bucket

    def begin(self, key: str, content_type: str = "application/octet-stream") -> str:
        """Start an upload to ``key``; returns the store's upload id."""
        return self._call(f"Could not begin an upload to {key!r}", key,
                          self._client.create_multipart_upload,
                          ContentType=content_type)["UploadId"]

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> Part:
        answer = self._call(f"Could not store part {number} of {key!r}", key,
                            self._client.upload_part, UploadId=upload_id, PartNumber=number,
                            Body=data)
        return Part(number, len(data), answer["ETag"])

    def parts(self, key: str, upload_id: str) -> list[Part]:
        """The parts stored so far, by number."""
        listed: list[dict] = []
        marker = 0
        while True:
            page = self._call(f"Could not list the parts of {key!r}", key,
                              self._client.list_parts, UploadId=upload_id,
                              PartNumberMarker=marker)
            listed.extend(page.get("Parts", ()))
            if not page.get("IsTruncated"):
                break
            marker = page["NextPartNumberMarker"]
        # A part sent again replaces the earlier one, but some stores (SeaweedFS) list both:
        # the latest counts.
        latest: dict[int, dict] = {}
        for part in sorted(listed, key=lambda p: p["LastModified"]):
            latest[part["PartNumber"]] = part
        return [Part(number, p["Size"], p["ETag"]) for number, p in sorted(latest.items())]

    def complete(self, key: str, upload_id: str, parts: list[Part]) -> None:
        """Join ``parts`` into the object at ``key``."""
        self._call(f"Could not complete the upload to {key!r}", key,
                   self._client.complete_multipart_upload, UploadId=upload_id,
                   MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.etag}
                                              for p in parts]})

    def abort(self, key: str, upload_id: str) -> None:
        """Drop an upload and its parts; dropping a missing one is not an error."""
        with contextlib.suppress(MissingObject):
            self._call(f"Could not abort the upload to {key!r}", key,
                       self._client.abort_multipart_upload, UploadId=upload_id)

    def _call(self, action: str, key: str, request, **arguments):
        """One request about ``key``; the store's "no such upload" is :class:`MissingObject`,
        any other failure a :class:`StorageError` saying what to check."""
        with self._store._failing_as(action):
            try:
                return request(Bucket=self._bucket, Key=key, **arguments)
            except ClientError as error:
                if _error_code(error) in _MISSING_UPLOAD_CODES:
                    raise MissingObject(f"There is no upload in progress to {key!r}.") from None
                raise
