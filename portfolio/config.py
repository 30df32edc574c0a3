"""Typed settings: defaults, overridden by ``PORTFOLIO_*`` environment variables.

Every setting has a type; a value in the environment that cannot be read as that type stops the
application at start-up with a message naming the variable, rather than failing later.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"
LOG_FORMATS = ("text", "json")


class SettingsError(ValueError):
    """A ``PORTFOLIO_*`` variable that cannot be used."""


@dataclasses.dataclass(frozen=True)
class Settings:
    #: Directory for the embedded database, the object store's data and the secret key file.
    instance_path: Path = DEFAULT_INSTANCE
    #: SQLAlchemy URL; empty means the embedded SQLite database under ``instance_path``.
    database_url: str = ""
    #: Signs sessions and CSRF tokens; empty means a key generated once into ``instance_path``.
    secret_key: str = ""
    #: Send cookies only over HTTPS (turn on behind TLS in production).
    secure_cookies: bool = False
    #: S3 endpoint; empty means the embedded SeaweedFS server that ``portfolio serve`` starts.
    s3_endpoint_url: str = ""
    #: Endpoint written into presigned URLs, when browsers reach storage by another address.
    s3_public_endpoint_url: str = ""
    #: Bucket holding every object (never public).
    s3_bucket: str = "portfolio"
    #: Region used to sign requests.
    s3_region: str = "us-east-1"
    #: Access key; the embedded store uses ``portfolio`` when this is empty.
    s3_access_key: str = ""
    #: Secret key; the embedded store uses a key generated into ``instance_path`` when empty.
    s3_secret_key: str = ""
    #: ``path`` (SeaweedFS, MinIO, most self-hosted stores) or ``virtual`` (AWS S3).
    s3_addressing_style: str = "path"
    #: Seconds one object store request may take, retries included, before the user is told
    #: the store is not answering.
    s3_deadline_seconds: int = 15
    #: S3 port of the embedded store (0: any free port).
    embedded_s3_port: int = 8333
    #: Lifetime of a presigned download URL, in seconds.
    presign_seconds: int = 60
    #: Largest evidence file accepted, in bytes.
    upload_max_bytes: int = 2 * 1024 ** 3
    #: Largest image accepted, in pixels (Pillow's decompression-bomb limit).
    image_max_pixels: int = 100_000_000
    #: Most memory making an image's preview may take, in bytes: pixels (after JPEG's reduced
    #: decoding) times what each takes as decoded and converted. Larger images get no preview.
    image_decode_max_bytes: int = 192 * 1024 ** 2
    #: Images decoded at the same time in one process; more uploads wait their turn.
    image_concurrent_decodes: int = 2
    #: Uploads a person may hold not yet added to evidence (until added or swept), in files...
    unattached_upload_max_files: int = 50
    #: ...and in bytes.
    unattached_upload_max_bytes: int = 2 * 1024 ** 3
    #: Objects and unattached uploads younger than this are never swept, in seconds.
    sweep_grace_seconds: int = 24 * 3600
    #: Reverse proxies in front of the application that append X-Forwarded-For (and set
    #: X-Forwarded-Proto); the client address is the one the nearest of them forwarded. 0: none,
    #: and forwarded headers are ignored.
    trusted_proxies: int = 0
    #: Mail server: ``smtp://host[:port]`` (port 25 by default; STARTTLS whenever the server
    #: offers it, and a password is never sent without it) or ``smtps://host[:port]`` (TLS from
    #: the first byte, port 465), with ``user:password@`` before the host to log in. Empty: mail
    #: waits in the outbox until one is set.
    smtp_url: str = ""
    #: The From address of every mail; required with ``smtp_url``.
    mail_from: str = ""
    #: Absolute address of the site (``https://portfolio.example.org``), for links in mail.
    base_url: str = ""
    #: Seconds a mail server may take to answer one step before the attempt counts as failed.
    smtp_timeout_seconds: int = 30
    #: Seconds before a failed mail is tried again; doubled at each failure, up to an hour.
    mail_retry_seconds: int = 60
    #: Attempts before a mail is given up (kept with its last error: ``portfolio mail status``).
    mail_max_attempts: int = 12
    #: Seconds each of ``/readyz``'s checks (the database, the store) may take before it counts
    #: as not answering; the checks run side by side, so the page answers within about this.
    ready_timeout_seconds: int = 3
    #: Serve ``/metrics`` (Prometheus's text format) and count requests for it. Off: 404.
    metrics: bool = False
    #: ``text`` (lines for people) or ``json`` (one JSON object a line, with the request id,
    #: and an access line per request).
    log_format: str = "text"

    def __post_init__(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(f"PORTFOLIO_LOG_FORMAT: expected text or json, got "
                                f"{self.log_format!r}")
        if self.ready_timeout_seconds < 1:
            raise SettingsError(f"PORTFOLIO_READY_TIMEOUT_SECONDS: expected 1 or more, got "
                                f"{self.ready_timeout_seconds}")
        # Mail settings are read by a worker long after start-up: a mistake is told now.
        if self.smtp_url:
            url = urlsplit(self.smtp_url)
            if url.scheme not in {"smtp", "smtps"} or not url.hostname:
                raise SettingsError(f"PORTFOLIO_SMTP_URL: expected smtp://host[:port] or "
                                    f"smtps://host[:port], got {url.scheme or 'no'} scheme "
                                    f"and {'no host' if not url.hostname else url.hostname}")
            if not self.mail_from:
                raise SettingsError("PORTFOLIO_MAIL_FROM: required when PORTFOLIO_SMTP_URL is "
                                    "set (the address mail is sent from)")
        if self.base_url:
            url = urlsplit(self.base_url)
            if url.scheme not in {"http", "https"} or not url.hostname:
                raise SettingsError(f"PORTFOLIO_BASE_URL: expected an absolute http(s) "
                                    f"address, got {self.base_url!r}")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_path / 'portfolio.sqlite3'}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        environ = os.environ if environ is None else environ
        values = {}
        for field in dataclasses.fields(cls):
            name = f"PORTFOLIO_{field.name.upper()}"
            if name in environ:
                values[field.name] = _parse(name, environ[name], field.type)
        values.update(overrides)
        return cls(**values)

    @property
    def uses_embedded_store(self) -> bool:
        return not self.s3_endpoint_url

    @property
    def resolved_s3_endpoint_url(self) -> str:
        return self.s3_endpoint_url or f"http://127.0.0.1:{self.embedded_s3_port}"

    @property
    def resolved_s3_access_key(self) -> str:
        return self.s3_access_key or ("portfolio" if self.uses_embedded_store else "")

    @property
    def resolved_s3_secret_key(self) -> str:
        if self.s3_secret_key or not self.uses_embedded_store:
            return self.s3_secret_key
        return _instance_secret(self.instance_path, "s3_secret_key")

    def flask_config(self) -> dict:
        return {
            "SECRET_KEY": self.secret_key or _instance_secret(self.instance_path, "secret_key"),
            "MAX_CONTENT_LENGTH": self.upload_max_bytes + 1024 * 1024,
            "SQLALCHEMY_DATABASE_URI": self.resolved_database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.secure_cookies,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": self.secure_cookies,
            "WTF_CSRF_TIME_LIMIT": None,
            "PORTFOLIO_SETTINGS": self,
        }


def _parse(name: str, raw: str, kind) -> object:
    kind = kind if isinstance(kind, str) else kind.__name__
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise SettingsError(f"{name}: expected true or false, got {raw!r}")
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{name}: expected an integer, got {raw!r}") from None
    if kind == "Path":
        return Path(raw).expanduser().resolve()
    return raw


def private_instance_folder(instance_path: Path) -> Path:
    """The instance folder, created if need be, readable by its owner only: it holds the
    embedded database, the secrets and the embedded store's objects."""
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    instance_path.chmod(0o700)
    return instance_path


def _instance_secret(instance_path: Path, name: str) -> str:
    """A per-installation secret kept in the instance folder, so it survives restarts."""
    private_instance_folder(instance_path)
    key_file = instance_path / name
    if not key_file.exists():
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
    return key_file.read_text().strip()
