"""The S3 object store holding every file: its configuration, the client and the errors.

The bucket is never public: browsers fetch objects through short-lived presigned URLs made for
the public endpoint. Failures of the store become :class:`StorageError` with a sentence saying
what to fix; an exception raised by the data being uploaded (a validation failure while
streaming) passes through unchanged. The SeaweedFS server started for development and tests
lives in :mod:`portfolio.core.embedded_store`.
"""

from __future__ import annotations

import time
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO
from urllib.parse import quote

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from s3transfer.exceptions import RetriesExceededError, S3UploadFailedError

MiB = 1024 * 1024
#: The most keys one DeleteObjects request may name.
DELETE_BATCH = 1000
PROBE_PREFIX = "_probe/"
#: Attempts of one request within its deadline: a first try and two retries.
MAX_ATTEMPTS = 3

#: Raised by the S3 client and transfer layers; anything else comes from the caller's stream.
CLIENT_ERRORS = (BotoCoreError, ClientError, Boto3Error, RetriesExceededError,
                 S3UploadFailedError)
_REFUSED_CODES = frozenset({"AccessDenied", "403"})
#: Codes of HEAD answers, which have no body to name the error in.
_BARE_STATUS_CODES = frozenset({"400", "403", "404"})
_MISSING_BUCKET_CODES = frozenset({"NoSuchBucket", "404"})
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


class StorageError(Exception):
    """The object store cannot do what was asked; the message says what to check."""


class MissingObject(StorageError):
    """No object has the key asked for."""


@dataclass(frozen=True)
class ObjectBody:
    """An object being read: its type as the store answers it, and its bytes in chunks (read
    once, front to back), so a large object never sits in memory whole."""

    content_type: str
    chunks: Iterator[bytes]


class DeadlinePassed(BotoCoreError):
    """A request's retries would start after its deadline."""

    fmt = "no answer within {seconds} s"


@dataclass(frozen=True, kw_only=True)
class StorageConfig:
    endpoint_url: str
    #: Written into presigned URLs; browsers may reach the store by another address.
    public_endpoint_url: str = ""
    bucket: str
    region: str = "us-east-1"
    #: Empty keys leave boto3 to its own credential chain (an instance role on AWS).
    access_key: str = ""
    secret_key: str = field(default="", repr=False)
    addressing_style: str = "path"
    presign_seconds: int = 60
    #: How long one request (all its attempts) may take before the store counts as not
    #: answering. A hung store accepts connections and then says nothing, so each attempt
    #: waits for a reply at most a share of this, one share left for the back-offs between
    #: attempts. A multipart upload's parts are each a request of their own.
    deadline_seconds: float = 15

    def __post_init__(self):
        if not self.endpoint_url:
            raise StorageError("No object store is configured: set PORTFOLIO_S3_ENDPOINT_URL, "
                               "or leave it empty to run the embedded store.")
        if not self.bucket:
            raise StorageError("No bucket is configured: set PORTFOLIO_S3_BUCKET.")
        if self.addressing_style not in {"path", "virtual"}:
            raise StorageError(f"PORTFOLIO_S3_ADDRESSING_STYLE must be 'path' or 'virtual', "
                               f"not {self.addressing_style!r}.")
        if not self.deadline_seconds > 0:
            raise StorageError(f"PORTFOLIO_S3_DEADLINE_SECONDS must be positive, not "
                               f"{self.deadline_seconds!r}.")
        if not self.public_endpoint_url:
            object.__setattr__(self, "public_endpoint_url", self.endpoint_url)

    @classmethod
    def from_settings(cls, settings, endpoint_url: str | None = None,
                      access_key: str | None = None,
                      secret_key: str | None = None) -> StorageConfig:
        """The configured store; the arguments, when given, win (an embedded store's address
        and keys are known only at run time)."""
        return cls(
            endpoint_url=endpoint_url or settings.s3_endpoint_url,
            public_endpoint_url=settings.s3_public_endpoint_url,
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            access_key=access_key if access_key is not None else settings.s3_access_key,
            secret_key=secret_key if secret_key is not None else settings.s3_secret_key,
            addressing_style=settings.s3_addressing_style,
            presign_seconds=settings.presign_seconds,
            deadline_seconds=settings.s3_deadline_seconds,
        )


def s3_client(config: StorageConfig, endpoint_url: str, max_attempts: int = MAX_ATTEMPTS):
    """A client whose every request gives up after ``config.deadline_seconds``: botocore's
    timeouts bound one attempt, the deadline stops retries from starting after it."""
    deadline = config.deadline_seconds
    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=config.region,
        aws_access_key_id=config.access_key or None,
        aws_secret_access_key=config.secret_key or None,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": config.addressing_style},
            connect_timeout=min(3, deadline),
            read_timeout=deadline / (max_attempts + 1),
            retries={"max_attempts": max_attempts, "mode": "standard"},
            # Self-hosted stores lag behind AWS on the checksums botocore now sends by default.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )

    def enforce_deadline(request, **kwargs):
        # Called for every attempt with the context the attempts of one request share.
        started = request.context.setdefault("portfolio_started", time.monotonic())
        if time.monotonic() - started > deadline:
            raise DeadlinePassed(seconds=deadline)

    client.meta.events.register("request-created.s3", enforce_deadline)
    return client


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def content_disposition(filename: str | None, attachment: bool = True) -> str:
    """A Content-Disposition value (RFC 6266): an ASCII ``filename`` for old clients and the
    exact name as ``filename*`` (RFC 5987). Quotes, backslashes and control characters are
    dropped so a stored name cannot break out of the header."""
    kind = "attachment" if attachment else "inline"
    name = "".join(ch for ch in filename or ""
                   if ch not in '"\\' and not unicodedata.category(ch).startswith("C")).strip()
    if not name:
        return kind
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    # Some browsers percent-decode the plain parameter, so a literal % would change the name.
    fallback = fallback.replace("%", "_").strip()
    if not fallback or (fallback.startswith(".") and not name.startswith(".")):
        fallback = f"download{fallback}"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class _FullReads:
    """Answers ``read(n)`` with exactly ``n`` bytes until the stream ends.

    boto3 takes a short first read of a non-seekable stream for the whole file, then reads the
    rest in one call, into memory; a short later read becomes a part below S3's 5 MiB minimum.
    """

    def __init__(self, stream: BinaryIO):
        self._stream = stream

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self._stream.read()
        chunks = []
        while size > 0:
            chunk = self._stream.read(size)
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)


class ObjectStore:
    """One bucket of an S3-compatible store. Thread-safe: share one per application."""

    def __init__(self, config: StorageConfig):
        self.config = config
        self.bucket = config.bucket
        self._client = s3_client(config, config.endpoint_url)
        self._presigner = s3_client(config, config.public_endpoint_url)
        self._transfer = TransferConfig(
            multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4,
            use_threads=True, preferred_transfer_client="classic")
        # A non-seekable stream is read into memory part by part; at most four parts (32 MiB)
        # wait for upload at once, instead of the default ten per upload.
        self._transfer.max_in_memory_upload_chunks = 4

    def __repr__(self):
        return f"<ObjectStore {self.config.endpoint_url} bucket={self.bucket!r}>"

    def _explain(self, error: Exception) -> str:
        """What a client error says about the store, as a sentence a person can act on."""
        endpoint = self.config.endpoint_url
        code = _error_code(error)
        # Before connection errors: a connect timeout is one of them.
        if isinstance(error, ReadTimeoutError | ConnectTimeoutError | DeadlinePassed):
            return (f"The object store at {endpoint} is not answering (no reply within "
                    f"{self.config.deadline_seconds:g} s): check that it is running and not "
                    f"overloaded.")
        if isinstance(error, BotoConnectionError):
            return (f"Cannot connect to the object store at {endpoint}: check that it is running "
                    f"and that PORTFOLIO_S3_ENDPOINT_URL is right.")
        if isinstance(error, NoCredentialsError):
            return ("No credentials for the object store: set PORTFOLIO_S3_ACCESS_KEY and "
                    "PORTFOLIO_S3_SECRET_KEY.")
        access_key = self.config.access_key
        if code == "InvalidAccessKeyId":
            return (f"The object store at {endpoint} refused the credentials: it does not know "
                    f"access key {access_key!r}; check PORTFOLIO_S3_ACCESS_KEY.")
        if code == "SignatureDoesNotMatch":
            return (f"The object store at {endpoint} refused the credentials: the secret key is "
                    f"not the one of access key {access_key!r}; check PORTFOLIO_S3_SECRET_KEY.")
        if code in _REFUSED_CODES:
            return (f"The object store at {endpoint} refused the credentials: access key "
                    f"{access_key!r} may not use bucket {self.bucket!r} ({code}); check "
                    f"PORTFOLIO_S3_ACCESS_KEY, PORTFOLIO_S3_SECRET_KEY and the key's policy.")
        if code in _MISSING_BUCKET_CODES:
            return (f"Bucket {self.bucket!r} does not exist at {endpoint}: create it or set "
                    f"PORTFOLIO_S3_BUCKET.")
        return f"The object store at {endpoint} failed: {error}"

    @contextmanager
    def _failing_as(self, action: str):
        try:
            yield
        except CLIENT_ERRORS as error:
            raise StorageError(f"{action}: {self._explain(error)}") from error

    def put_stream(self, key: str, fileobj: BinaryIO, content_type: str) -> None:
        """Store a stream read once, front to back, in 8 MiB parts, so a 1 GB upload never sits
        in memory. An exception raised by ``fileobj.read`` propagates as is, after boto3 has
        aborted the partial multipart upload."""
        with self._failing_as(f"Could not store {key!r}"):
            self._client.upload_fileobj(
                _FullReads(fileobj), self.bucket, key,
                ExtraArgs={"ContentType": content_type}, Config=self._transfer)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        with self._failing_as(f"Could not store {key!r}"):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                    ContentType=content_type)

    def delete(self, key: str) -> None:
        """Remove an object; removing a missing one is not an error."""
        with self._failing_as(f"Could not delete {key!r}"):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start:start + DELETE_BATCH]
            with self._failing_as(f"Could not delete {len(batch)} objects"):
                response = self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})
            if errors := response.get("Errors"):
                first = errors[0]
                raise StorageError(
                    f"Could not delete {len(errors)} of {len(batch)} objects, the first "
                    f"{first.get('Key')!r}: {first.get('Message') or first.get('Code')}")

    def head(self, key: str) -> dict | None:
        """Size, content type and last modification of an object, or None if there is none."""
        with self._failing_as(f"Could not look up {key!r}"):
            try:
                response = self._client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if _error_code(error) in _MISSING_KEY_CODES:
                    return None
                raise
        return {
            "size": response["ContentLength"],
            "content_type": response.get("ContentType", ""),
            "last_modified": response["LastModified"].astimezone(UTC),
        }

    def get(self, key: str, chunk_size: int = MiB) -> ObjectBody:
        """Open an object for reading; :class:`MissingObject` if there is none. A failure while
        its chunks are read is a :class:`StorageError` too."""
        with self._failing_as(f"Could not read {key!r}"):
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if _error_code(error) in _MISSING_KEY_CODES:
                    raise MissingObject(f"There is no object {key!r}.") from None
                raise
        return ObjectBody(response.get("ContentType", ""),
                          self._chunks(key, response["Body"], chunk_size))

    def _chunks(self, key: str, body, chunk_size: int) -> Iterator[bytes]:
        try:
            with self._failing_as(f"Could not read {key!r}"):
                yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def presigned_url(self, key: str, filename: str | None = None, attachment: bool = True,
                      content_type: str | None = None, expires: int | None = None) -> str:
        """A GET URL on the public endpoint, valid for ``expires`` seconds (default
        ``presign_seconds``); the store answers with the given disposition and type."""
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ResponseContentDisposition": content_disposition(filename, attachment),
        }
        if content_type:
            params["ResponseContentType"] = content_type
        with self._failing_as(f"Could not sign a URL for {key!r}"):
            return self._presigner.generate_presigned_url(
                "get_object", Params=params,
                ExpiresIn=self.config.presign_seconds if expires is None else expires)

    def iter_objects(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """Every key under ``prefix`` with its last modification (UTC), a page at a time."""
        paginator = self._client.get_paginator("list_objects_v2")
        with self._failing_as(f"Could not list objects under {prefix!r}"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    yield item["Key"], item["LastModified"].astimezone(UTC)

    def abort_stale_multipart_uploads(self, older_than: datetime) -> int:
        """Abort multipart uploads begun before ``older_than`` (their parts take space but no
        object shows them); returns how many."""
        if older_than.tzinfo is None:
            raise ValueError("older_than must be timezone-aware")
        paginator = self._client.get_paginator("list_multipart_uploads")
        with self._failing_as("Could not clear stalled multipart uploads"):
            stale = [(upload["Key"], upload["UploadId"])
                     for page in paginator.paginate(Bucket=self.bucket)
                     for upload in page.get("Uploads", ())
                     if upload["Initiated"] < older_than]
            for key, upload_id in stale:
                self._client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                                    UploadId=upload_id)
        return len(stale)

    def _named(self, error: Exception) -> Exception:
        """The same failure with its S3 error code: a refused HEAD says only 403, a GET why."""
        if _error_code(error) not in _BARE_STATUS_CODES:
            return error
        try:
            self._client.list_objects_v2(Bucket=self.bucket, MaxKeys=1)
        except ClientError as named:
            return named
        return error

    def check(self) -> list[str]:
        """What keeps the application from using the bucket, as sentences; empty when the
        bucket answers and accepts a write."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except CLIENT_ERRORS as error:
            return [self._explain(self._named(error))]
        probe = f"{PROBE_PREFIX}{uuid.uuid4().hex}"
        try:
            self._client.put_object(Bucket=self.bucket, Key=probe, Body=b"probe")
            self._client.delete_object(Bucket=self.bucket, Key=probe)
        except CLIENT_ERRORS as error:
            reason = _error_code(error) or str(error)
            return [f"Bucket {self.bucket!r} at {self.config.endpoint_url} is not writable with "
                    f"access key {self.config.access_key!r} ({reason}): grant it PutObject and "
                    f"DeleteObject."]
        return []
