"""Making a backup: the database, then the objects, then the secrets, then the manifest (the
order is explained in :mod:`portfolio.core.backup`)."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from portfolio.config import Settings
from portfolio.core.backup.manifest import BackupError, Entry, Manifest, file_sha256
from portfolio.core.db import SQLITE_BUSY_TIMEOUT_MS
from portfolio.core.parallel import map_bounded
from portfolio.core.storage import PROBE_PREFIX, MissingObject, ObjectStore

#: Objects read at once.
THREADS = 8
DATABASE_FILE = "database.sqlite3"
#: The instance folder's secrets (see ``portfolio.config``): the session signing key and the
#: embedded store's secret key. Settings given in the environment are the operator's to keep.
SECRET_FILES = ("secret_key", "s3_secret_key")


@dataclass(frozen=True)
class BackupReport:
    manifest: Manifest
    #: Objects listed that were gone when read: deleted after the database copy, so no row of
    #: the copy names them.
    vanished: int

    def summary(self, directory: Path) -> str:
        objects = self.manifest.of_kind("object")
        mib = sum(entry.size for entry in objects) / (1024 * 1024)
        vanished = f" ({self.vanished} deleted while it ran)" if self.vanished else ""
        return (f"Backed up the database (revision {self.manifest.revision}), {len(objects)} "
                f"object(s) of {mib:.1f} MiB{vanished} and "
                f"{len(self.manifest.of_kind('secret'))} secret file(s) to {directory}.")


def sqlite_path(engine: sa.Engine) -> Path:
    """The embedded database's file; a refusal naming the tool for any other database."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        raise BackupError(
            f"The database is {engine.dialect.name}, not the embedded SQLite database: back it "
            f"up with its own tool (pg_dump for PostgreSQL), then the objects and the secrets, "
            f"in that order, as deploy/README.md describes under 'Backup and restore'.")
    return Path(engine.url.database)


def create_backup(settings: Settings, engine: sa.Engine, store: ObjectStore, target: Path,
                  threads: int = THREADS) -> BackupReport:
    """Copy the installation into ``target``, a new or empty directory made private (0700)."""
    database = sqlite_path(engine)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not an empty directory: give a new one.")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.chmod(0o700)
    manifest = Manifest(created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                        revision=_copy_database(database, target / DATABASE_FILE),
                        bucket=store.bucket)
    manifest.entries.append(_entry("database", target, DATABASE_FILE))
    (target / "objects").mkdir(mode=0o700)
    copy = functools.partial(_copy_object, store, target)
    keys = (key for key, _ in store.iter_objects() if not key.startswith(PROBE_PREFIX))
    copied = list(map_bounded(copy, keys, threads, "backup"))
    manifest.entries.extend(sorted((entry for entry in copied if entry),
                                   key=lambda entry: entry.name))
    (target / "secrets").mkdir(mode=0o700)
    for name in SECRET_FILES:
        if (settings.instance_path / name).is_file():
            shutil.copyfile(settings.instance_path / name, target / "secrets" / name)
            (target / "secrets" / name).chmod(0o600)
            manifest.entries.append(_entry("secret", target, f"secrets/{name}", name=name))
    manifest.write(target)
    return BackupReport(manifest, vanished=copied.count(None))


def _copy_database(source: Path, copy: Path) -> str:
    """A consistent copy while the application writes (SQLite's online backup API copies one
    snapshot); returns its migration revision."""
    if not source.is_file():
        raise BackupError(f"There is no database at {source}: nothing to back up.")
    os.close(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    live = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    snapshot = sqlite3.connect(copy)
    try:
        live.backup(snapshot)
        revision = snapshot.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no alembic_version table: never migrated
        revision = None
    finally:
        snapshot.close()
        live.close()
    if revision is None:
        raise BackupError(f"The database at {source} has no schema yet: run `portfolio db "
                          f"upgrade` first.")
    return revision[0]


def object_path(key: str) -> str:
    """Where an object's copy lives in the backup: named by the key's digest, which any key
    turns into a safe file name, spread over 256 folders."""
    name = hashlib.sha256(key.encode()).hexdigest()
    return f"objects/{name[:2]}/{name}"


def _copy_object(store: ObjectStore, target: Path, key: str) -> Entry | None:
    """The object copied into the backup; None if it was deleted since it was listed."""
    path = object_path(key)
    try:
        body = store.get(key)
    except MissingObject:
        return None
    destination = target / path
    destination.parent.mkdir(mode=0o700, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(destination, "wb") as handle:
        for chunk in body.chunks:
            digest.update(chunk)
            size += len(chunk)
            handle.write(chunk)
    return Entry("object", path, size, digest.hexdigest(), name=key,
                 content_type=body.content_type)


def _entry(kind: str, target: Path, path: str, name: str = "") -> Entry:
    file = target / path
    return Entry(kind, path, file.stat().st_size, file_sha256(file), name=name)
