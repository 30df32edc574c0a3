"""The progress page, the tracking grid, the evidence list and the caseload take a number of SQL
queries that does not grow with the portfolio (2,000 items, 5,000 claims on the 47-unit diploma)
nor, for the caseload, with the number of learners."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.assessment.pathway import choose_pathway
from tests.helpers.assessment_data import DIPLOMA, seed_portfolio
from tests.helpers.factories import make_enrolment, make_user
from tests.helpers.queries import statements_of_get


def _diploma_learner(session, people, n: int):
    """A learner of assessor1's on the diploma (loading the fixtures' people again: measuring
    detaches them)."""
    centre, assessor, iqa = (session.get(type(p), sa.inspect(p).identity[0])
                             for p in (people.centre, people.assessor1, people.iqa1))
    learner = make_user(session, centre, f"diploma{n}@north.test", "learner",
                        name=f"Diploma Learner {n:02d}")
    return make_enrolment(session, learner, assessor, iqa, DIPLOMA)


@pytest.mark.parametrize("viewer", ["assessor", "learner"])
@pytest.mark.parametrize("page", ["progress", "grid", "evidence"])
def test_portfolio_pages_do_not_grow_with_the_portfolio(login, people, session, page, viewer):
    """Both viewers: the assessor who signed units off is already in the session when they look,
    the learner is not, so a lazy load of the sign-offs' assessors shows only to the learner."""
    enrolment = _diploma_learner(session, people, 1)
    client = login(people.assessor1 if viewer == "assessor" else enrolment.learner)
    url = f"/enrolments/{enrolment.id}/{page}"
    seed_portfolio(session, enrolment, items=10, claims=25, rng_seed=1)
    statements_of_get(client, session, url)  # the catalogue tree is cached on first use
    small = statements_of_get(client, session, url)

    summary = seed_portfolio(session, enrolment, items=2000, claims=5000, rng_seed=2)
    assert summary.decisions > 1000 and summary.superseded > 0 and summary.sign_offs > 0
    large = statements_of_get(client, session, url)
    assert len(large) == len(small), _difference(small, large)


def test_caseload_does_not_grow_with_the_learners(login, people, session):
    client = login(people.assessor1)
    for n in range(2):
        seed_portfolio(session, _diploma_learner(session, people, n), items=60, claims=150,
                       rng_seed=n)
    statements_of_get(client, session, "/caseload")
    few = statements_of_get(client, session, "/caseload")

    for n in range(2, 12):
        seed_portfolio(session, _diploma_learner(session, people, n), items=60, claims=150,
                       rng_seed=n)
    many = statements_of_get(client, session, "/caseload")
    page = client.get("/caseload").get_data(as_text=True)
    assert "13 learner(s)" in page  # the twelve, and enrolment1 from the fixtures
    assert len(many) == len(few), _difference(few, many)


def _difference(before: list[str], after: list[str]) -> str:
    def short(statements):
        return [" ".join(s.split())[:160] for s in statements]

    return ("queries before:\n  " + "\n  ".join(short(before))
            + "\nqueries after:\n  " + "\n  ".join(short(after)))


def test_pathways_keep_the_counts_constant(login, people, session):
    """With pathways chosen (and re-chosen: a history to show), the progress page does not grow
    with the portfolio nor the caseload with the learners."""
    client = login(people.assessor1)
    enrolments = [_diploma_learner(session, people, n) for n in range(12)]
    for n, enrolment in enumerate(enrolments):
        for optional in ("5", "6"):
            choose_pathway(session, enrolment, people.assessor1, [optional])
        seed_portfolio(session, enrolment, items=10, claims=25, rng_seed=n)
    url = f"/enrolments/{enrolments[0].id}/progress"
    statements_of_get(client, session, url)
    small = statements_of_get(client, session, url)
    seed_portfolio(session, enrolments[0], items=2000, claims=5000, rng_seed=99)
    large = statements_of_get(client, session, url)
    assert len(large) == len(small), _difference(small, large)

    statements_of_get(client, session, "/caseload")
    few = statements_of_get(client, session, "/caseload")
    assert "of all units: no pathway chosen" in client.get("/caseload").get_data(as_text=True)
    for n in range(12, 20):
        choose_pathway(session, _diploma_learner(session, people, n), people.assessor1, ["5"])
    many = statements_of_get(client, session, "/caseload")
    assert len(many) == len(few), _difference(few, many)
