"""The rules-of-combination engine: worked examples, then properties against brute force."""

from __future__ import annotations

import itertools
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.catalogue.rules import (
    Group,
    LevelRule,
    Pool,
    Rules,
    Structure,
    UnitRef,
    evaluate,
    plan,
)


def structure(units, rules):
    return Structure([UnitRef(*u) for u in units], rules)


# Loosely the NCFE NVQ: mandatory A, B with a minimum, a pool over B and C, a level rule, barred.
NVQ_LIKE = structure(
    [("01", 2, 4, 5), ("02", 1, 2, 4), ("03", 2, 4, 6), ("04", 2, 5, 7), ("09", 3, 5, 9),
     ("13", 1, 2, 3), ("16", 2, 3, 5), ("20", 2, 2, 2), ("21", 2, 4, 8)],
    Rules(min_credits=20,
          groups=(Group("A", ("01", "02"), mandatory=True),
                  Group("B", ("03", "04", "09"), min_credits=5),
                  Group("C", ("13", "16", "20", "21"))),
          pools=(Pool(("B", "C"), 4),),
          levels=(LevelRule(2, 12),),
          barred=(("13", "16"),)))


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


def test_plan_prefers_fewest_credits_then_fewest_criteria():
    result = plan(NVQ_LIKE, ["01", "02", "03"])
    # Every 9-credit addition (04 + 21, 09 + 21) leaves the total one short. Of the 10-credit ones,
    # 04 + 16 + 20 has 14 criteria; 04 + 09 and 09 + 16 + 20 have 16.
    assert (result.units, result.additional_credits, result.open_criteria) == (
        ("04", "16", "20"), 10, 14)
    assert evaluate(NVQ_LIKE, {"01", "02", "03", *result.units}).achieved
    assert _brute_plan(NVQ_LIKE, {"01", "02", "03"}, {}) == (10, 14)


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


def test_engine_imports_no_web_framework_or_database():
    code = ("import sys, portfolio.catalogue.rules, portfolio.catalogue.spec; "
            "bad = {'flask', 'sqlalchemy', 'werkzeug'} & set(sys.modules); "
            "print(','.join(sorted(bad))); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------------ brute-force references


def _score(structure_, counted):
    """The rule check, written independently of the engine: (unmet rules, total deficit, credits)."""
    units, rules = structure_.units, structure_.rules
    group_of = {n: g for g in rules.groups for n in g.units}
    unmet, deficit = 0, 0

    def need(have, required):
        nonlocal unmet, deficit
        if have < required:
            unmet += 1
            deficit += required - have

    credits = {g.id: sum(units[n].credit for n in counted if group_of[n] is g) for g in rules.groups}
    for g in rules.groups:
        if g.mandatory:
            for n in g.units:
                need(1 if n in counted else 0, 1)
        need(credits[g.id], g.min_credits or 0)
        need(sum(1 for n in counted if group_of[n] is g), g.min_units or 0)
    by_id = {g.id: g for g in rules.groups}
    for pool in rules.pools:
        need(sum(max(0, credits[g] - (by_id[g].min_credits or 0)) for g in pool.groups),
             pool.min_credits)
    for rule in rules.levels:
        ok = (lambda lv, r=rule: lv == r.level) if rule.exactly else (lambda lv, r=rule: lv >= r.level)
        need(sum(units[n].credit for n in counted if ok(units[n].level)), rule.min_credits)
    total = sum(credits.values())
    need(total, rules.min_credits)
    return unmet, deficit, -total


def _may_count_together(structure_, counted):
    rules, units = structure_.rules, structure_.units
    if any(a in counted and b in counted for a, b in rules.barred):
        return False
    for g in rules.groups:
        members = [n for n in counted if n in g.units]
        if g.max_units is not None and len(members) > g.max_units:
            return False
        if g.max_credits is not None and sum(units[n].credit for n in members) > g.max_credits:
            return False
    return True


def _brute_evaluate(structure_, achieved):
    inside = [n for n in structure_.units if n in achieved]
    return min(
        _score(structure_, set(subset))
        for size in range(len(inside) + 1)
        for subset in itertools.combinations(inside, size)
        if _may_count_together(structure_, set(subset))
    )


def _brute_plan(structure_, achieved, open_criteria):
    candidates = [n for n in structure_.units if n not in achieved]
    best = None
    for size in range(len(candidates) + 1):
        for added in itertools.combinations(candidates, size):
            if _brute_evaluate(structure_, achieved | set(added))[0] == 0:
                cost = (sum(structure_.units[n].credit for n in added),
                        sum(open_criteria.get(n, structure_.units[n].criteria) for n in added))
                best = cost if best is None else min(best, cost)
    return best


# ------------------------------------------------------------------------ random rule sets


@st.composite
def rule_sets(draw, max_units=8):
    count = draw(st.integers(2, max_units))
    numbers = [f"u{i}" for i in range(count)]
    units = [UnitRef(n, draw(st.integers(1, 4)), draw(st.integers(1, 6)), draw(st.integers(1, 9)))
             for n in numbers]
    group_count = draw(st.integers(1, 3))
    assignment = [draw(st.integers(0, group_count - 1)) for _ in numbers]
    groups = []
    for gid in range(group_count):
        members = tuple(n for n, a in zip(numbers, assignment, strict=True) if a == gid)
        if not members:
            continue
        optional = st.none() | st.integers(0, 8)
        groups.append(Group(
            id=chr(65 + gid), units=members,
            mandatory=gid == 0 and draw(st.booleans()),
            min_credits=draw(optional), max_credits=draw(st.none() | st.integers(2, 14)),
            min_units=draw(st.none() | st.integers(0, 3)), max_units=draw(st.none() | st.integers(1, 4)),
        ))
    ids = [g.id for g in groups]
    pools = ()
    if len(ids) > 1 and draw(st.booleans()):
        pools = (Pool(tuple(draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2,
                                          unique=True))), draw(st.integers(1, 8))),)
    levels = tuple(LevelRule(draw(st.integers(1, 4)), draw(st.integers(1, 10)), draw(st.booleans()))
                   for _ in range(draw(st.integers(0, 2))))
    pairs = list(itertools.combinations(numbers, 2))
    barred = tuple(draw(st.lists(st.sampled_from(pairs), max_size=3, unique=True)))
    rules = Rules(min_credits=draw(st.integers(1, 20)), groups=tuple(groups), pools=pools,
                  levels=levels, barred=barred)
    return Structure(units, rules)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), shaped=rule_sets())
def test_evaluate_matches_brute_force_on_random_rules(data, shaped):
    achieved = set(data.draw(st.lists(st.sampled_from(list(shaped.units)), unique=True)))
    result = evaluate(shaped, achieved)
    expected = _brute_evaluate(shaped, achieved)
    counted = set(result.counted_units)
    assert _may_count_together(shaped, counted)
    assert _score(shaped, counted) == expected
    assert result.achieved == (expected[0] == 0)
    assert len(result.shortfalls) == expected[0]
    assert sum(s.amount for s in result.shortfalls) == expected[1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), shaped=rule_sets())
def test_plan_matches_brute_force_on_random_rules(data, shaped):
    numbers = list(shaped.units)
    achieved = set(data.draw(st.lists(st.sampled_from(numbers), unique=True)))
    open_criteria = data.draw(st.dictionaries(st.sampled_from(numbers), st.integers(0, 9)))
    result = plan(shaped, achieved, open_criteria)
    expected = _brute_plan(shaped, achieved, open_criteria)
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


# ------------------------------------------------------------------- the built-in qualifications


def _restricted(shaped: Structure, keep: set[str]) -> Structure:
    """The same rules over fewer units, small enough for brute force."""
    rules = shaped.rules
    groups = tuple(
        Group(g.id, tuple(n for n in g.units if n in keep), g.title, g.mandatory, g.min_credits,
              g.max_credits, g.min_units, g.max_units)
        for g in rules.groups)
    barred = tuple(p for p in rules.barred if set(p) <= keep)
    return Structure([u for n, u in shaped.units.items() if n in keep],
                     Rules(rules.min_credits, groups, rules.pools, rules.levels, barred))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_evaluate_matches_brute_force_on_the_builtin_qualifications(builtin_specs, data):
    shaped = builtin_specs[data.draw(st.sampled_from(sorted(builtin_specs)))].structure
    achieved = set(data.draw(st.lists(st.sampled_from(list(shaped.units)), unique=True,
                                      max_size=10)))
    result = evaluate(shaped, achieved)
    assert _score(shaped, set(result.counted_units)) == _brute_evaluate(shaped, achieved)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_plan_matches_brute_force_on_the_builtin_qualifications(builtin_specs, data):
    shaped = builtin_specs[data.draw(st.sampled_from(sorted(builtin_specs)))].structure
    numbers = list(shaped.units)
    keep = set(data.draw(st.lists(st.sampled_from(numbers), unique=True, min_size=1,
                                  max_size=8)))
    keep |= shaped.mandatory if len(shaped.mandatory) <= 4 else set()
    small = _restricted(shaped, keep)
    achieved = set(data.draw(st.lists(st.sampled_from(sorted(keep)), unique=True)))
    result = plan(small, achieved)
    expected = _brute_plan(small, achieved, {})
    assert (None if result is None else (result.additional_credits, result.open_criteria)) == expected
