"""The pages people use most read the large tables through indexes. On PostgreSQL, with
LEARNERS generated learners in small centres and fresh statistics, every SELECT each page sends
is explained with its own parameters, sequential scans (and hash and merge joins, which walk
whole indexes) off, and no plan may read a large table
whole: by a sequential scan (left only where no index can serve) or by walking an index with no
condition on it (a whole-table read in the index's order).

Sequential scans are off because at this size scanning a few thousand rows is often the
planner's right choice, where at an awarding body's size it is not: the question here is whether
an index serves each read. ``bench_scale`` explains the same statements at 50,000 learners with
the planner's own choices."""

from __future__ import annotations

import pytest

from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.databases import on_postgres
from tests.helpers.scale import large_tables, plans_reading_whole, scale_pages

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not on_postgres(), reason="query plans are PostgreSQL's")]

#: Small centres, so that one centre's rows are a small part of each table, as at scale.
LEARNERS, CENTRES = 3000, 30
#: A table with at least this many rows is large; those the generator leaves (nearly) empty are
#: not (their plans are the planner's guess on no data).
LARGE_ROWS = 2000


@pytest.fixture(scope="module")
def scale_app(tmp_path_factory, builtin_specs):
    with app_on_new_database(tmp_path_factory.mktemp("scale"), builtin_specs.values()) as app:
        result = app.test_cli_runner().invoke(
            args=["demo", "generate", "--learners", str(LEARNERS), "--centres", str(CENTRES)])
        assert result.exit_code == 0, result.output
        yield app


def test_the_pages_read_large_tables_through_indexes(scale_app):
    with scale_app.app_context():
        pages = scale_pages(db.session)
        large = large_tables(db.session, LARGE_ROWS)
        db.session.remove()
    assert {"decisions", "criterion_claims", "evidence_items", "audit_events", "samples",
            "users", "enrolments"} <= set(large)
    problems = [f"{page.name}: {', '.join(tables)} read whole by\n{statement[:600]}"
                for page in pages
                for tables, statement in plans_reading_whole(scale_app, page, large,
                                                             planner_as_is=False)]
    assert problems == [], "\n\n".join(problems)
