"""Criterion statuses kept between requests: whatever changes a portfolio, in whatever order, the
kept statuses are the ones read afresh, and nothing read inside a transaction that wrote and then
rolled back is ever served."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.assessment import criterion_states as states
from portfolio.assessment.caseload import caseload
from portfolio.evidence import services as evidence
from tests.helpers.assessment import add_item, criteria_of, decide, progress
from tests.helpers.queries import count_queries


def kept_and_fresh(session, enrolment):
    return (states.criterion_states(session, [enrolment.id])[enrolment.id],
            states._read(session, [enrolment.id])[enrolment.id])


changes = st.lists(st.one_of(
    st.tuples(st.just("add"), st.sets(st.integers(0, 5), min_size=1)),
    st.tuples(st.just("claims"), st.integers(0, 20), st.sets(st.integers(0, 5), min_size=1)),
    st.tuples(st.just("withdraw"), st.integers(0, 20)),
    st.tuples(st.just("decide"), st.integers(0, 20), st.sampled_from(["met", "not_yet_met"])),
), min_size=1, max_size=8)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes)
def test_kept_statuses_are_always_those_read_afresh(session, people, steps):
    enrolment = people.enrolment1
    criteria = criteria_of(session, enrolment, "301", 6)
    items = []
    for step in steps:
        live = [i for i in items if not i.is_withdrawn]
        if step[0] == "add":
            items.append(add_item(session, enrolment, [criteria[n] for n in step[1]]))
        elif step[0] == "claims" and live:
            item = live[step[1] % len(live)]
            if item.judged_at is None:
                evidence.change_claims(session, item, people.learner1,
                                       [criteria[n] for n in step[2]])
        elif step[0] == "withdraw" and live:
            item = live[step[1] % len(live)]
            if item.judged_at is None:
                evidence.withdraw(session, item, people.learner1)
        elif step[0] == "decide" and live:
            item = live[step[1] % len(live)]
            decide(session, item, people.assessor1, [c.criterion_id for c in item.claims],
                   outcome=step[2], reason="Judged again on this item.")
        session.commit()
        kept, fresh = kept_and_fresh(session, enrolment)
        assert kept == fresh


def test_what_a_rolled_back_transaction_read_is_never_served(session, people):
    enrolment = people.enrolment1
    (criterion,) = criteria_of(session, enrolment, "301", 1)
    item = add_item(session, enrolment, [criterion])
    session.commit()
    assert progress(session, enrolment).state(criterion).status == "claimed"

    decide(session, item, people.assessor1, [criterion], outcome="met")
    assert progress(session, enrolment).state(criterion).status == "met"
    session.rollback()
    # On SQLite the next decision takes the rolled-back one's id: the same count and the same
    # latest id, with another outcome.
    decide(session, item, people.assessor1, [criterion], outcome="not_yet_met")
    session.commit()

    assert progress(session, enrolment).state(criterion).status == "not_yet_met"


def test_a_kept_portfolio_is_read_with_one_query(session, people):
    enrolment = people.enrolment1
    add_item(session, enrolment, criteria_of(session, enrolment, "301", 3))
    session.commit()
    states.criterion_states(session, [enrolment.id])
    with count_queries() as queries:
        states.criterion_states(session, [enrolment.id])
    assert len(queries) == 1


def test_the_caseload_counts_follow_each_committed_decision(session, people):
    enrolment = people.enrolment1
    criteria = criteria_of(session, enrolment, "301", 3)
    item = add_item(session, enrolment, criteria)
    session.commit()
    for decided in range(1, 4):
        decide(session, item, people.assessor1, criteria[decided - 1:decided])
        session.commit()
        (row,) = [r for r in caseload(session, [enrolment])]
        assert row.criteria_met == decided
    decide(session, item, people.assessor1, criteria[:1], outcome="not_yet_met",
           reason="The call log belongs to another learner.")
    session.commit()
    assert caseload(session, [enrolment])[0].criteria_met == 2
