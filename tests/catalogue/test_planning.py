"""Planning the least remaining work: worked examples, then properties against brute force."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.catalogue.planning import SearchTooLarge, plan
from portfolio.catalogue.rules import Group, Rules, evaluate
from tests.helpers.brute_force import NVQ_LIKE, brute_plan, restricted, rule_sets, structure


def test_plan_prefers_fewest_credits_then_fewest_criteria():
    result = plan(NVQ_LIKE, ["01", "02", "03"])
    # Every 9-credit addition (04 + 21, 09 + 21) leaves the total one short. Of the 10-credit ones,
    # 04 + 16 + 20 has 14 criteria; 04 + 09 and 09 + 16 + 20 have 16.
    assert (result.units, result.additional_credits, result.open_criteria) == (
        ("04", "16", "20"), 10, 14)
    assert evaluate(NVQ_LIKE, {"01", "02", "03", *result.units}).achieved
    assert brute_plan(NVQ_LIKE, {"01", "02", "03"}, {}) == (10, 14)


def test_plan_uses_open_criteria_counts():
    rules = Rules(min_credits=4, groups=(Group("A", ("a", "b")),))
    shaped = structure([("a", 2, 4, 10), ("b", 2, 4, 10)], rules)
    assert plan(shaped, [], {"a": 9, "b": 1}).units == ("b",)
    assert plan(shaped, [], {"a": 1, "b": 9}).units == ("a",)


def test_plan_of_an_achieved_qualification_is_empty():
    result = plan(NVQ_LIKE, ["01", "02", "03", "04", "16", "21"])
    assert (result.units, result.additional_credits) == ((), 0)


def test_plan_reports_impossible_rules():
    rules = Rules(min_credits=10, groups=(Group("A", ("a",)),))
    assert plan(structure([("a", 2, 4, 1)], rules), []) is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), shaped=rule_sets())
def test_plan_matches_brute_force_on_random_rules(data, shaped):
    numbers = list(shaped.units)
    achieved = set(data.draw(st.lists(st.sampled_from(numbers), unique=True)))
    open_criteria = data.draw(st.dictionaries(st.sampled_from(numbers), st.integers(0, 9)))
    result = plan(shaped, achieved, open_criteria)
    expected = brute_plan(shaped, achieved, open_criteria)
    if expected is None:
        assert result is None
        return
    assert result is not None
    assert (result.additional_credits, result.open_criteria) == expected
    assert not set(result.units) & achieved
    assert evaluate(shaped, achieved | set(result.units)).achieved
    recomputed = (sum(shaped.units[n].credit for n in result.units),
                  sum(open_criteria.get(n, shaped.units[n].criteria) for n in result.units))
    assert recomputed == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_plan_matches_brute_force_on_the_builtin_qualifications(builtin_specs, data):
    shaped = builtin_specs[data.draw(st.sampled_from(sorted(builtin_specs)))].structure
    numbers = list(shaped.units)
    keep = set(data.draw(st.lists(st.sampled_from(numbers), unique=True, min_size=1,
                                  max_size=8)))
    keep |= shaped.mandatory if len(shaped.mandatory) <= 4 else set()
    small = restricted(shaped, keep)
    achieved = set(data.draw(st.lists(st.sampled_from(sorted(keep)), unique=True)))
    result = plan(small, achieved)
    expected = brute_plan(small, achieved, {})
    assert (None if result is None else (result.additional_credits, result.open_criteria)) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), shaped=rule_sets(), budget=st.integers(0, 3000))
def test_a_bounded_plan_is_exact_or_refused(data, shaped, budget):
    """A budget never changes an answer: the plan is brute force's, or the search stops."""
    numbers = list(shaped.units)
    achieved = set(data.draw(st.lists(st.sampled_from(numbers), unique=True)))
    try:
        result = plan(shaped, achieved, budget=budget)
    except SearchTooLarge as refused:
        assert refused.budget == budget
        return
    expected = brute_plan(shaped, achieved, {})
    assert (None if result is None else (result.additional_credits, result.open_criteria)) == expected


def test_a_budget_stops_a_search_that_grows_exponentially():
    """Forty units in a chain of barred pairs: 2**40 subsets to look at, refused at once."""
    numbers = [f"u{i}" for i in range(40)]
    chain = Rules(min_credits=20, groups=(Group("A", tuple(numbers)),),
                  barred=tuple(itertools.pairwise(numbers)))
    shaped = structure([(n, 2, 1, 1) for n in numbers], chain)
    with pytest.raises(SearchTooLarge):
        plan(shaped, [], budget=100_000)
