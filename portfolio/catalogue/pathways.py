"""Checking a learner's pathway (the units they intend to achieve) against the rules of
combination: pure Python, no Flask and no database.

A choice is judged as if the learner achieved exactly the chosen units. Two kinds of problem:

* a *refusal* can never be mended by choosing more units: a unit outside the qualification, both
  units of a barred pair, more than a group's maximum of credits or units. Such a choice is never
  saved.
* a *shortfall* is a rule the chosen units do not yet satisfy (a mandatory unit, a group, pool,
  level or total minimum). Choosing more units can mend it, so an incomplete choice may be kept
  as a draft while the learner decides, with what is missing shown.

The shortfalls come from :func:`~portfolio.catalogue.rules.evaluate`, so the rules live in one
place; this module only phrases them for someone choosing units.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portfolio.catalogue.rules import Shortfall, Structure, evaluate


@dataclass(frozen=True)
class Problem:
    """What is wrong with a choice; ``group`` is the group it belongs beside (``None`` for the
    choice as a whole)."""

    message: str
    group: str | None = None


@dataclass(frozen=True)
class PathwayCheck:
    chosen: tuple[str, ...]
    #: Credits of the chosen units per group, every chosen unit counted.
    group_credits: dict[str, int]
    refusals: tuple[Problem, ...]
    shortfalls: tuple[Problem, ...]

    @property
    def may_save(self) -> bool:
        """No refusal: the choice may be kept, as a draft while it has shortfalls."""
        return not self.refusals

    @property
    def complete(self) -> bool:
        """Achieving exactly the chosen units would achieve the qualification."""
        return not self.refusals and not self.shortfalls

    @property
    def total_credits(self) -> int:
        return sum(self.group_credits.values())

    def refusals_in(self, group: str | None) -> list[str]:
        return [p.message for p in self.refusals if p.group == group]

    def shortfalls_in(self, group: str | None) -> list[str]:
        return [p.message for p in self.shortfalls if p.group == group]


def check_pathway(structure: Structure, chosen: Iterable[str]) -> PathwayCheck:
    chosen_set = set(chosen)
    inside = [n for n in structure.units if n in chosen_set]
    refusals: list[Problem] = []
    outside = sorted(chosen_set - set(structure.units))
    if outside:
        refusals.append(Problem(f"{_units(outside)} {'is' if len(outside) == 1 else 'are'} not "
                                f"part of this qualification."))
    for a, b in structure.rules.barred:
        if a in chosen_set and b in chosen_set:
            group_a, group_b = structure.group_of[a], structure.group_of[b]
            refusals.append(Problem(f"Units {a} and {b} cannot both count: choose one.",
                                    group_a.id if group_a is group_b else None))

    credits = {g.id: 0 for g in structure.rules.groups}
    counts = {g.id: 0 for g in structure.rules.groups}
    for n in inside:
        credits[structure.group_of[n].id] += structure.units[n].credit
        counts[structure.group_of[n].id] += 1
    for group in structure.rules.groups:
        if group.max_credits is not None and credits[group.id] > group.max_credits:
            refusals.append(Problem(
                f"{group.label} allows at most {group.max_credits} credits: the chosen units "
                f"give {credits[group.id]}.", group.id))
        if group.max_units is not None and counts[group.id] > group.max_units:
            refusals.append(Problem(
                f"{group.label} allows at most {_count(group.max_units, 'unit')}: "
                f"{counts[group.id]} are chosen.", group.id))

    shortfalls = tuple(_phrase(s) for s in evaluate(structure, inside).shortfalls)
    return PathwayCheck(chosen=tuple(inside), group_credits=credits, refusals=tuple(refusals),
                        shortfalls=shortfalls)


def _phrase(shortfall: Shortfall) -> Problem:
    """A shortfall as someone choosing units reads it: what the rule needs, what the choice
    gives."""
    give = f"the chosen units give {shortfall.have}"
    if shortfall.rule == "mandatory":
        return Problem(f"Unit {shortfall.unit} is mandatory.", shortfall.group)
    if shortfall.rule == "group_credits":
        return Problem(f"{shortfall.scope} needs at least {_count(shortfall.need, 'credit')}: "
                       f"{give}.", shortfall.group)
    if shortfall.rule == "group_units":
        return Problem(f"{shortfall.scope} needs at least {_count(shortfall.need, 'unit')}: "
                       f"{shortfall.have} chosen.", shortfall.group)
    if shortfall.rule == "pool":
        return Problem(f"{_count(shortfall.need, 'credit')} must come from {shortfall.scope} "
                       f"beyond their own minimums: {give}.")
    if shortfall.rule == "level":
        return Problem(f"At least {_count(shortfall.need, 'credit')} must be {shortfall.scope}: "
                       f"{give}.")
    return Problem(f"The qualification needs at least {_count(shortfall.need, 'credit')}: "
                   f"{give}.")


def _units(numbers: list[str]) -> str:
    return f"Unit {numbers[0]}" if len(numbers) == 1 else f"Units {', '.join(numbers)}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
