"""``generate``: several synthetic centres of one size, written in bulk (COPY on PostgreSQL),
for demonstrations and benchmarks at scale.

Centres hold CENTRE_LEARNERS learners each (the last the rest), so a bigger database has more
centres of the same size, as an awarding body's does: a centre's pages should cost the same in
both. Each centre has an assessor per ~60 learners, an IQA per eight assessors, one assessor in
ten working towards their qualification. Every person's password is DEMO_PASSWORD (hashed once).
A second run adds further centres, numbered on from the first run's.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import Centre as CentreRow
from portfolio.accounts.services import hash_password
from portfolio.core.db import utcnow
from portfolio.core.errors import DomainError
from portfolio.demo.centre import Centre, CentreFiller, Shape, catalogue_units
from portfolio.demo.sampling import fill_sampling
from portfolio.demo.writer import RowWriter

QUALIFICATIONS = ("600/1636/X", "600/1257/2", "600/9662/7")
CENTRE_LEARNERS = 500
LEARNERS_PER_ASSESSOR = 60
ASSESSORS_PER_IQA = 8
DEMO_PASSWORD = "demo-portfolio-2026"
CENTRE_NAME = "Demo College {n}"
#: Rows are written every this many learners, so memory stays flat however many there are.
BATCH = 250
#: Tables in the order their foreign keys allow.
ORDER = ["centres", "users", "role_grants", "enrolments", "enrolment_assignments",
         "evidence_items", "evidence_files", "criterion_claims", "decisions", "countersignatures",
         "unit_sign_offs", "sampling_plans", "plan_revisions", "planned_samples", "samples",
         "sampled_decisions", "sampled_items", "sample_checks", "sample_countersignatures",
         "sample_actions", "action_entries", "audit_events"]


class DemoRefused(DomainError):
    """The database is not ready for the generator."""


@dataclass
class Generated:
    centres: list[Centre]
    rows: dict[str, int]
    seconds: float
    password: str = DEMO_PASSWORD
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        counts = ", ".join(f"{n:,} {table}" for table, n in self.rows.items())
        return f"{len(self.centres)} centres: {counts} in {self.seconds:.1f} s"


def centre_shape(learners: int) -> Shape:
    assessors = max(2, round(learners / LEARNERS_PER_ASSESSOR))
    return Shape(learners=learners, assessors=assessors,
                 iqas=max(1, math.ceil(assessors / ASSESSORS_PER_IQA)),
                 working_towards=max(assessors // 10, int(assessors > 2)))


def check_ready(session: Session, head: str) -> list:
    """The catalogue's qualifications the centres use; refused, saying what to run, when the
    database is not at migration ``head`` or lacks the built-in catalogue."""
    connection = session.connection()
    migrated = sa.inspect(connection).has_table("alembic_version") and head in (
        session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all())
    if not migrated:
        raise DemoRefused("The database is not at the newest migration: run `portfolio db "
                          "upgrade` first, then `portfolio catalogue import --builtin`.")
    try:
        return catalogue_units(session, QUALIFICATIONS)
    except LookupError as missing:
        raise DemoRefused(f"The catalogue has no qualification {missing}: run `portfolio "
                          f"catalogue import --builtin` first.") from None


def generate(session: Session, learners: int, *, head: str, centres: int | None = None,
             seed: int = 0, progress: Callable[[str], None] = lambda line: None) -> Generated:
    """Add ``learners`` learners in ``centres`` new centres (default: one per CENTRE_LEARNERS).
    Flushes through ``session`` and never commits."""
    started = time.perf_counter()
    qualifications = check_ready(session, head)
    centres = centres or math.ceil(learners / CENTRE_LEARNERS)
    if learners < centres:
        raise DemoRefused(f"{learners} learners cannot fill {centres} centres: give at least "
                          f"one learner per centre.")
    first = 1 + session.scalar(sa.select(sa.func.count()).select_from(CentreRow).where(
        CentreRow.name.like(CENTRE_NAME.format(n="%"))))
    out = RowWriter(session)
    rng = random.Random(seed)
    hashed = hash_password(DEMO_PASSWORD)
    # Midnight: every date and choice that follows from it is the same all day for one seed.
    now = dt.datetime.combine(utcnow().date(), dt.time(), tzinfo=dt.UTC)
    made = []
    for index in range(centres):
        size = learners // centres + (index < learners % centres)
        filler = CentreFiller(out, CENTRE_NAME.format(n=first + index), centre_shape(size),
                              qualifications, password_hash=hashed, rng=rng, now=now)
        for n in range(size):
            filler.fill_learner()
            if (n + 1) % BATCH == 0:
                out.write(ORDER)
        fill_sampling(filler)
        out.write(ORDER)
        made.append(filler.centre)
        progress(f"{filler.centre.name}: {size} learners "
                 f"({time.perf_counter() - started:.0f} s)")
    session.flush()
    return Generated(made, dict(out.written), time.perf_counter() - started)
