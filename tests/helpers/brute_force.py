"""The rules engine's test material, shared by test_rules (evaluate) and test_planning (plan): a
worked example, brute-force references written independently of the engine, random rule sets."""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

from portfolio.catalogue.rules import Group, LevelRule, Pool, Rules, Structure, UnitRef


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


# ------------------------------------------------------------------------ brute-force references


def score(structure_, counted):
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


def may_count_together(structure_, counted):
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


def brute_evaluate(structure_, achieved):
    inside = [n for n in structure_.units if n in achieved]
    return min(
        score(structure_, set(subset))
        for size in range(len(inside) + 1)
        for subset in itertools.combinations(inside, size)
        if may_count_together(structure_, set(subset))
    )


def brute_plan(structure_, achieved, open_criteria):
    candidates = [n for n in structure_.units if n not in achieved]
    best = None
    for size in range(len(candidates) + 1):
        for added in itertools.combinations(candidates, size):
            if brute_evaluate(structure_, achieved | set(added))[0] == 0:
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


# ------------------------------------------------------------------- the built-in qualifications


def restricted(shaped: Structure, keep: set[str]) -> Structure:
    """The same rules over fewer units, small enough for brute force."""
    rules = shaped.rules
    groups = tuple(
        Group(g.id, tuple(n for n in g.units if n in keep), g.title, g.mandatory, g.min_credits,
              g.max_credits, g.min_units, g.max_units)
        for g in rules.groups)
    barred = tuple(p for p in rules.barred if set(p) <= keep)
    return Structure([u for n, u in shaped.units.items() if n in keep],
                     Rules(rules.min_credits, groups, rules.pools, rules.levels, barred))
