"""The backup's manifest: every file it holds with its size and SHA-256, the database's
migration revision and the time, in ``manifest.json``; that file's own SHA-256 in
``manifest.sha256`` (``sha256sum -c`` reads it), so a damaged manifest is noticed before it is
trusted."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from portfolio.core.parallel import map_bounded

FORMAT = "portfolio-backup/1"
MANIFEST = "manifest.json"
MANIFEST_DIGEST = "manifest.sha256"
KINDS = frozenset({"database", "secret", "object"})
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and what to do."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    #: ``database``, ``secret`` or ``object``.
    kind: str
    #: Where the copy is, relative to the backup directory.
    path: str
    size: int
    sha256: str
    #: The object's key in the bucket, or the secret's file name in the instance folder.
    name: str = ""
    content_type: str = ""


@dataclass
class Manifest:
    created_at: str
    #: The database's Alembic revision when it was copied.
    revision: str
    bucket: str
    entries: list[Entry] = field(default_factory=list)
    format: str = FORMAT

    def of_kind(self, kind: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.kind == kind]

    def write(self, directory: Path) -> None:
        text = json.dumps(asdict(self), indent=1, sort_keys=True).encode()
        (directory / MANIFEST).write_bytes(text)
        (directory / MANIFEST_DIGEST).write_text(
            f"{hashlib.sha256(text).hexdigest()}  {MANIFEST}\n")

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """The manifest, once its digest, its form and every path in it check out."""
        try:
            text = (directory / MANIFEST).read_bytes()
            recorded = (directory / MANIFEST_DIGEST).read_text().split()[0]
        except (OSError, IndexError) as error:
            raise BackupError(f"{directory} is not a complete backup: {MANIFEST} and "
                              f"{MANIFEST_DIGEST} are needed ({error}).") from None
        if hashlib.sha256(text).hexdigest() != recorded:
            raise BackupError(f"The manifest of {directory} is damaged: its SHA-256 is not the "
                              f"one in {MANIFEST_DIGEST}. Nothing was restored.")
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise BackupError(f"{directory} is a backup in format {data.get('format')!r}; "
                                  f"this version reads {FORMAT!r}.")
            entries = [Entry(**entry) for entry in data.pop("entries")]
            manifest = cls(**data, entries=entries)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise BackupError(f"The manifest of {directory} cannot be read: {error}.") from None
        root = directory.resolve()
        for entry in manifest.entries:
            if entry.kind not in KINDS or not (root / entry.path).resolve().is_relative_to(root):
                raise BackupError(f"The manifest of {directory} names {entry.kind} "
                                  f"{entry.path!r}, which a backup cannot hold.")
        if len(manifest.of_kind("database")) != 1:
            raise BackupError(f"The manifest of {directory} does not name one database.")
        return manifest

    def problems(self, directory: Path, threads: int) -> list[str]:
        """Every file of the backup that is missing or not what the manifest says."""
        def check(entry: Entry) -> str:
            path = directory / entry.path
            if not path.is_file():
                return f"{entry.path} is missing"
            if path.stat().st_size != entry.size:
                return f"{entry.path} has {path.stat().st_size} bytes, not {entry.size}"
            if file_sha256(path) != entry.sha256:
                return f"{entry.path} is not the file backed up (its SHA-256 differs)"
            return ""

        return sorted(problem for problem in map_bounded(check, self.entries, threads, "check")
                      if problem)
