"""A few people at once on the embedded default: pages read while slow uploads stream, and
judgements and sign-offs submitted at the same moment (targets from issue 8: the readers' p95
within 1.5x of the same reading without uploads, every upload completed, no 500 anywhere).

A fresh instance (embedded SQLite, the embedded SeaweedFS that ``portfolio serve`` starts) is
seeded with an assessor's caseload of diploma learners with sizeable portfolios, then served by a
real ``portfolio serve`` subprocess. The visitors are threads of this process talking HTTP to it:
(a) READERS logged-in readers loop over the progress, grid, caseload and evidence-list pages for
READ_SECONDS; (b) the same readers again while UPLOADERS learners each upload UPLOAD_MIB at
1 MiB/s through the browser uploader's endpoint; (c) WRITERS judgements and WRITERS sign-offs on
different learners, released together by a barrier.
"""

from __future__ import annotations

import collections
import itertools
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tests.benchmarks.bench_upload_stream import MP4_HEADER
from tests.helpers.live_server import LiveServer, Visitor, serving
from tests.helpers.streams import MiB, payload

READERS = 8
READ_SECONDS = 20.0
CASELOAD = 30
ITEMS, CLAIMS = 400, 1000
UPLOADERS = 16
UPLOAD_MIB = 20
UPLOAD_RATE = 1 * MiB
WRITERS = 10
#: The readers' p95 with uploads streaming, at most this many times their p95 without.
P95_RATIO = 1.5
#: Seconds a writer waits for the others at the barrier.
BARRIER_TIMEOUT = 60

READER_EMAIL = "reader@bench.test"
WRITER_EMAIL = "writer@bench.test"


@dataclass
class Plan:
    """What the seeded instance holds, by id."""

    caseload: list[int]
    uploaders: list[tuple[str, int]]
    #: (evidence item, the criteria it claims) to judge, and (enrolment, unit) to sign off.
    judgements: list[tuple[int, list[int]]]
    sign_offs: list[tuple[int, int]]


def run():
    yield (f"a few people at once on the embedded default (portfolio serve: SQLite, SeaweedFS); "
           f"{READERS} readers of an assessor's caseload of {CASELOAD} diploma learners with "
           f"{ITEMS} items / {CLAIMS} claims each:")
    with tempfile.TemporaryDirectory() as directory:
        instance = Path(directory) / "instance"
        instance.mkdir(mode=0o700)
        start = time.perf_counter()
        plan = _seed(instance)
        yield f"  seeded in {time.perf_counter() - start:.1f} s"
        with serving(instance) as server:
            yield from _measure(server, plan)
            errors, tracebacks = server.internal_errors(), server.tracebacks()
        yield f"  server log: {len(errors)} request(s) answered 500"
        if errors and tracebacks:
            yield "  its first traceback:"
            yield from (f"    {line}" for line in tracebacks[0].splitlines())
        yield from _check_writes(instance, plan)


def _seed(instance: Path) -> Plan:
    from portfolio import create_app
    from portfolio.accounts.models import Centre
    from portfolio.catalogue import services as catalogue
    from portfolio.config import Settings
    from portfolio.extensions import db
    from tests.helpers.app import migrate_with_catalogue
    from tests.helpers.assessment import add_item, criteria_of, meet_unit
    from tests.helpers.assessment_data import DIPLOMA, seed_portfolio
    from tests.helpers.factories import make_enrolment, make_user

    app = create_app(Settings(instance_path=instance))
    with app.app_context():
        migrate_with_catalogue(catalogue.load_builtin_specs())
        session = db.session
        centre = Centre(name="Bench College")
        session.add(centre)
        session.flush()
        reader = make_user(session, centre, READER_EMAIL, "assessor")
        writer = make_user(session, centre, WRITER_EMAIL, "assessor")
        iqa = make_user(session, centre, "iqa@bench.test", "iqa")
        caseload = []
        for n in range(CASELOAD):
            learner = make_user(session, centre, f"diploma{n:02d}@bench.test", "learner")
            enrolment = make_enrolment(session, learner, reader, iqa, DIPLOMA)
            seed_portfolio(session, enrolment, ITEMS, CLAIMS, rng_seed=n)
            caseload.append(enrolment.id)
        uploaders, judgements, sign_offs = [], [], []
        for n in range(max(UPLOADERS, WRITERS)):
            learner = make_user(session, centre, f"learner{n:02d}@bench.test", "learner")
            enrolment = make_enrolment(session, learner, writer, iqa)
            uploaders.append((learner.email, enrolment.id))
            criteria = criteria_of(session, enrolment, "301", 3)
            judgements.append((add_item(session, enrolment, criteria).id, criteria))
            meet_unit(session, enrolment, "302", writer)
            unit = next(u for u in enrolment.version.units if u.number == "302")
            sign_offs.append((enrolment.id, unit.id))
        session.commit()
        db.session.remove()
        db.engine.dispose()
    return Plan(caseload, uploaders[:UPLOADERS], judgements[:WRITERS], sign_offs[:WRITERS])


def _measure(server: LiveServer, plan: Plan):
    readers = []
    for _ in range(READERS):
        visitor = Visitor(server.port)
        _expect(visitor.log_in(READER_EMAIL), 302, "a reader's login")
        readers.append(visitor)
    uploaders = []
    for email, enrolment_id in plan.uploaders:
        visitor = Visitor(server.port)
        _expect(visitor.log_in(email), 302, "an uploader's login")
        uploaders.append((visitor, enrolment_id))
    writers = []
    for _ in range(2 * WRITERS):
        visitor = Visitor(server.port)
        _expect(visitor.log_in(WRITER_EMAIL), 302, "a writer's login")
        writers.append(visitor)
    for path in _pages(plan.caseload[0]).values():  # warm: templates, the catalogue tree
        _expect(readers[0].get(path), 200, f"GET {path}")

    quiet = _read(readers, plan, threading.Event(), READ_SECONDS)
    yield (f"(a) {READERS} readers for {READ_SECONDS:.0f} s, no uploads "
           f"(p50 / p95 server round trip over loopback):")
    yield from _reading_lines(quiet)

    uploads: list[tuple[int, dict | str]] = [(0, "not finished")] * len(uploaders)
    durations = [0.0] * len(uploaders)
    size = UPLOAD_MIB * MiB

    def send(index: int) -> None:
        visitor, enrolment_id = uploaders[index]
        chunks = itertools.chain([MP4_HEADER], payload(size - len(MP4_HEADER), str(index)))
        start = time.perf_counter()
        try:
            answer = visitor.upload(enrolment_id, chunks, size, f"recording-{index}.mp4",
                                    UPLOAD_RATE)
            uploads[index] = (answer.status, _json(answer))
        except OSError as error:
            uploads[index] = (0, repr(error))
        durations[index] = time.perf_counter() - start

    done = threading.Event()
    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(uploaders))]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    waiter = threading.Thread(target=lambda: ([t.join() for t in threads], done.set()))
    waiter.start()
    busy = _read(readers, plan, done, None)
    waiter.join()
    took = time.perf_counter() - start
    completed = sum(1 for status, body in uploads
                    if status == 200 and isinstance(body, dict) and body.get("size") == size)
    quiet_p95, busy_p95 = _p95(_all(quiet)), _p95(_all(busy))
    yield (f"(b) the same readers while {len(uploaders)} learners each upload {UPLOAD_MIB} MiB at "
           f"{UPLOAD_RATE / MiB:.0f} MiB/s ({took:.1f} s):")
    yield from _reading_lines(busy)
    ratio = busy_p95 / quiet_p95
    yield (f"  readers' p95 {busy_p95:.0f} ms against {quiet_p95:.0f} ms without uploads: "
           f"{ratio:.2f}x (target <= {P95_RATIO}x): {_verdict(ratio <= P95_RATIO)}")
    upload_statuses = collections.Counter(status for status, _ in uploads)
    yield (f"  uploads completed {completed} of {len(uploaders)} (target all) in "
           f"{min(durations):.1f} to {max(durations):.1f} s ({size / UPLOAD_RATE:.0f} s at full "
           f"rate), statuses {_counts(upload_statuses)}: {_verdict(completed == len(uploaders))}")
    failures = [body for status, body in uploads if status != 200]
    if failures:
        yield f"  first failed upload: {str(failures[0])[:200]}"
    served_500 = _count_500(quiet) + _count_500(busy) + upload_statuses[500]
    yield f"  500s while reading and uploading {served_500} (target 0): {_verdict(not served_500)}"

    yield from _write_together(writers, plan)


def _pages(enrolment_id: int) -> dict[str, str]:
    return {"progress": f"/enrolments/{enrolment_id}/progress",
            "grid": f"/enrolments/{enrolment_id}/grid",
            "caseload": "/caseload",
            "evidence list": f"/enrolments/{enrolment_id}/evidence"}


def _read(readers: list[Visitor], plan: Plan, stop: threading.Event, seconds: float | None
          ) -> dict[str, list[tuple[int, float]]]:
    """Every reader loops over the pages of the caseload's learners (each starting at another
    learner) until ``seconds`` have passed, or until ``stop`` is set; returns per page the
    (status, milliseconds) of each request."""
    results: dict[str, list[tuple[int, float]]] = collections.defaultdict(list)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds if seconds is not None else float("inf")

    def loop(index: int) -> None:
        visitor = readers[index]
        for n in itertools.count(index * len(plan.caseload) // len(readers)):
            for name, path in _pages(plan.caseload[n % len(plan.caseload)]).items():
                if stop.is_set() or time.monotonic() > deadline:
                    return
                start = time.perf_counter()
                try:
                    status = visitor.get(path).status
                except OSError:
                    status = 0
                elapsed = (time.perf_counter() - start) * 1e3
                with lock:
                    results[name].append((status, elapsed))

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(readers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _reading_lines(results: dict[str, list[tuple[int, float]]]):
    for name, answers in results.items():
        timings = [ms for _, ms in answers]
        yield (f"  {name:<13} {_spread(timings)}   statuses "
               f"{_counts(collections.Counter(s for s, _ in answers))}")
    yield f"  {'overall':<13} {_spread(_all(results))}"


def _spread(timings: list[float]) -> str:
    return (f"{len(timings):4d} requests   p50 {statistics.median(timings):6.0f} ms   "
            f"p95 {_p95(timings):6.0f} ms   max {max(timings):6.0f} ms")


def _write_together(writers: list[Visitor], plan: Plan):
    """WRITERS judgements and WRITERS sign-offs, each by its own logged-in session, released at
    the same moment."""
    posts = [(f"/evidence/{item_id}/judge", {f"outcome-{c}": "met" for c in criteria})
             for item_id, criteria in plan.judgements]
    posts += [(f"/enrolments/{enrolment_id}/units/{unit_id}/sign-off", {})
              for enrolment_id, unit_id in plan.sign_offs]
    barrier = threading.Barrier(len(posts), timeout=BARRIER_TIMEOUT)
    statuses: list[int] = [0] * len(posts)
    timings: list[float] = [0.0] * len(posts)

    def post(index: int) -> None:
        path, data = posts[index]
        try:
            barrier.wait()
            start = time.perf_counter()
            statuses[index] = writers[index].post(path, data).status
            timings[index] = (time.perf_counter() - start) * 1e3
        except (OSError, threading.BrokenBarrierError):
            barrier.abort()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    judged, signed = statuses[:WRITERS], statuses[WRITERS:]
    errors = sum(1 for s in statuses if s >= 500 or s == 0)
    yield (f"(c) {WRITERS} judgements and {WRITERS} sign-offs posted at the same moment "
           f"(slowest answer {max(timings):.0f} ms):")
    yield f"  judgements: statuses {_counts(collections.Counter(judged))}"
    yield f"  sign-offs:  statuses {_counts(collections.Counter(signed))}"
    yield f"  500s or no answer {errors} (target 0): {_verdict(not errors)}"


def _check_writes(instance: Path, plan: Plan):
    """A 302 is not proof (a refused sign-off redirects too): what the database holds."""
    from portfolio.assessment.models import Decision, UnitSignOff

    engine = sa.create_engine(f"sqlite:///{instance / 'portfolio.sqlite3'}")
    try:
        with engine.connect() as connection:
            judged = sum(connection.scalar(
                sa.select(sa.func.count()).select_from(Decision.__table__).where(
                    Decision.item_id == item_id, Decision.criterion_id.in_(criteria),
                    Decision.outcome == "met")) == len(criteria)
                for item_id, criteria in plan.judgements)
            signed = sum(connection.scalar(
                sa.select(sa.func.count()).select_from(UnitSignOff.__table__).where(
                    UnitSignOff.enrolment_id == enrolment_id,
                    UnitSignOff.unit_id == unit_id)) == 1
                for enrolment_id, unit_id in plan.sign_offs)
    finally:
        engine.dispose()
    yield (f"  recorded: {judged} of {WRITERS} judgements, {signed} of {WRITERS} sign-offs "
           f"(target all): {_verdict(judged == signed == WRITERS)}")


def _expect(answer, status: int, what: str) -> None:
    if answer.status != status:
        raise RuntimeError(f"{what} answered {answer.status}, not {status}: {answer.text[:300]}")


def _json(answer) -> dict | str:
    import json

    try:
        return json.loads(answer.body)
    except ValueError:
        return f"{answer.status}: {answer.text[:200]}"


def _all(results: dict[str, list[tuple[int, float]]]) -> list[float]:
    return [ms for answers in results.values() for _, ms in answers]


def _count_500(results: dict[str, list[tuple[int, float]]]) -> int:
    return sum(1 for answers in results.values() for status, _ in answers
               if status >= 500 or status == 0)


def _counts(counter: collections.Counter) -> str:
    return ", ".join(f"{status or 'no answer'} x{n}" for status, n in sorted(counter.items()))


def _p95(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=20, method="inclusive")[18] if len(timings) > 1 \
        else timings[0]


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"
