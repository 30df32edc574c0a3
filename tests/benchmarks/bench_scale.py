"""Pages as the database grows (issue 12), PostgreSQL only (skipped, with the reason, when none
answers): ``portfolio demo generate`` fills SIZES learners into two databases named
``portfolio_bench_scale_<learners>`` (1,000 learners: 20,000 claims; 50,000: about 1M claims
and 1M decisions, 1.3M audit events), in centres of 500 learners, so a centre's pages should
cost the same at both sizes. A database is reused when its comment records the same generator
(a digest of ``portfolio/demo``'s source) and migration head; otherwise it is made again, which
at 50,000 learners takes minutes.

Measured per page, in process (Flask's test client, logged in, outside any application context
as in production): the whole request's time, median of REPEAT after WARM_UP calls, and its
statements; then the ratio of the big database's figure to the small one's against the target
(within RATIO_TARGET). Last, the large tables of which a page's statements read at least half,
as the planner runs them at each size (EXPLAIN ANALYZE with their parameters).

``python -m tests.benchmarks.bench_scale`` runs this benchmark alone.
"""

from __future__ import annotations

import hashlib
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from tests.helpers import databases

SIZES = (1_000, 50_000)
WARM_UP, REPEAT = 2, 11
RATIO_TARGET = 1.5
#: Tables with at least this many rows are large: the pages should read little of each.
LARGE_ROWS = 10_000


def run():
    server = databases.SERVER_URL or databases.BENCH_POSTGRES
    yield (f"pages at {' and '.join(f'{n:,}' for n in SIZES)} learners (PostgreSQL, demo "
           f"centres of 500; Flask test client, whole request, median of {REPEAT} after "
           f"{WARM_UP} warm-up calls; target: the big figure within {RATIO_TARGET:g}x of the "
           f"small one):")
    if not server.startswith("postgresql"):
        yield f"  skipped: {server.split(':')[0]} is not a PostgreSQL URL"
        return
    if not databases.server_answers(server):
        yield f"  skipped: nothing answers at {databases.displayable(server)}"
        return
    with tempfile.TemporaryDirectory() as directory:
        urls = {}
        for learners in SIZES:
            urls[learners], line = _database(server, learners, Path(directory))
            yield f"  {learners:,} learners: {line}"
        figures, whole = _measure(urls, Path(directory))
    small, big = SIZES
    yield f"  {'page':<14} {small:>8,} {big:>8,}  ratio  queries"
    for page, (seconds, queries) in figures[small].items():
        big_seconds, big_queries = figures[big][page]
        ratio = big_seconds / seconds
        verdict = "within" if ratio <= RATIO_TARGET else "MISSED"
        yield (f"  {page:<14} {seconds * 1e3:6.1f}ms {big_seconds * 1e3:6.1f}ms  {ratio:4.2f}x "
               f"{queries:>3} / {big_queries:<3} ({verdict} {RATIO_TARGET:g}x)")
    for learners in SIZES:
        read = "; ".join(f"{page}: {', '.join(tables)}" for page, tables in whole[learners].items()
                         if tables) or "none"
        yield f"  large tables read (half or more) by the pages' statements at {learners:,}: {read}"


#: The generator's modules that choose the rows (not its command, which only reports them).
GENERATOR = ("generate.py", "centre.py", "sampling.py", "writer.py")


def generator_marker() -> str:
    """What made a database: the source of the generator's modules."""
    from portfolio import demo

    source = hashlib.sha256()
    for name in GENERATOR:
        source.update((Path(demo.__file__).parent / name).read_bytes())
    return f"portfolio demo generator {source.hexdigest()[:16]}"


def _database(server: str, learners: int, directory: Path) -> tuple[str, str]:
    """The URL of the benchmark's database of ``learners`` learners, made unless one made by
    the same generator is there, and a line saying which."""
    name = f"portfolio_bench_scale_{learners}"
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    marker = generator_marker()
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        found = connection.execute(sa.text(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"),
            {"n": name}).first()
        if found is not None and found[0] == marker:
            admin.dispose()
            _upgrade(url, directory)
            return url, f"reused {name} ({marker}), upgraded, vacuumed and analysed"
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    started = time.perf_counter()
    app = _app(url, directory)
    with app.app_context():
        from portfolio.catalogue import services as catalogue
        from tests.helpers.app import migrate_with_catalogue

        migrate_with_catalogue(catalogue.load_builtin_specs())
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--learners", str(learners)])
    if result.exit_code != 0:
        raise RuntimeError(f"the generator failed: {result.output}")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
    admin.dispose()
    summary = next(line for line in result.output.splitlines() if line.startswith("Generated"))
    return url, (f"generated in {time.perf_counter() - started:.0f} s with VACUUM ANALYZE "
                 f"({summary.removeprefix('Generated ').rstrip('.')})")


def _upgrade(url: str, directory: Path) -> None:
    """Bring a reused database to the newest migration (indexes added since it was made)."""
    from flask_migrate import upgrade

    from portfolio.demo.cli import vacuum_analyze
    from portfolio.extensions import db

    app = _app(url, directory)
    with app.app_context():
        upgrade()
        vacuum_analyze(db.engine)
        db.engine.dispose()


def _app(url: str, directory: Path):
    from portfolio import create_app
    from portfolio.config import Settings

    return create_app(Settings(instance_path=directory / "instance", database_url=url,
                               secret_key="bench", s3_endpoint_url="http://127.0.0.1:9"))


def _measure(urls: dict[int, str], directory: Path):
    """Per size and page, (median seconds, statements); and the large tables the page's plans
    read whole. The sizes take turns call by call, so a change in the machine's load falls on
    both."""
    from portfolio.extensions import db
    from tests.helpers.queries import count_queries
    from tests.helpers.scale import large_tables, logged_in, plans_reading_whole, scale_pages

    apps, pages, large, engines = {}, {}, {}, {}
    for learners, url in urls.items():
        apps[learners] = app = _app(url, directory)
        with app.app_context():
            pages[learners] = scale_pages(db.session)
            large[learners] = large_tables(db.session, LARGE_ROWS)
            engines[learners] = db.engine
            db.session.remove()
    figures = {learners: {} for learners in urls}
    for index in range(len(pages[SIZES[0]])):
        clients = {n: logged_in(apps[n], pages[n][index].email) for n in urls}
        timings, queries = {n: [] for n in urls}, {}
        for call in range(WARM_UP + REPEAT):
            for learners in urls:
                page = pages[learners][index]
                with count_queries(engines[learners]) as statements:
                    start = time.perf_counter()
                    response = clients[learners].get(page.path)
                    elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    raise RuntimeError(f"GET {page.path} answered {response.status_code}")
                if call >= WARM_UP:
                    timings[learners].append(elapsed)
                queries[learners] = len(statements)
        for learners in urls:
            figures[learners][pages[learners][index].name] = (
                statistics.median(timings[learners]), queries[learners])
    whole = {learners: {page.name: sorted({table for tables, _ in plans_reading_whole(
        apps[learners], page, large[learners], planner_as_is=True) for table in tables})
                        for page in pages[learners]} for learners in urls}
    for engine in engines.values():
        engine.dispose()
    return figures, whole


if __name__ == "__main__":
    for line in run():
        print(line, flush=True)
