"""Pages people wait for, served as in production: gunicorn with the shipped configuration
(``deploy/gunicorn.conf.py``, threaded workers) on PostgreSQL, CLIENTS logged-in clients at once
(threads of this process, each with its own session and one keep-alive connection) requesting one
page for PAGE_SECONDS, page after page (targets from issue 10: every page at least 0.3 of the
floor's throughput, p95 under 500 ms).

The floor is a trivial logged-in page of the same app measured in the same run (the change
password form: the session's user, the header's unread count, a small template), so the
fractions say what each page costs beyond serving any page at all on this machine. The database
holds an assessor's caseload of LEARNERS diploma learners (600/9662/7, 47 units, 736 criteria);
the first has ITEMS evidence items with CLAIMS claims, and the pages are that learner's, seen by
the assessor. The object store is not started: none of these pages talks to it.

``PORTFOLIO_BENCH_PAGE_SECONDS`` sets the seconds per page (3 for a quick look);
``python -m tests.benchmarks.bench_pages`` runs this benchmark alone.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import cpu, databases
from tests.helpers.assessment_data import DIPLOMA, seed_portfolio
from tests.helpers.gunicorn import KeepAliveVisitor, gunicorn_serving

CLIENTS = 8
PAGE_SECONDS = float(os.environ.get("PORTFOLIO_BENCH_PAGE_SECONDS", "20"))
LEARNERS = 60
ITEMS, CLAIMS = 2000, 5000
#: The rest of the caseload: enough to weigh on the caseload's counts, quick to seed.
OTHER_ITEMS, OTHER_CLAIMS = 400, 1000
TARGET_FRACTION = 0.3
TARGET_P95_MS = 500
ASSESSOR = "assessor@bench.test"
FLOOR = "floor"


def pages(enrolment_id: int) -> dict[str, str]:
    """The pages measured, by name; the floor first. Add a page here to measure it."""
    return {FLOOR: "/account/password",
            "progress": f"/enrolments/{enrolment_id}/progress",
            "grid": f"/enrolments/{enrolment_id}/grid",
            "caseload": "/caseload",
            "evidence list": f"/enrolments/{enrolment_id}/evidence"}


@dataclass
class Load:
    """What the clients saw of one page: (status, milliseconds) per request, 0 for no answer."""

    answers: list[tuple[int, float]]
    seconds: float
    #: CPU seconds the gunicorn workers and the database's backends used meanwhile.
    app_cpu: float | None
    database_cpu: float | None

    @property
    def per_second(self) -> float:
        return len(self.answers) / self.seconds

    @property
    def errors(self) -> int:
        return sum(1 for status, _ in self.answers if status != 200)

    def cpu_ms(self, seconds: float | None) -> str:
        """``seconds`` of CPU per request, in milliseconds."""
        return "n/a" if seconds is None else f"{seconds / max(len(self.answers), 1) * 1e3:.1f} ms"

    def percentile(self, n: int) -> float:
        timings = sorted(ms for _, ms in self.answers)
        return timings[min(len(timings) - 1, round(n / 100 * (len(timings) - 1)))]


def run():
    yield (f"pages under gunicorn (deploy/gunicorn.conf.py) on PostgreSQL: {CLIENTS} logged-in "
           f"clients with keep-alive connections, {PAGE_SECONDS:g} s per page; a learner with "
           f"{ITEMS:,} items / {CLAIMS:,} claims on {DIPLOMA}, a caseload of {LEARNERS}:")
    yield from databases.on_each_database(_measure, sqlite=False)


def _measure(label: str, directory: Path, url: str):
    start = time.perf_counter()
    enrolment_id = _seed(directory, url)
    yield f"{label}: seeded in {time.perf_counter() - start:.1f} s"
    environment = {"PORTFOLIO_DATABASE_URL": url, "PORTFOLIO_SECRET_KEY": "bench",
                   "PORTFOLIO_INSTANCE_PATH": str(directory / "instance"),
                   # Nothing listens there: a page that needed the store would fail, not wait.
                   "PORTFOLIO_S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    with gunicorn_serving(environment, directory / "gunicorn.log") as server:
        clients = [KeepAliveVisitor(server.port) for _ in range(CLIENTS)]
        for client in clients:
            if client.log_in(ASSESSOR).status != 302:
                raise RuntimeError("the assessor could not log in")
        measured = pages(enrolment_id)
        for client in clients:  # warm every worker: templates, the catalogue tree
            for path in measured.values():
                client.get(path)
        loads = {name: _load(clients, path, server.pid, url) for name, path in measured.items()}
        for client in clients:
            client.close()
        tracebacks = server.log.read_text(errors="replace").count("Traceback")
    floor = loads[FLOOR].per_second
    for name, load in loads.items():
        fraction = load.per_second / floor
        p95 = load.percentile(95)
        verdict = ("" if name == FLOOR else
                   f"   ({_verdict(fraction >= TARGET_FRACTION and p95 < TARGET_P95_MS)})")
        yield (f"  {name:<13} {load.per_second:6.1f} req/s  {fraction:5.2f} of the floor   "
               f"p50 {load.percentile(50):5.0f} ms   p95 {p95:5.0f} ms   "
               f"errors {load.errors}   CPU per request: app {load.cpu_ms(load.app_cpu):>8}, "
               f"database {load.cpu_ms(load.database_cpu):>8}{verdict}")
    yield (f"  targets: every page >= {TARGET_FRACTION} of the floor, p95 < {TARGET_P95_MS} ms; "
           f"tracebacks in gunicorn's log: {tracebacks}")
    yield ("  (CPU per request is what the server's processes used, from /proc: on a shared "
           "machine it moves less than the rates do)")


def _seed(directory: Path, url: str) -> int:
    """The caseload, migrated and seeded; the id of the big portfolio's enrolment."""
    from portfolio import create_app
    from portfolio.accounts.models import Centre
    from portfolio.catalogue import services as catalogue
    from portfolio.config import Settings
    from portfolio.extensions import db
    from tests.helpers.app import migrate_with_catalogue
    from tests.helpers.factories import make_enrolment, make_user

    app = create_app(Settings(instance_path=directory / "instance", database_url=url,
                              secret_key="bench"))
    with app.app_context():
        migrate_with_catalogue(catalogue.load_builtin_specs())
        session = db.session
        centre = Centre(name="Bench College")
        session.add(centre)
        session.flush()
        assessor = make_user(session, centre, ASSESSOR, "assessor")
        iqa = make_user(session, centre, "iqa@bench.test", "iqa")
        enrolments = [make_enrolment(session, make_user(
            session, centre, f"learner{n:02d}@bench.test", "learner", name=f"Learner {n:02d}"),
            assessor, iqa, DIPLOMA) for n in range(LEARNERS)]
        for n, enrolment in enumerate(enrolments):
            seed_portfolio(session, enrolment, *((ITEMS, CLAIMS) if n == 0 else
                                                 (OTHER_ITEMS, OTHER_CLAIMS)), rng_seed=n)
        session.commit()
        enrolment_id = enrolments[0].id
        db.session.remove()
        # New rows have no statistics, and their pages are not yet marked all-visible (which
        # index-only scans need), until autovacuum comes by: plan as a live database would.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        db.engine.dispose()
    return enrolment_id


def _load(clients: list[KeepAliveVisitor], path: str, server_pid: int, url: str) -> Load:
    """Every client requests ``path`` again and again for PAGE_SECONDS."""
    answers: list[tuple[int, float]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + PAGE_SECONDS

    def loop(client: KeepAliveVisitor) -> None:
        mine = []
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                status = client.get(path).status
            except OSError:
                status = 0
                client.close()
            mine.append((status, (time.perf_counter() - start) * 1e3))
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=loop, args=(client,)) for client in clients]
    workers, backends = cpu.children_of(server_pid), cpu.database_backends(url)
    app_before, database_before = cpu.cpu_seconds(workers), cpu.cpu_seconds(backends)
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - start
    app_after = cpu.cpu_seconds(workers | cpu.children_of(server_pid))
    database_after = cpu.cpu_seconds(backends | cpu.database_backends(url))
    return Load(answers, seconds, cpu.spent(app_before, app_after),
                cpu.spent(database_before, database_after))


def _verdict(passed: bool) -> str:
    return "met" if passed else "MISSED"


if __name__ == "__main__":
    for line in run():
        print(line, flush=True)
