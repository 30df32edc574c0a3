"""The pages measured at scale (``bench_scale``, ``tests/scale``) on a database of generated
centres (``portfolio demo generate``): the first centre's first assessor (about 60 learners),
their first learner's pages, the centre's admin and its first IQA (the assessor's)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa

from portfolio.accounts.models import Centre, Enrolment, User
from portfolio.catalogue import models as catalogue
from portfolio.demo.generate import CENTRE_NAME, DEMO_PASSWORD
from portfolio.extensions import db
from tests.helpers.web import log_in


@dataclass(frozen=True)
class Page:
    name: str
    #: Who looks at it.
    email: str
    path: str


def scale_pages(session) -> list[Page]:
    centre = session.scalar(sa.select(Centre).where(Centre.name.like(CENTRE_NAME.format(n="%")))
                            .order_by(Centre.id).limit(1))
    slug = centre.name.lower().replace(" ", "-")
    assessor = session.scalar(sa.select(User).where(User.email == f"assessor0@{slug}.test"))
    enrolment = session.scalar(sa.select(Enrolment.id).where(Enrolment.assessor_id == assessor.id)
                               .order_by(Enrolment.id).limit(1))
    return [Page("progress", assessor.email, f"/enrolments/{enrolment}/progress"),
            Page("grid", assessor.email, f"/enrolments/{enrolment}/grid"),
            Page("caseload", assessor.email, "/caseload"),
            Page("evidence list", assessor.email, f"/enrolments/{enrolment}/evidence"),
            Page("audit trail", f"admin@{slug}.test", "/admin/audit"),
            Page("IQA trail", f"iqa0@{slug}.test", "/quality/trail")]


def logged_in(app, email: str):
    """A test client of ``app`` logged in as the generated person ``email``."""
    client = app.test_client()
    response = log_in(client, email, DEMO_PASSWORD)
    if response.status_code != 302:
        raise RuntimeError(f"{email} could not log in ({response.status_code})")
    return client


def selects_of_get(app, client, path: str) -> list[tuple[str, object]]:
    """Each SELECT that ``client``'s GET of ``path`` sends, with its parameters."""
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return sent


def whole_reads(plan: dict, rows: dict[str, float] | None = None) -> list[str]:
    """The relations a plan (a node of EXPLAIN's JSON) reads whole, nested nodes too. Without
    ``rows``, by its shape: a sequential scan, or an index walked with no condition on it (what
    the planner does instead when sequential scans are off, or to return rows in the index's
    order). With ``rows`` (each table's rows) and an analysed plan, by what it did: a node that
    read at least half its table's rows, those its filter removed included."""
    relation = plan.get("Relation Name")
    if rows is None:
        whole = plan["Node Type"] == "Seq Scan" or (
            plan["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in plan)
    else:
        read = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * \
            plan.get("Actual Loops", 1)
        whole = relation in rows and read >= rows[relation] / 2
    found = [relation] if whole and relation else []
    for child in plan.get("Plans", []):
        found += whole_reads(child, rows)
    return found


def large_tables(session, rows: int) -> dict[str, float]:
    """Tables with at least ``rows`` rows by the statistics (ANALYZE first), with their rows,
    but the catalogue's: every centre shares it, and a version's units and criteria are read
    whole."""
    shared = {model.__tablename__ for model in (
        catalogue.Qualification, catalogue.QualificationVersion, catalogue.Unit,
        catalogue.LearningOutcome, catalogue.Criterion)}
    return {name: count for name, count in session.execute(sa.text(
        "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND reltuples >= :rows"
        " AND relnamespace = 'public'::regnamespace"), {"rows": rows}) if name not in shared}


def plans_reading_whole(app, page: Page, large: dict[str, float], *, planner_as_is: bool):
    """(tables, statement) of each SELECT of ``page`` whose plan, with its own parameters,
    reads a table of ``large`` whole. ``planner_as_is`` false asks whether an index could serve
    each read: the plan's shape with sequential scans, hash and merge joins off (the planner
    then scans, or walks a whole index, only where no index can serve). True runs each
    statement as the planner chooses (EXPLAIN ANALYZE) and reports the tables it did read at
    least half of."""
    statements = selects_of_get(app, logged_in(app, page.email), page.path)
    found = []
    with app.app_context(), db.engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        if not planner_as_is:
            for method in ("seqscan", "hashjoin", "mergejoin"):
                cursor.execute(f"SET LOCAL enable_{method} = off")
        explain = "EXPLAIN (ANALYZE, FORMAT JSON) " if planner_as_is else "EXPLAIN (FORMAT JSON) "
        for statement, parameters in statements:
            cursor.execute(explain + statement, parameters)
            plan = cursor.fetchone()[0]
            plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
            read = sorted(set(whole_reads(plan, large if planner_as_is else None)) & set(large))
            if read:
                found.append((read, " ".join(statement.split())))
        connection.rollback()
    return found
