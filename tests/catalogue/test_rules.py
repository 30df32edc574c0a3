"""The rules-of-combination engine's evaluate: worked examples, then properties against brute force.

The plan is tested in test_planning; the material both use is in brute_force."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.catalogue.rules import Group, LevelRule, Rules, evaluate
from tests.helpers.brute_force import (
    NVQ_LIKE,
    brute_evaluate,
    may_count_together,
    rule_sets,
    score,
    structure,
)


def test_complete_portfolio_is_achieved():
    result = evaluate(NVQ_LIKE, ["01", "02", "03", "04", "16", "21"])
    assert result.achieved
    assert result.total_credits == 22
    assert result.group_credits == {"A": 6, "B": 9, "C": 7}
    assert result.level_credits[0][1] == 20
    assert result.shortfalls == ()


def test_shortfalls_are_sentences_a_learner_understands():
    result = evaluate(NVQ_LIKE, ["01", "03", "13"])
    assert not result.achieved
    assert [s.message for s in result.shortfalls] == [
        "unit 02 (mandatory) not yet achieved",
        "1 more credit needed from Group B",
        "2 more credits needed from Group B or Group C",
        "4 more credits needed at level 2 or above",
        "10 more credits needed in total",
    ]


def test_barred_pair_counts_the_unit_that_serves_the_rules_best():
    result = evaluate(NVQ_LIKE, ["01", "02", "13", "16"])
    assert "16" in result.counted_units and "13" not in result.counted_units
    assert [(e.unit, e.reason) for e in result.excluded_units] == [
        ("13", "barred with unit 16, which counts instead")]


def test_barred_choice_follows_the_rules_not_the_credits():
    # 13 is the smaller unit but the only one in the group whose minimum is unmet.
    rules = Rules(min_credits=3,
                  groups=(Group("A", ("x",), min_credits=2), Group("B", ("y",))),
                  barred=(("x", "y"),))
    shaped = structure([("x", 2, 2, 1), ("y", 2, 5, 1)], rules)
    result = evaluate(shaped, ["x", "y"])
    assert result.counted_units == ("x",)
    assert [s.message for s in result.shortfalls] == ["1 more credit needed in total"]


def test_units_outside_the_qualification_are_excluded():
    result = evaluate(NVQ_LIKE, ["01", "999"])
    assert ("999", "not in this qualification") in [(e.unit, e.reason) for e in result.excluded_units]


def test_exact_level_rule_ignores_higher_levels():
    rules = Rules(min_credits=1, groups=(Group("A", ("a", "b")),), levels=(LevelRule(2, 4, True),))
    shaped = structure([("a", 3, 5, 1), ("b", 2, 2, 1)], rules)
    result = evaluate(shaped, ["a", "b"])
    assert result.level_credits[0][1] == 2
    assert [s.message for s in result.shortfalls] == ["2 more credits needed at level 2"]


def test_group_maximum_limits_what_counts():
    rules = Rules(min_credits=6, groups=(Group("A", ("a", "b", "c"), max_units=2),))
    shaped = structure([("a", 2, 1, 1), ("b", 2, 3, 1), ("c", 2, 3, 1)], rules)
    result = evaluate(shaped, ["a", "b", "c"])
    assert result.achieved and result.counted_units == ("b", "c")
    assert result.excluded_units[0].reason == "beyond the maximum of 2 units from Group A"


def test_engine_imports_no_web_framework_or_database():
    code = ("import sys, portfolio.catalogue.rules, portfolio.catalogue.planning, "
            "portfolio.catalogue.spec, portfolio.catalogue.validation; "
            "bad = {'flask', 'sqlalchemy', 'werkzeug'} & set(sys.modules); "
            "print(','.join(sorted(bad))); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), shaped=rule_sets())
def test_evaluate_matches_brute_force_on_random_rules(data, shaped):
    achieved = set(data.draw(st.lists(st.sampled_from(list(shaped.units)), unique=True)))
    result = evaluate(shaped, achieved)
    expected = brute_evaluate(shaped, achieved)
    counted = set(result.counted_units)
    assert may_count_together(shaped, counted)
    assert score(shaped, counted) == expected
    assert result.achieved == (expected[0] == 0)
    assert len(result.shortfalls) == expected[0]
    assert sum(s.amount for s in result.shortfalls) == expected[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_evaluate_matches_brute_force_on_the_builtin_qualifications(builtin_specs, data):
    shaped = builtin_specs[data.draw(st.sampled_from(sorted(builtin_specs)))].structure
    achieved = set(data.draw(st.lists(st.sampled_from(list(shaped.units)), unique=True,
                                      max_size=10)))
    result = evaluate(shaped, achieved)
    assert score(shaped, set(result.counted_units)) == brute_evaluate(shaped, achieved)
