"""The sampling plan generator at a centre's scale: 5,000 learners on 600/1636/X spread over 40
assessors and 5 IQAs, about 200,000 decisions between them; proposing a plan for one assessor
(target < 1 s), and its query count against an assessor with a single learner.

PostgreSQL only (the issue's figure), on a new database; the time is ``propose_plan`` alone,
median over a few runs after one warm-up, its session expired before each so that it reads what
it needs as in a request."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path

from tests.helpers import databases
from tests.helpers.assessment_data import seed_portfolio
from tests.helpers.queries import count_queries

LEARNERS, ASSESSORS, IQAS = 5000, 40, 5
ITEMS, CLAIMS = 26, 80
RUNS = 5
TARGET_S = 1.0
QUALIFICATION = "600/1636/X"


def run():
    yield (f"sampling plan generator, {LEARNERS:,} learners on {QUALIFICATION}, {ASSESSORS} "
           f"assessors, {IQAS} IQAs; propose_plan for one assessor, median of {RUNS}:")
    yield from databases.on_each_database(_measure, sqlite=False)


def _measure(label: str, directory: Path, url: str):
    import sqlalchemy as sa

    from portfolio import create_app
    from portfolio.accounts.models import Centre, Enrolment, RoleGrant, User
    from portfolio.assessment.models import Decision
    from portfolio.catalogue import services as catalogue
    from portfolio.catalogue.models import Qualification
    from portfolio.config import Settings
    from portfolio.extensions import db
    from portfolio.quality.generator import propose_plan
    from portfolio.quality.strategy import DEFAULTS
    from tests.helpers.app import migrate_with_catalogue
    from tests.helpers.factories import password_hash

    app = create_app(Settings(instance_path=directory, database_url=url, secret_key="bench"))
    with app.app_context():
        session = db.session
        migrate_with_catalogue(catalogue.load_builtin_specs())
        centre = Centre(name="Plan Bench College")
        session.add(centre)
        session.flush()

        def people(prefix: str, role: str, count: int) -> list[User]:
            made = [User(centre_id=centre.id, email=f"{prefix}{n}@plans.bench",
                         name=f"{prefix.title()} {n}", password_hash=password_hash(),
                         grants=[RoleGrant(centre_id=centre.id, role=role)])
                    for n in range(count)]
            session.add_all(made)
            session.flush()
            return made

        assessors = people("assessor", "assessor", ASSESSORS + 1)
        iqas = people("iqa", "iqa", IQAS)
        learners = people("learner", "learner", LEARNERS)
        version = catalogue.find_version(session, QUALIFICATION)
        start = time.perf_counter()
        enrolments = [Enrolment(
            centre_id=centre.id, learner_id=learner.id, version_id=version.id,
            qualification_id=version.qualification_id, registration_number=f"PB-{n}",
            start_date=dt.date(2025, 9, 1), planned_end_date=dt.date(2027, 8, 31),
            assessor_id=assessors[n % ASSESSORS].id, iqa_id=iqas[n % IQAS].id)
            for n, learner in enumerate(learners)]
        lone_learner = people("lone", "learner", 1)[0]
        lone = Enrolment(centre_id=centre.id, learner_id=lone_learner.id, version_id=version.id,
                         qualification_id=version.qualification_id, registration_number="PB-lone",
                         start_date=dt.date(2025, 9, 1), planned_end_date=dt.date(2027, 8, 31),
                         assessor_id=assessors[ASSESSORS].id, iqa_id=iqas[0].id)
        session.add_all([*enrolments, lone])
        session.flush()
        for n, enrolment in enumerate([*enrolments, lone]):
            seed_portfolio(session, enrolment, ITEMS, CLAIMS, rng_seed=n)
        session.commit()
        seeding = time.perf_counter() - start
        decisions = session.scalar(sa.select(sa.func.count()).select_from(Decision))
        qualification = session.get(Qualification, version.qualification_id)
        # An IQA who is not the enrolments' own: any IQA of the centre may plan.
        ids = assessors[0].id, assessors[ASSESSORS].id, iqas[1].id, qualification.id
        session.remove()

        def propose(assessor_id: int) -> tuple[float, int, int]:
            session.expire_all()
            assessor, lone_assessor, iqa, qualification = (
                session.get(User, ids[0]), session.get(User, ids[1]), session.get(User, ids[2]),
                session.get(Qualification, ids[3]))
            who = assessor if assessor_id == ids[0] else lone_assessor
            with count_queries() as statements:
                started = time.perf_counter()
                proposal = propose_plan(session, DEFAULTS, iqa, who, qualification,
                                        dt.date(2026, 9, 1))
                elapsed = time.perf_counter() - started
            return elapsed, len(statements), len(proposal.pairs)

        propose(ids[0])  # warm: the catalogue tree is cached per process
        runs = [propose(ids[0]) for _ in range(RUNS)]
        median = statistics.median(r[0] for r in runs)
        _, lone_queries, lone_pairs = propose(ids[1])
        session.remove()
    yield f"{label}:"
    yield (f"  seeded {LEARNERS + 1:,} portfolios, {decisions:,} decisions, in {seeding:.0f} s")
    yield (f"  propose_plan, {runs[0][2]:,} learner x unit pairs: median {median * 1e3:.0f} ms, "
           f"{runs[0][1]} queries (target < {TARGET_S:.0f} s: "
           f"{'met' if median < TARGET_S else 'MISSED'}); one learner, {lone_pairs} pairs: "
           f"{lone_queries} queries")
