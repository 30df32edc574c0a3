"""Assessment pages at scale: the progress page and the tracking grid of a learner on the 47-unit
diploma (600/9662/7, 736 criteria) with 2,000 evidence items and 5,000 claims, and the caseload
of an assessor with 60 such learners (targets: 150 ms and 300 ms median server time, and query
counts that do not grow with the portfolio nor with the caseload).

Each database is new: SQLite always, PostgreSQL too when ``PORTFOLIO_TEST_DATABASE_URL`` (or the
default local server) answers. Requests go through Flask's test client, outside any application
context so that each has its own session and loads its user as in production; the time measured
is the whole ``client.get`` (WSGI handling included, no network or web server).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import sqlalchemy as sa

from tests.helpers import databases
from tests.helpers.assessment_data import DIPLOMA, seed_portfolio
from tests.helpers.queries import count_queries

LEARNERS = 60
ITEMS, CLAIMS = 2000, 5000
#: Seeding budget per database; past it the remaining learners get smaller portfolios.
SEED_BUDGET_S = 60.0
SMALL_ITEMS, SMALL_CLAIMS = 200, 500
REQUESTS = 30
#: A page slower than this on its first request is not repeated; one still running after
#: DEADLINE_S is interrupted (SQLite's progress handler, PostgreSQL's statement_timeout).
SLOW_S = 5.0
DEADLINE_S = 120.0
TARGETS_MS = {"progress": 150, "grid": 150, "caseload": 300}


def run():
    yield (f"assessment pages, {DIPLOMA} (47 units, 736 criteria), learner with {ITEMS:,} items "
           f"and {CLAIMS:,} claims, caseload of {LEARNERS}; Flask test client timing over "
           f"{REQUESTS} requests after one warm-up (whole client.get, no web server):")
    yield from databases.on_each_database(_measure)


def _measure(label: str, directory: Path, url: str):
    from portfolio import create_app
    from portfolio.accounts.models import Centre
    from portfolio.catalogue import services as catalogue
    from portfolio.catalogue.tree import version_tree
    from portfolio.config import Settings
    from portfolio.extensions import db
    from tests.helpers.app import migrate_with_catalogue
    from tests.helpers.factories import make_enrolment, make_user
    from tests.helpers.web import csrf_token, log_in

    app = create_app(Settings(instance_path=directory, database_url=url, secret_key="bench"))
    with app.app_context():
        migrate_with_catalogue(catalogue.load_builtin_specs())
        centre = Centre(name="Bench College")
        db.session.add(centre)
        db.session.flush()
        assessor = make_user(db.session, centre, "assessor@bench.test", "assessor")
        other = make_user(db.session, centre, "assessor2@bench.test", "assessor")
        iqa = make_user(db.session, centre, "iqa@bench.test", "iqa")
        learners = [make_user(db.session, centre, f"learner{n:02d}@bench.test", "learner",
                              name=f"Learner {n:02d}") for n in range(LEARNERS + 1)]
        enrolments = [make_enrolment(db.session, learner, assessor, iqa, DIPLOMA)
                      for learner in learners[:LEARNERS]]
        lone = make_enrolment(db.session, learners[LEARNERS], other, iqa, DIPLOMA)
        db.session.commit()

        start = time.perf_counter()
        full, first = 0, None
        for n, enrolment in enumerate(enrolments):
            elapsed = time.perf_counter() - start
            # Full size while the projection stays within budget; learner 0 always full.
            if n == 0 or elapsed / n * LEARNERS <= SEED_BUDGET_S:
                summary = seed_portfolio(db.session, enrolment, ITEMS, CLAIMS, rng_seed=n)
                full += 1
            else:
                summary = seed_portfolio(db.session, enrolment, SMALL_ITEMS, SMALL_CLAIMS,
                                         rng_seed=n)
            first = first or summary
            db.session.commit()
        seeding = time.perf_counter() - start
        seed_portfolio(db.session, lone, SMALL_ITEMS, SMALL_CLAIMS, rng_seed=999)
        db.session.commit()
        big, small = enrolments[0].id, lone.id
        # The catalogue tree is cached per process: build it first, so every figure is warm.
        version_tree(db.session, enrolments[0].version_id)
        engine = db.engine
        db.session.remove()
    deadline = _install_deadline(engine)

    yield f"{label}:"
    yield (f"  seeded {LEARNERS} portfolios in {seeding:.1f} s: {full} of the caseload's "
           f"{LEARNERS} at full size" + ("" if full == LEARNERS else
                                         f", the other {LEARNERS - full} at {SMALL_ITEMS} items / "
                                         f"{SMALL_CLAIMS} claims to stay within "
                                         f"~{SEED_BUDGET_S:.0f} s"))
    yield f"  learner 1: {first}"

    client = app.test_client()
    app.logger.disabled = True  # an interrupted request is reported below, not as a traceback
    assert log_in(client, "assessor@bench.test").status_code == 302
    pages = [("progress", f"/enrolments/{big}/progress"), ("grid", f"/enrolments/{big}/grid"),
             ("caseload", "/caseload"), ("evidence list", f"/enrolments/{big}/evidence")]
    for name, path in pages:
        timings, queries = _time(client, engine, path, deadline)
        target = TARGETS_MS.get(name)
        median = statistics.median(timings)
        verdict = ("no target" if target is None else
                   f"target < {target} ms: {'met' if median < target else 'MISSED'}")
        if queries is None:
            yield (f"  {name:<13} interrupted after {DEADLINE_S:.0f} s without an answer "
                   f"({verdict})")
        elif len(timings) == 1:
            yield (f"  {name:<13} {median / 1e3:7.1f} s for one request, too slow to repeat   "
                   f"{queries:2d} queries   ({verdict})")
        else:
            yield (f"  {name:<13} median {median:7.1f} ms   p95 {_p95(timings):7.1f} ms   "
                   f"{queries:2d} queries   ({verdict})")

    # A second assessor with one learner of SMALL_ITEMS items: the query counts to compare.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/catalogue/")})
    assert log_in(client, "assessor2@bench.test").status_code == 302
    counts = {name: _time(client, engine, path, deadline, 1)[1] for name, path in (
        ("progress", f"/enrolments/{small}/progress"), ("grid", f"/enrolments/{small}/grid"),
        ("caseload", "/caseload"))}
    yield (f"  query counts for a caseload of 1 learner with {SMALL_ITEMS} items / {SMALL_CLAIMS} "
           f"claims: progress {counts['progress']}, grid {counts['grid']}, "
           f"caseload {counts['caseload']}")
    engine.dispose()


def _install_deadline(engine) -> list[float]:
    """Interrupt statements once ``deadline[0]`` (a ``time.monotonic()`` value) has passed, on
    SQLite; abort any PostgreSQL statement running longer than DEADLINE_S."""
    deadline = [float("inf")]

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        if engine.dialect.name == "sqlite":
            dbapi_connection.set_progress_handler(lambda: time.monotonic() > deadline[0], 10_000)
        else:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET statement_timeout = {int(DEADLINE_S * 1000)}")
            cursor.close()
            dbapi_connection.commit()

    engine.dispose()  # pooled connections open again, with the handler
    return deadline


def _time(client, engine, path: str, deadline: list[float], repeat: int = REQUESTS
          ) -> tuple[list[float], int | None]:
    """Milliseconds of each GET after a warm-up (the warm-up alone when it is slower than
    SLOW_S), and the statements of the last one (None when interrupted)."""
    timings = []
    for n in range(repeat + 1):
        with count_queries(engine) as statements:
            deadline[0] = time.monotonic() + DEADLINE_S
            start = time.perf_counter()
            try:
                response = client.get(path)
                response.get_data()
            except sa.exc.OperationalError:  # when the app propagates errors
                response = None
            finally:
                interrupted = time.monotonic() > deadline[0]
                deadline[0] = float("inf")
        if interrupted or response is None:
            return [DEADLINE_S * 1e3], None
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        elapsed = (time.perf_counter() - start) * 1e3
        if n == 0 and elapsed > SLOW_S * 1e3:
            return [elapsed], len(statements)
        if n:
            timings.append(elapsed)
    return timings, len(statements)


def _p95(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=20, method="inclusive")[18] if len(timings) > 1 \
        else timings[0]
