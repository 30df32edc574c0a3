"""Quality assurance at the size of a busy centre (PostgreSQL only; skipped, with the reason,
when none answers): 5,000 learners, 40 assessors, 5 IQAs and 200,000 decisions with their items
and claims, plans, samples and actions (``tests.benchmarks.quality_centre``). Measured: the
centre's sampling trail for the last year as the page, as the figures CSV (targets < 2 s), as
the samples CSV and as the PDF (times reported), each with its query count, which must equal the
count for a centre of ten learners.

Each measure is one line of MEASURES: a name, a callable taking the :class:`Bench` (``get`` a
path as the centre's first IQA, through Flask's test client outside any application context, as
in production; or ``in_app`` to call a service in an application context, rolled back after),
and an optional target in seconds. The time is the whole call's, median of REPEAT after one
warm-up (one call only when the warm-up is slower than SLOW_S).

``python -m tests.benchmarks.bench_quality`` runs this benchmark alone.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tests.helpers import databases
from tests.helpers.queries import count_queries

REPEAT = 5
SLOW_S = 10.0
SMALL_LEARNERS = 10
YEAR = "starts_on={starts_on}&ends_on={ends_on}"


@dataclass
class Bench:
    """What a measure may use: the app, a client logged in as the centre's first IQA, the
    centre's ids (``centre``: a QualityCentre) and the query string of the last year."""

    app: object
    client: object
    centre: object
    year: str

    def get(self, path: str):
        response = self.client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        return response.get_data()

    def in_app(self, call: Callable):
        """``call(session)`` in an application context; whatever it changed is rolled back."""
        from portfolio.extensions import db

        with self.app.app_context():
            try:
                return call(db.session)
            finally:
                db.session.rollback()


@dataclass(frozen=True)
class Measure:
    name: str
    run: Callable[[Bench], object]
    target_s: float | None = None


MEASURES = [
    Measure("trail page, a year", lambda b: b.get(f"/quality/trail?{b.year}"), 2.0),
    Measure("trail figures CSV", lambda b: b.get(f"/quality/trail/figures.csv?{b.year}"), 2.0),
    Measure("trail samples CSV", lambda b: b.get(f"/quality/trail/samples.csv?{b.year}")),
    Measure("trail PDF", lambda b: b.get(f"/quality/trail/trail.pdf?{b.year}")),
    Measure("proposing a plan for one assessor", lambda b: b.in_app(
        lambda session: _propose_plan(session, b.centre)), 1.0),
]


def _propose_plan(session, centre):
    """The generator's proposal for the centre's first IQA and first assessor, on the first
    qualification, this cycle of the default strategy."""
    import datetime as dt

    from portfolio.accounts.models import User
    from portfolio.catalogue import services as catalogue
    from portfolio.catalogue.models import Qualification
    from portfolio.quality.generator import propose_plan
    from portfolio.quality.strategy import DEFAULTS
    from tests.benchmarks.quality_centre import QUALIFICATIONS

    version = catalogue.find_version(session, QUALIFICATIONS[0])
    return propose_plan(session, DEFAULTS, session.get(User, centre.iqa_ids[0]),
                        session.get(User, centre.assessor_ids[0]),
                        session.get(Qualification, version.qualification_id),
                        DEFAULTS.cycle_containing(dt.date.today())[0])


def run():
    yield ("quality assurance, a centre of 5,000 learners, 40 assessors, 5 IQAs, 200,000 "
           "decisions; Flask test client, whole request, median of "
           f"{REPEAT} after one warm-up:")
    yield from databases.on_each_database(_measure, sqlite=False)


def _measure(label: str, directory: Path, url: str):
    from portfolio import create_app
    from portfolio.catalogue import services as catalogue
    from portfolio.config import Settings
    from portfolio.extensions import db
    from portfolio.quality.trail import Period, today_in_london
    from tests.benchmarks.quality_centre import fill_quality_centre
    from tests.helpers.app import migrate_with_catalogue
    from tests.helpers.web import log_in

    app = create_app(Settings(instance_path=directory, database_url=url, secret_key="bench"))
    with app.app_context():
        migrate_with_catalogue(catalogue.load_builtin_specs())
        centre = fill_quality_centre(db.session)
        small = fill_quality_centre(db.session, "Small College", learners=SMALL_LEARNERS,
                                    assessors=4, iqas=2, seed=1)
        db.session.commit()
        with db.engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
        engine = db.engine
        db.session.remove()
    period = Period.choose(None, None, today_in_london())
    year = YEAR.format(starts_on=period.starts_on, ends_on=period.ends_on)
    yield f"{label}:"
    yield f"  generated {centre}"

    results = {}
    for name, who in (("big", centre), ("small", small)):
        client = app.test_client()
        assert log_in(client, who.iqa_emails[0]).status_code == 302
        bench = Bench(app, client, who, year)
        results[name] = {m.name: _time(bench, engine, m, REPEAT if name == "big" else 0)
                         for m in MEASURES}
    for measure in MEASURES:
        timings, queries = results["big"][measure.name]
        small_queries = results["small"][measure.name][1]
        median = statistics.median(timings)
        verdict = ("no target" if measure.target_s is None else
                   f"target < {measure.target_s:g} s: "
                   f"{'met' if median < measure.target_s else 'MISSED'}")
        runs = "one run, too slow to repeat" if len(timings) == 1 else f"max {max(timings):.2f} s"
        yield (f"  {measure.name:<22} {median:6.2f} s  ({runs})  {queries} queries, "
               f"{small_queries} for {SMALL_LEARNERS} learners   ({verdict})")
    engine.dispose()


def _time(bench: Bench, engine, measure: Measure, repeat: int) -> tuple[list[float], int]:
    """Seconds of each call after a warm-up (the warm-up's alone when slower than SLOW_S), and
    the statements of the last one."""
    timings = []
    for n in range(repeat + 1):
        with count_queries(engine) as statements:
            start = time.perf_counter()
            measure.run(bench)
            elapsed = time.perf_counter() - start
        if n == 0 and (repeat == 0 or elapsed > SLOW_S):
            return [elapsed], len(statements)
        if n:
            timings.append(elapsed)
    return timings, len(statements)


if __name__ == "__main__":
    for line in run():
        print(line, flush=True)
