"""The rules-of-combination engine: pure Python, no Flask and no database.

Two questions are answered for a qualification's :class:`Structure`:

* :func:`evaluate` -- given the units a learner has achieved, is the qualification achieved, which
  units count (a barred pair or a group maximum can exclude one), how many credits count in total,
  per group and at each level rule, and what is still missing, in words a learner understands.
* :func:`~portfolio.catalogue.planning.plan` -- the least remaining work that completes the
  qualification: fewest additional credits, then fewest open assessment criteria. Solved exactly by
  dynamic programming over capped rule counters, never greedily (see
  :mod:`portfolio.catalogue.planning`).

This module owns the rules' data types, the compiled :class:`Structure` and :func:`evaluate`.

Semantics (also in docs/catalogue-format.md): a unit counts at most once, in the one group that lists
it; of a barred pair only one unit may count; ``max_credits``/``max_units`` limit which units of a
group may count; a pool's minimum is counted beyond the minimums of the groups it names.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class UnitRef:
    """What the engine needs to know of a unit."""

    number: str
    level: int
    credit: int
    criteria: int = 0


@dataclass(frozen=True)
class Group:
    id: str
    units: tuple[str, ...]
    title: str = ""
    mandatory: bool = False
    min_credits: int | None = None
    max_credits: int | None = None
    min_units: int | None = None
    max_units: int | None = None

    @property
    def label(self) -> str:
        return f"Group {self.id}"


@dataclass(frozen=True)
class Pool:
    groups: tuple[str, ...]
    min_credits: int


@dataclass(frozen=True)
class LevelRule:
    level: int
    min_credits: int
    exactly: bool = False

    def admits(self, level: int) -> bool:
        return level == self.level if self.exactly else level >= self.level

    @property
    def phrase(self) -> str:
        return f"at level {self.level}" + ("" if self.exactly else " or above")


@dataclass(frozen=True)
class Rules:
    min_credits: int
    groups: tuple[Group, ...]
    pools: tuple[Pool, ...] = ()
    levels: tuple[LevelRule, ...] = ()
    barred: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Shortfall:
    """One unmet rule. ``amount`` is in credits, or in units for ``min_units``/``mandatory``."""

    rule: str  # mandatory | group_credits | group_units | pool | level | total
    amount: int
    message: str
    group: str | None = None
    unit: str | None = None
    #: What the rule asks and what the counted units give, for messages phrased elsewhere.
    need: int = 0
    have: int = 0
    #: Where the rule applies, as a learner reads it ("Group B", "Group B or Group C",
    #: "at level 2 or above"); empty for the mandatory units and the total.
    scope: str = ""


@dataclass(frozen=True)
class Excluded:
    unit: str
    reason: str


@dataclass(frozen=True)
class Evaluation:
    achieved: bool
    total_credits: int
    group_credits: dict[str, int]
    level_credits: tuple[tuple[LevelRule, int], ...]
    counted_units: tuple[str, ...]
    excluded_units: tuple[Excluded, ...]
    shortfalls: tuple[Shortfall, ...]

    def as_dict(self) -> dict:
        return {
            "achieved": self.achieved,
            "credits": {
                "total": self.total_credits,
                "groups": dict(self.group_credits),
                "levels": [
                    {"level": rule.level, "exactly": rule.exactly, "credits": credits}
                    for rule, credits in self.level_credits
                ],
            },
            "counted_units": list(self.counted_units),
            "excluded_units": [{"unit": e.unit, "reason": e.reason} for e in self.excluded_units],
            "shortfalls": [s.message for s in self.shortfalls],
        }


class Structure:
    """A qualification version's units and rules, pre-compiled for repeated evaluation."""

    def __init__(self, units: Sequence[UnitRef], rules: Rules):
        self.units: dict[str, UnitRef] = {u.number: u for u in units}
        self.rules = rules
        self.order = {number: i for i, number in enumerate(self.units)}
        self.group_of: dict[str, Group] = {}
        for group in rules.groups:
            for number in group.units:
                self.group_of[number] = group
        self.mandatory = frozenset(u for g in rules.groups if g.mandatory for u in g.units)
        self.partners: dict[str, set[str]] = {number: set() for number in self.units}
        for a, b in rules.barred:
            self.partners[a].add(b)
            self.partners[b].add(a)

    def components(self, numbers: Iterable[str]) -> list[list[str]]:
        """Connected components of the barred graph restricted to ``numbers``, in unit order."""
        remaining = sorted(set(numbers), key=self.order.__getitem__)
        members = set(remaining)
        seen: set[str] = set()
        result = []
        for start in remaining:
            if start in seen:
                continue
            component, stack = [], [start]
            seen.add(start)
            while stack:
                current = stack.pop()
                component.append(current)
                for other in self.partners[current]:
                    if other in members and other not in seen:
                        seen.add(other)
                        stack.append(other)
            result.append(sorted(component, key=self.order.__getitem__))
        return result

    def independent(self, numbers: Sequence[str]) -> bool:
        chosen = set(numbers)
        return not any(self.partners[n] & chosen for n in numbers)


# --------------------------------------------------------------------------------------- evaluate


def structure_of(units, rules: Rules) -> Structure:
    """The rules engine's view of units (anything with number, level, credit and
    criteria_count) under ``rules``."""
    return Structure([UnitRef(u.number, u.level, u.credit, u.criteria_count) for u in units],
                     rules)


def evaluate(structure: Structure, achieved: Iterable[str]) -> Evaluation:
    """Whether ``achieved`` completes the qualification, choosing the counted units optimally."""
    achieved = set(achieved)
    inside = [n for n in structure.units if n in achieved]
    outside = sorted(achieved - set(structure.units))

    best_key, best = None, None
    for counted in _counted_selections(structure, inside):
        shortfalls, total = _shortfalls(structure, counted)
        key = (len(shortfalls), sum(s.amount for s in shortfalls), -total)
        if best_key is None or key < best_key:
            best_key, best = key, (counted, shortfalls)
    counted, shortfalls = best

    counted_set = set(counted)
    excluded = [Excluded(n, "not in this qualification") for n in outside]
    for number in inside:
        if number not in counted_set:
            excluded.append(Excluded(number, _exclusion_reason(structure, number, counted_set)))

    group_credits = {g.id: 0 for g in structure.rules.groups}
    for number in counted:
        group_credits[structure.group_of[number].id] += structure.units[number].credit
    level_credits = tuple(
        (rule, sum(structure.units[n].credit for n in counted
                   if rule.admits(structure.units[n].level)))
        for rule in structure.rules.levels
    )
    return Evaluation(
        achieved=not shortfalls,
        total_credits=sum(group_credits.values()),
        group_credits=group_credits,
        level_credits=level_credits,
        counted_units=tuple(counted),
        excluded_units=tuple(excluded),
        shortfalls=tuple(shortfalls),
    )


def _counted_selections(structure: Structure, inside: Sequence[str]):
    """Every maximal set of achieved units that may count together, in a deterministic order.

    Units constrain each other only through a barred pair or a group maximum; all other units
    always count. The choices are made per cluster of units linked by those constraints.
    """
    clusters = _constraint_clusters(structure, inside)
    per_cluster = [_maximal_feasible_subsets(structure, cluster) for cluster in clusters]
    for choice in itertools.product(*per_cluster):
        chosen = set().union(*choice)
        yield [n for n in inside if n in chosen]


def _constraint_clusters(structure: Structure, numbers: Sequence[str]) -> list[list[str]]:
    parent = {n: n for n in numbers}

    def find(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    members = set(numbers)
    by_capped_group: dict[str, str] = {}
    for n in numbers:
        for other in structure.partners[n] & members:
            parent[find(n)] = find(other)
        group = structure.group_of[n]
        if group.max_credits is not None or group.max_units is not None:
            if group.id in by_capped_group:
                parent[find(n)] = find(by_capped_group[group.id])
            else:
                by_capped_group[group.id] = n
    clusters: dict[str, list[str]] = {}
    for n in numbers:
        clusters.setdefault(find(n), []).append(n)
    return list(clusters.values())


def _fits_group_maximums(structure: Structure, numbers: Iterable[str]) -> bool:
    credits: dict[str, int] = {}
    units: dict[str, int] = {}
    for n in numbers:
        gid = structure.group_of[n].id
        credits[gid] = credits.get(gid, 0) + structure.units[n].credit
        units[gid] = units.get(gid, 0) + 1
    for group in structure.rules.groups:
        if group.max_credits is not None and credits.get(group.id, 0) > group.max_credits:
            return False
        if group.max_units is not None and units.get(group.id, 0) > group.max_units:
            return False
    return True


def _maximal_feasible_subsets(structure: Structure, cluster: Sequence[str]) -> list[frozenset]:
    if len(cluster) == 1 and _fits_group_maximums(structure, cluster):
        return [frozenset(cluster)]
    feasible = []
    for size in range(len(cluster), -1, -1):
        for subset in itertools.combinations(cluster, size):
            if not structure.independent(subset) or not _fits_group_maximums(structure, subset):
                continue
            candidate = frozenset(subset)
            if not any(candidate < bigger for bigger in feasible):
                feasible.append(candidate)
    return feasible


def _shortfalls(structure: Structure, counted: Sequence[str]) -> tuple[list[Shortfall], int]:
    rules = structure.rules
    units = structure.units
    counted_set = set(counted)
    shortfalls: list[Shortfall] = []
    group_credits = {g.id: 0 for g in rules.groups}
    group_units = {g.id: 0 for g in rules.groups}
    for n in counted:
        gid = structure.group_of[n].id
        group_credits[gid] += units[n].credit
        group_units[gid] += 1
    total = sum(group_credits.values())

    for group in rules.groups:
        if group.mandatory:
            for n in group.units:
                if n not in counted_set:
                    shortfalls.append(Shortfall(
                        "mandatory", 1, f"unit {n} (mandatory) not yet achieved",
                        group=group.id, unit=n))
        if group.min_credits and group_credits[group.id] < group.min_credits:
            missing = group.min_credits - group_credits[group.id]
            shortfalls.append(Shortfall(
                "group_credits", missing,
                f"{_more_credits(missing)} needed from {group.label}", group=group.id,
                need=group.min_credits, have=group_credits[group.id], scope=group.label))
        if group.min_units and group_units[group.id] < group.min_units:
            missing = group.min_units - group_units[group.id]
            noun = "unit" if missing == 1 else "units"
            shortfalls.append(Shortfall(
                "group_units", missing, f"{missing} more {noun} needed from {group.label}",
                group=group.id, need=group.min_units, have=group_units[group.id],
                scope=group.label))
    groups = {g.id: g for g in rules.groups}
    for pool in rules.pools:
        beyond = sum(max(0, group_credits[g] - (groups[g].min_credits or 0)) for g in pool.groups)
        if beyond < pool.min_credits:
            missing = pool.min_credits - beyond
            names = " or ".join(groups[g].label for g in pool.groups)
            shortfalls.append(Shortfall("pool", missing, f"{_more_credits(missing)} needed from {names}",
                                        need=pool.min_credits, have=beyond, scope=names))
    for rule in rules.levels:
        have = sum(units[n].credit for n in counted if rule.admits(units[n].level))
        if have < rule.min_credits:
            missing = rule.min_credits - have
            shortfalls.append(Shortfall(
                "level", missing, f"{_more_credits(missing)} needed {rule.phrase}",
                need=rule.min_credits, have=have, scope=rule.phrase))
    if total < rules.min_credits:
        missing = rules.min_credits - total
        shortfalls.append(Shortfall("total", missing, f"{_more_credits(missing)} needed in total",
                                    need=rules.min_credits, have=total))
    return shortfalls, total


def _exclusion_reason(structure: Structure, number: str, counted: set[str]) -> str:
    partners = sorted(structure.partners[number] & counted, key=structure.order.__getitem__)
    if partners:
        return f"barred with unit {', '.join(partners)}, which counts instead"
    group = structure.group_of[number]
    limits = []
    if group.max_credits is not None:
        limits.append(f"{group.max_credits} credits")
    if group.max_units is not None:
        limits.append(f"{group.max_units} units")
    return f"beyond the maximum of {' and '.join(limits)} from {group.label}"


def _more_credits(n: int) -> str:
    return f"{n} more credit" if n == 1 else f"{n} more credits"
