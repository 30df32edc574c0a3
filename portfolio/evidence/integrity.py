"""The integrity scrub: every stored file re-read and checked against its row.

Each recorded original (attached or not yet attached) is streamed through SHA-256 a chunk at a
time and its size and digest compared with the row; derivatives (thumbnail, preview) have no
recorded digest, so only their presence is checked. A few threads read at once, so the scrub
keeps pace with the store rather than with one round trip at a time; memory stays bounded by
threads x chunk size. A file found missing or altered is reported with the learner, the item and
the decisions that relied on it, which the features judging evidence answer through
:data:`portfolio.evidence.hooks.item_decisions`.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import Enrolment, User
from portfolio.core.db import release_connection
from portfolio.core.parallel import map_bounded
from portfolio.core.storage import PROBE_PREFIX, MissingObject, ObjectStore
from portfolio.evidence.hooks import item_decisions
from portfolio.evidence.models import EvidenceFile, EvidenceItem

#: Reads in flight at once: enough to hide the store's latency, few enough for a small server.
THREADS = 8
#: Rows loaded per query; each batch ends its transaction, so no snapshot is held for hours.
BATCH = 1000
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Recorded:
    """One object a file row names, with what the row says about it."""

    file_id: int
    key: str
    #: The original's recorded size and SHA-256; None for a derivative, which has neither.
    size: int | None
    sha256: str | None


@dataclass(frozen=True)
class Finding:
    """What reading one object found; ``problem`` is empty when it matches its row."""

    recorded: Recorded
    bytes_read: int
    problem: str = ""


@dataclass
class Damage:
    """A damaged file and who depends on it, as lines a person can act on."""

    key: str
    problem: str
    context: list[str] = field(default_factory=list)


@dataclass
class Scrub:
    checked_files: int = 0
    checked_derivatives: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    damaged: list[Damage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.damaged

    def summary(self) -> str:
        rate = self.seconds or 1e-9
        mib = self.bytes_read / (1024 * 1024)
        state = ("all intact" if self.ok
                 else f"{len(self.damaged)} missing or altered")
        return (f"Checked {self.checked_files} file(s) and {self.checked_derivatives} "
                f"derivative(s): {state}. Read {mib:.1f} MiB in {self.seconds:.1f} s "
                f"({(self.checked_files + self.checked_derivatives) / rate:.0f} objects/s, "
                f"{mib / rate:.1f} MiB/s).")


def verify_store(session: Session, store: ObjectStore, sample: int | None = None,
                 threads: int = THREADS) -> Scrub:
    """Check every recorded file (or ``sample`` of them, chosen at random) against its row.
    Raises :class:`~portfolio.core.storage.StorageError` if the store does not answer."""
    # A listing of a prefix that holds nothing proves the store answers, without writing.
    next(store.iter_objects(PROBE_PREFIX), None)
    scrub = Scrub()
    started = time.perf_counter()
    damaged: list[Finding] = []
    check = functools.partial(_check, store)
    for finding in map_bounded(check, _recorded(session, sample), threads, "verify"):
        scrub.bytes_read += finding.bytes_read
        if finding.recorded.sha256 is None:
            scrub.checked_derivatives += 1
        else:
            scrub.checked_files += 1
        if finding.problem:
            damaged.append(finding)
    scrub.seconds = time.perf_counter() - started
    scrub.damaged = [_explain(session, finding) for finding in damaged]
    return scrub


def _recorded(session: Session, sample: int | None) -> Iterator[Recorded]:
    columns = sa.select(EvidenceFile.id, EvidenceFile.object_key, EvidenceFile.size,
                        EvidenceFile.sha256, EvidenceFile.thumbnail_key,
                        EvidenceFile.preview_key)
    if sample is not None:
        rows = list(session.execute(columns.order_by(sa.func.random()).limit(sample)))
        release_connection(session)
        yield from _objects_of(rows)
        return
    last = 0
    while True:
        rows = list(session.execute(columns.where(EvidenceFile.id > last)
                                    .order_by(EvidenceFile.id).limit(BATCH)))
        release_connection(session)
        if not rows:
            return
        last = rows[-1].id
        yield from _objects_of(rows)


def _objects_of(rows) -> Iterator[Recorded]:
    for row in rows:
        yield Recorded(row.id, row.object_key, row.size, row.sha256)
        for key in (row.thumbnail_key, row.preview_key):
            if key:
                yield Recorded(row.id, key, None, None)


def _check(store: ObjectStore, recorded: Recorded) -> Finding:
    try:
        body = store.get(recorded.key, CHUNK)
    except MissingObject:
        return Finding(recorded, 0, "missing from the store")
    digest = hashlib.sha256()
    size = 0
    for chunk in body.chunks:
        digest.update(chunk)
        size += len(chunk)
    if recorded.sha256 is None:
        return Finding(recorded, size, "" if size else "empty")
    if size != recorded.size:
        return Finding(recorded, size,
                       f"{size} bytes where {recorded.size} were stored (truncated or replaced)")
    if digest.hexdigest() != recorded.sha256:
        return Finding(recorded, size,
                       f"altered: SHA-256 {digest.hexdigest()} where {recorded.sha256} was "
                       f"stored")
    return Finding(recorded, size)


def _explain(session: Session, finding: Finding) -> Damage:
    """Whose file it is, on which item, and which decisions judged it."""
    recorded = finding.recorded
    file = session.get(EvidenceFile, recorded.file_id)
    kind = "" if recorded.sha256 is not None else " (a derivative: the file shows no preview)"
    damage = Damage(recorded.key, finding.problem + kind)
    if file is None:  # the row went since the scrub read it
        damage.context.append("its row has since been removed")
        return damage
    enrolment = session.get(Enrolment, file.enrolment_id)
    learner = session.get(User, enrolment.learner_id)
    damage.context.append(f"learner: {learner.name} <{learner.email}>, registration "
                          f"{enrolment.registration_number} (enrolment {enrolment.id})")
    item: EvidenceItem | None = file.item
    if item is None:
        damage.context.append(f"file {file.original_name!r}: an upload not yet attached to an "
                              f"item")
        return damage
    damage.context.append(f"item {item.id} {item.title!r}, file {file.original_name!r}")
    relied = [decision for answer in item_decisions(session, item)
              for found in answer.values() for decision in found
              if file.sha256 in (decision.file_hashes or ())]
    for decision in sorted(relied, key=lambda d: d.id):
        damage.context.append(
            f"decision {decision.id}: unit {decision.criterion.unit.number} criterion "
            f"{decision.criterion.code} "
            f"{decision.outcome_label} by {decision.assessor.name} on "
            f"{decision.decided_at:%Y-%m-%d} judged this file")
    if not relied:
        damage.context.append("no decision has relied on it yet")
    return damage
