"""A busy centre for the quality benchmarks, made by the demo generator
(:mod:`portfolio.demo.centre` and :mod:`portfolio.demo.sampling`, COPY on PostgreSQL): LEARNERS
learners on the demo's three qualifications, ASSESSORS assessors (the first WORKING_TOWARDS
working towards their qualification, so their decisions wait for a countersignature, most of
them given), IQAS IQAs (the last working towards too), ITEMS_PER_LEARNER evidence items per
learner with CLAIMS_PER_ITEM criteria each: LEARNERS x 40 = 200,000 claims and nearly as many
decisions at full size, with the plans, samples and actions of the last year.

It never commits; the caller analyses after committing.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from portfolio.core.db import utcnow
from portfolio.demo.centre import CentreFiller, Shape, catalogue_units
from portfolio.demo.generate import ORDER, QUALIFICATIONS
from portfolio.demo.sampling import fill_sampling
from portfolio.demo.writer import RowWriter
from tests.helpers.factories import password_hash

__all__ = ["QUALIFICATIONS", "QualityCentre", "fill_quality_centre"]

LEARNERS, ASSESSORS, IQAS = 5000, 40, 5
ITEMS_PER_LEARNER, CLAIMS_PER_ITEM = 10, 4
WORKING_TOWARDS = 4


@dataclass
class QualityCentre:
    centre_id: int
    name: str
    #: Email addresses of the IQAs (password: the factories' PASSWORD), and ids of the people.
    iqa_emails: list[str]
    iqa_ids: list[int]
    assessor_ids: list[int]
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        counts = ", ".join(f"{n:,} {table}" for table, n in self.rows.items())
        return f"{counts} in {self.seconds:.1f} s"


def fill_quality_centre(session: Session, name: str = "Bench College", *,
                        learners: int = LEARNERS, assessors: int = ASSESSORS, iqas: int = IQAS,
                        seed: int = 0) -> QualityCentre:
    started = time.perf_counter()
    out = RowWriter(session)
    shape = Shape(learners=learners, assessors=assessors, iqas=iqas,
                  items_per_learner=ITEMS_PER_LEARNER, claims_per_item=CLAIMS_PER_ITEM,
                  working_towards=min(WORKING_TOWARDS, assessors - 1))
    filler = CentreFiller(out, name, shape, catalogue_units(session, QUALIFICATIONS),
                          password_hash=password_hash(), rng=random.Random(seed), now=utcnow())
    for _ in range(learners):
        filler.fill_learner()
    fill_sampling(filler)
    out.write(ORDER)
    centre = filler.centre
    return QualityCentre(centre_id=centre.centre_id, name=name,
                         iqa_emails=[centre.email("iqa", n) for n in range(iqas)],
                         iqa_ids=centre.iqa_ids, assessor_ids=centre.assessor_ids,
                         rows=dict(out.written), seconds=time.perf_counter() - started)
