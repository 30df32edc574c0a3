"""Planning the least remaining work: pure Python, no Flask and no database.

:func:`plan` answers the second question about a qualification's
:class:`~portfolio.catalogue.rules.Structure` (the first, :func:`~portfolio.catalogue.rules.evaluate`,
is in :mod:`portfolio.catalogue.rules`, with the data types and the semantics of the rules): the
least remaining work that completes the qualification -- fewest additional credits, then fewest open
assessment criteria. Solved exactly by dynamic programming over capped rule counters, never greedily.

This module owns the :class:`Plan` result, the counters and the dynamic programme; it reads a
structure only through its public attributes.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from portfolio.catalogue.rules import Structure


@dataclass(frozen=True)
class Plan:
    units: tuple[str, ...]
    additional_credits: int
    open_criteria: int

    def as_dict(self) -> dict:
        return {
            "units": list(self.units),
            "additional_credits": self.additional_credits,
            "open_criteria": self.open_criteria,
        }


class SearchTooLarge(Exception):
    """The plan would take more steps than its budget: the rules are too complex to solve."""

    def __init__(self, budget: int):
        self.budget = budget
        super().__init__(f"planning needs more than {budget:,} steps")


class _Budget:
    """Steps a search may still take; ``None`` for no limit. Work is charged before it is done, so
    a search too large for the budget stops before its first expensive loop."""

    def __init__(self, steps: int | None):
        self.limit = self.left = steps

    def spend(self, steps: int) -> None:
        if self.left is None:
            return
        self.left -= steps
        if self.left < 0:
            raise SearchTooLarge(self.limit)


@dataclass(frozen=True)
class _Tracker:
    """A counter of the plan's search state.

    A *floor* counter (``limit is None``) is capped at ``need``: once it reaches the need, more makes
    no difference, which keeps the state space small. A *ceiling* counter counts exactly up to its
    ``limit`` and a state that passes the limit is infeasible.
    """

    contributions: dict[str, int] = field(compare=False, hash=False)
    need: int
    limit: int | None = None

    def cap(self) -> int:
        return self.limit if self.limit is not None else self.need


# Structures live long (the catalogue's tree keeps one per version) and are planned for again and
# again, so their counters are compiled once and kept as long as the structure is.
_compiled: weakref.WeakKeyDictionary[Structure, list[_Tracker]] = weakref.WeakKeyDictionary()


def _trackers_of(structure: Structure, budget: _Budget) -> list[_Tracker]:
    trackers = _compiled.get(structure)
    if trackers is None:
        # Two threads may both compile; they get equal counters and either may be kept.
        trackers = _compiled[structure] = _compile_trackers(structure, budget)
    return trackers


def _compile_trackers(structure: Structure, budget: _Budget) -> list[_Tracker]:
    rules, units = structure.rules, structure.units
    # Each counter below is built in a pass over the units.
    budget.spend(len(units) * (1 + 2 * len(rules.groups) + len(rules.pools) + len(rules.levels)))
    groups = {g.id: g for g in rules.groups}
    credit = {n: u.credit for n, u in units.items()}

    def restrict(values: Mapping[str, int], numbers: Iterable[str]) -> dict[str, int]:
        keep = set(numbers)
        return {n: v for n, v in values.items() if n in keep}

    trackers = [_Tracker(credit, rules.min_credits)]
    for group in rules.groups:
        members = group.units
        if group.min_credits or group.max_credits is not None:
            trackers.append(_Tracker(restrict(credit, members), group.min_credits or 0,
                                     group.max_credits))
        if group.min_units or group.max_units is not None:
            trackers.append(_Tracker({n: 1 for n in members}, group.min_units or 0,
                                     group.max_units))
    for pool in rules.pools:
        members = [n for g in pool.groups for n in groups[g].units]
        need = pool.min_credits + sum(groups[g].min_credits or 0 for g in pool.groups)
        trackers.append(_Tracker(restrict(credit, members), need))
    for rule in rules.levels:
        admitted = [n for n, u in units.items() if rule.admits(u.level)]
        trackers.append(_Tracker(restrict(credit, admitted), rule.min_credits))
    trackers = [t for t in trackers if t.cap() > 0]

    # A floor counter is implied by another whose need is no smaller and whose contributions are no
    # larger (e.g. "10 credits at level 2 or above" when every unit is at level 2 or above).
    # Contributions are positive, so only the other counter's units need comparing.
    def implied(a: _Tracker, b: _Tracker) -> bool:
        return (a.limit is None and b.limit is None and a.need <= b.need
                and all(a.contributions.get(n, 0) >= v for n, v in b.contributions.items()))

    budget.spend(len(trackers) ** 2)

    kept: list[_Tracker] = []
    for i, tracker in enumerate(trackers):
        if not any(j != i and implied(tracker, other) and (not implied(other, tracker) or j < i)
                   for j, other in enumerate(trackers)):
            kept.append(tracker)
    return kept


def plan(
    structure: Structure,
    achieved: Iterable[str],
    open_criteria: Mapping[str, int] | None = None,
    budget: int | None = None,
) -> Plan | None:
    """The least remaining work: the units to add, fewest credits first, then fewest criteria.

    ``open_criteria`` gives, per unit, how many of its criteria are still to be met (by default all
    of them). Returns ``None`` when no choice of units can satisfy the rules.

    The search is exact, and exponential in the worst case (a long chain of barred units has
    exponentially many choices, many capped groups exponentially many counter states). With a
    ``budget`` it raises :class:`SearchTooLarge` rather than take more than about that many steps
    (a step is one counter updated for one choice).
    """
    steps = _Budget(budget)
    achieved = set(achieved) & set(structure.units)
    open_criteria = open_criteria or {}
    trackers = _trackers_of(structure, steps)
    caps = tuple(t.cap() for t in trackers)
    ceilings = tuple(t.limit is not None for t in trackers)
    width = len(trackers) + 1

    items = []
    for component in structure.components(structure.units):
        options = []
        for size in range(len(component) + 1):
            # Each subset is checked against the component's barred pairs, then counted.
            steps.spend(math.comb(len(component), size) * (len(component) + width))
            for counted in itertools.combinations(component, size):
                if not structure.independent(counted):
                    continue
                if not structure.mandatory.intersection(component) <= set(counted):
                    continue
                added = tuple(n for n in counted if n not in achieved)
                cost = (
                    sum(structure.units[n].credit for n in added),
                    sum(open_criteria.get(n, structure.units[n].criteria) for n in added),
                )
                gains = tuple(sum(t.contributions.get(n, 0) for n in counted) for t in trackers)
                options.append((cost, gains, added))
        items.append(options)
    # Forced choices first: they shrink the frontier before the optional units widen it.
    items.sort(key=len)

    start = tuple(0 for _ in trackers)
    frontier: dict[tuple, tuple] = {start: ((0, 0), None)}
    history = []
    for options in items:
        following: dict[tuple, tuple] = {}
        for state, (cost, _) in frontier.items():
            steps.spend(len(options) * width)
            for option_cost, gains, added in options:
                new_state = []
                for value, gain, cap, ceiling in zip(state, gains, caps, ceilings, strict=True):
                    value += gain
                    if value > cap:
                        if ceiling:
                            break
                        value = cap
                    new_state.append(value)
                else:
                    key = tuple(new_state)
                    new_cost = (cost[0] + option_cost[0], cost[1] + option_cost[1])
                    known = following.get(key)
                    if known is None or new_cost < known[0]:
                        following[key] = (new_cost, (state, added))
        history.append(following)
        frontier = following

    finals = [
        (cost, state) for state, (cost, _) in frontier.items()
        if all(value >= t.need for value, t in zip(state, trackers, strict=True))
    ]
    if not finals:
        return None
    cost, state = min(finals)
    chosen: list[str] = []
    for layer in reversed(history):
        _, (previous, added) = layer[state]
        chosen.extend(added)
        state = previous
    return Plan(
        units=tuple(sorted(chosen, key=structure.order.__getitem__)),
        additional_credits=cost[0],
        open_criteria=cost[1],
    )
