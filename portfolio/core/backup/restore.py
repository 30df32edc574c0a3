"""Restoring a backup into an empty instance: every file of the backup is checked against the
manifest before anything is written; then the secrets, the objects (each read back and its
SHA-256 checked once it is in the store) and the database."""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from portfolio.config import PROJECT_ROOT, Settings, private_instance_folder
from portfolio.core.backup.create import SECRET_FILES, THREADS, sqlite_path
from portfolio.core.backup.manifest import BackupError, Entry, Manifest
from portfolio.core.parallel import map_bounded
from portfolio.core.storage import PROBE_PREFIX, MissingObject, ObjectStore

#: Problems listed in a refusal; the rest are counted.
SHOWN = 10


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    #: The schema's newest revision in this version of the code.
    head: str

    def summary(self, directory: Path) -> str:
        objects = self.manifest.of_kind("object")
        lines = [f"Restored {len(self.manifest.of_kind('secret'))} secret file(s), "
                 f"{len(objects)} object(s), each read back with its SHA-256 intact, and the "
                 f"database (revision {self.manifest.revision}) from {directory}."]
        if self.manifest.revision != self.head:
            lines.append(f"The database is at revision {self.manifest.revision}: run "
                         f"`portfolio db upgrade` to bring it to {self.head}.")
        lines.append("Then `portfolio storage verify` checks every file against its record.")
        return "\n".join(lines)


def restore_backup(settings: Settings, engine: sa.Engine,
                   open_store: Callable[[], AbstractContextManager[ObjectStore]],
                   source: Path, force: bool = False, threads: int = THREADS) -> RestoreReport:
    """Restore ``source`` into the instance. ``open_store()`` gives the instance's store with
    the credentials in force when it is called: it is opened once to see that the store is
    empty, and again after the secrets (the embedded store's key among them) are restored."""
    manifest = Manifest.read(source)
    if problems := manifest.problems(source, threads):
        raise BackupError(_listed(f"The backup in {source} is damaged; nothing was restored:",
                                  problems))
    if unknown := {e.name for e in manifest.of_kind("secret")} - set(SECRET_FILES):
        raise BackupError(f"The manifest of {source} names unknown secrets {sorted(unknown)}.")
    head = _known_revision(manifest.revision)
    database = sqlite_path(engine)
    if not force:
        _refuse_unless_empty(database, open_store)
    # The reverse of the backup's order: the secrets (the embedded store's key among them), the
    # objects, the database last, so that no row is ever back before its object.
    for entry in manifest.of_kind("secret"):
        _write_private(settings.instance_path / entry.name, (source / entry.path).read_bytes())
    with open_store() as store:
        put = functools.partial(_put_and_check, store, source)
        problems = [p for p in map_bounded(put, manifest.of_kind("object"), threads, "restore")
                    if p]
    if problems:
        raise BackupError(_listed("Some objects did not reach the store intact; the database "
                                  "was not restored:", problems))
    engine.dispose()
    _restore_database(source / manifest.of_kind("database")[0].path, database)
    return RestoreReport(manifest, head)


def _known_revision(revision: str) -> str:
    """The code's head revision, once the backup's revision proves to be one it knows."""
    config = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    scripts = ScriptDirectory.from_config(config)
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(f"The backup's database is at revision {revision!r}, which this "
                          f"version of portfolio does not know: restore it with the version "
                          f"that made it, or a newer one.")
    return scripts.get_current_head()


def _refuse_unless_empty(database: Path, open_store) -> None:
    if database.is_file() and database.stat().st_size:
        with sqlite3.connect(database) as connection:
            tables = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        connection.close()
        if tables:
            raise BackupError(f"The instance already has a database ({database}): restore "
                              f"into a new instance, or give --force to overwrite it.")
    with open_store() as store:
        keys = (key for key, _ in store.iter_objects() if not key.startswith(PROBE_PREFIX))
        if next(keys, None) is not None:
            raise BackupError(f"The instance's bucket {store.bucket!r} already holds objects: "
                              f"restore into an empty one, or give --force to add to it.")


def _restore_database(copy: Path, database: Path) -> None:
    """Through SQLite's backup API, which also replaces whatever a write-ahead log of an
    overwritten database held."""
    private_instance_folder(database.parent)
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source, target = sqlite3.connect(copy), sqlite3.connect(database)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _write_private(path: Path, data: bytes) -> None:
    """Written beside and renamed into place, so a reader sees the old secret or the new one."""
    private_instance_folder(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _put_and_check(store: ObjectStore, source: Path, entry: Entry) -> str:
    """Store one object and read it back; what went wrong, or nothing."""
    with open(source / entry.path, "rb") as handle:
        store.put_stream(entry.name, handle, entry.content_type or "application/octet-stream")
    try:
        body = store.get(entry.name)
    except MissingObject:
        return f"{entry.name} is missing after it was written"
    digest = hashlib.sha256()
    for chunk in body.chunks:
        digest.update(chunk)
    if digest.hexdigest() != entry.sha256:
        return f"{entry.name} reads back with another SHA-256 than the one backed up"
    return ""


def _listed(heading: str, problems: list[str]) -> str:
    lines = [heading, *(f"  - {problem}" for problem in problems[:SHOWN])]
    if len(problems) > SHOWN:
        lines.append(f"  ... and {len(problems) - SHOWN} more")
    return "\n".join(lines)
