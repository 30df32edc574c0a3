"""Validating a parsed catalogue file (format version 1, see docs/catalogue-format.md).

Pure Python: no Flask, no database. :func:`validate` checks the document that
:func:`~portfolio.catalogue.spec.load_spec` parsed, field by field, and builds the
:class:`~portfolio.catalogue.spec.QualificationSpec` -- or raises :class:`SpecError` listing every
problem with its location. It also refuses rules that no combination of the units can satisfy.
The file format itself (the dataclasses, reading the bytes, the documents) is in
:mod:`portfolio.catalogue.spec`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from portfolio.catalogue.planning import SearchTooLarge, plan
from portfolio.catalogue.rules import Group, LevelRule, Pool, Rules, Structure, structure_of
from portfolio.catalogue.spec import (
    FORMAT_VERSION,
    KEY_DATES,
    MAX_INTEGER,
    MAX_LENGTHS,
    QN_PATTERN,
    SEARCH_BUDGET,
    SIZES,
    CriterionSpec,
    OutcomeSpec,
    QualificationSpec,
    SpecError,
    UnitSpec,
    WorkingTowards,
)


class _Checker:
    """Collects problems with their locations while reading values."""

    def __init__(self):
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def mapping(self, value, where: str, required: tuple[str, ...], optional: tuple[str, ...]):
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {_show(value)}")
            return None
        for key in value:
            if key not in required and key not in optional:
                self.fail(_join(where, str(key)), "unknown key")
        for key in required:
            if key not in value:
                self.fail(_join(where, key), "missing")
        return value

    def sequence(self, value, where: str, allow_empty: bool = False):
        if not isinstance(value, list):
            self.fail(where, f"expected a list, got {_show(value)}")
            return []
        if not value and not allow_empty:
            self.fail(where, "expected at least one entry")
        return value

    def text(self, mapping, key, where, pattern=None, hint=""):
        value = mapping.get(key)
        if key not in mapping:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(_join(where, key), f"expected a non-empty string{hint}, got {_show(value)}")
            return None
        value = " ".join(value.split())
        longest = MAX_LENGTHS.get(key)
        if longest is not None and len(value) > longest:
            self.fail(_join(where, key), f"{len(value)} characters is too long: at most {longest}")
            return None
        if pattern and not pattern.match(value):
            self.fail(_join(where, key), f"{value!r} is not in the expected form")
            return None
        return value

    def integer(self, mapping, key, where, low=1, high=None, nullable=False, what=None):
        if key not in mapping:
            return None
        value = mapping[key]
        if value is None and nullable:
            return None
        whole = isinstance(value, int) and not isinstance(value, bool)
        if whole and value > MAX_INTEGER and high is None:
            self.fail(_join(where, key), f"{_show(value)} is too large: at most {MAX_INTEGER:,}")
            return None
        in_range = whole and value >= low and (high is None or value <= high)
        if not in_range:
            if what is None:
                what = {0: "a non-negative integer", 1: "a positive integer"}.get(low)
                what = what if high is None else f"an integer from {low} to {high}"
            self.fail(_join(where, key), f"expected {what}, got {_show(value)}")
            return None
        return value

    def boolean(self, mapping, key, where, default=False):
        value = mapping.get(key, default)
        if not isinstance(value, bool):
            self.fail(_join(where, key), f"expected true or false, got {_show(value)}")
            return default
        return value


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _show(value) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, int) and len(str(value)) > 20:
        return f"a number of {len(str(abs(value)))} digits"
    return repr(value)


TOP_REQUIRED = ("format", "qualification_number", "awarding_organisation", "title", "level",
                "size", "credit_value", "glh", "rules", "units")
TOP_OPTIONAL = ("tqt", "key_dates", "unit_declarations", "working_towards")


def validate(document: Any, budget: int = SEARCH_BUDGET) -> QualificationSpec:
    check = _Checker()
    top = check.mapping(document, "", TOP_REQUIRED, TOP_OPTIONAL)
    if top is None:
        raise SpecError(["the file must be a YAML mapping of qualification fields"])
    if "format" in top and top["format"] != FORMAT_VERSION:
        check.fail("format", f"expected {FORMAT_VERSION}, got {_show(top['format'])}")

    qn = check.text(top, "qualification_number", "", QN_PATTERN)
    awarding = check.text(top, "awarding_organisation", "")
    title = check.text(top, "title", "")
    level = check.integer(top, "level", "", 1, 8)
    size = top.get("size")
    if "size" in top and size not in SIZES:
        check.fail("size", f"expected one of {', '.join(SIZES)}, got {_show(size)}")
    credit_value = check.integer(top, "credit_value", "")
    glh_min, glh_max = _read_glh(check, top.get("glh")) if "glh" in top else (None, None)
    tqt = check.integer(top, "tqt", "", nullable=True)
    key_dates = _read_key_dates(check, top.get("key_dates") or {})
    unit_declarations = check.boolean(top, "unit_declarations", "")
    working_towards = (_read_working_towards(check, top["working_towards"])
                       if "working_towards" in top else None)

    units, numbers = _read_units(check, top.get("units", []))
    rules = _read_rules(check, top.get("rules"), numbers)

    structure = None
    if rules is not None and not check.problems:
        structure = structure_of(units, rules)
        _check_rules_make_sense(check, structure, credit_value, budget)
    if check.problems:
        raise SpecError(check.problems)
    return QualificationSpec(
        qualification_number=qn, awarding_organisation=awarding, title=title, level=level,
        size=size, credit_value=credit_value, glh_min=glh_min, glh_max=glh_max, tqt=tqt,
        key_dates=key_dates, unit_declarations=unit_declarations, rules=rules,
        units=tuple(units), structure=structure, working_towards=working_towards,
    )


def _read_glh(check: _Checker, value) -> tuple[int | None, int | None]:
    if isinstance(value, dict):
        check.mapping(value, "glh", ("min", "max"), ())
        low = check.integer(value, "min", "glh")
        high = check.integer(value, "max", "glh")
        if low is not None and high is not None and low > high:
            check.fail("glh", f"min {low} is greater than max {high}")
        return low, high
    single = check.integer({"glh": value}, "glh", "", what="a positive integer or {min, max}")
    return single, single


def _read_working_towards(check: _Checker, value) -> WorkingTowards | None:
    fields = check.mapping(value, "working_towards", ("countersigned", "within_months"), ())
    if fields is None:
        return None
    countersigned = check.boolean(fields, "countersigned", "working_towards")
    months = check.integer(fields, "within_months", "working_towards", 1, 120, nullable=True,
                           what="a number of months from 1 to 120, or null for no limit")
    return WorkingTowards(countersigned, months)


def _read_key_dates(check: _Checker, value) -> dict[str, dt.date | None]:
    dates = check.mapping(value, "key_dates", (), KEY_DATES)
    result = {}
    for key in KEY_DATES:
        raw = (dates or {}).get(key)
        if raw is None:
            result[key] = None
        elif isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
            result[key] = raw
        elif isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            try:
                result[key] = dt.date.fromisoformat(raw)
            except ValueError:
                check.fail(f"key_dates.{key}", f"{raw!r} is not a real date")
                result[key] = None
        else:
            check.fail(f"key_dates.{key}", f"expected a date like 2025-08-31, got {_show(raw)}")
            result[key] = None
    return result


def _read_units(check: _Checker, value) -> tuple[list[UnitSpec], set[str]]:
    """The valid units, and every number defined (so a unit with a bad field is not also
    reported as undefined wherever the rules name it)."""
    units = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(check.sequence(value, "units")):
        where = f"units[{i}]"
        unit = check.mapping(raw, where, ("number", "urn", "title", "level", "credit",
                                          "learning_outcomes"), ("glh",))
        if unit is None:
            continue
        if isinstance(unit.get("number"), int) and not isinstance(unit.get("number"), bool):
            unit = {**unit, "number": str(unit["number"])}
        number = check.text(unit, "number", where)
        if number is not None:
            if number in seen:
                check.fail(f"{where}.number", f"unit {number} is already defined at units[{seen[number]}]")
            seen[number] = i
        outcomes = _read_outcomes(check, unit.get("learning_outcomes", []), where)
        fields = (
            number,
            check.text(unit, "urn", where),
            check.text(unit, "title", where),
            check.integer(unit, "level", where, 1, 8),
            check.integer(unit, "credit", where),
            check.integer(unit, "glh", where, low=0, nullable=True),
        )
        if None not in fields[:5]:
            units.append(UnitSpec(*fields, learning_outcomes=tuple(outcomes)))
    return units, set(seen)


def _read_outcomes(check: _Checker, value, unit_where: str) -> list[OutcomeSpec]:
    outcomes = []
    numbers = set()
    for j, raw in enumerate(check.sequence(value, f"{unit_where}.learning_outcomes")):
        where = f"{unit_where}.learning_outcomes[{j}]"
        outcome = check.mapping(raw, where, ("number", "text", "criteria"), ())
        if outcome is None:
            continue
        number = check.integer(outcome, "number", where)
        if number is not None:
            if number in numbers:
                check.fail(f"{where}.number", f"learning outcome {number} is already defined")
            numbers.add(number)
        text = check.text(outcome, "text", where)
        criteria = []
        for k, raw_criterion in enumerate(check.sequence(outcome.get("criteria", []),
                                                         f"{where}.criteria")):
            cwhere = f"{where}.criteria[{k}]"
            criterion = check.mapping(raw_criterion, cwhere, ("code", "text"), ())
            if criterion is None:
                continue
            code = check.text(criterion, "code", cwhere, hint=' (quote codes: "1.1")')
            ctext = check.text(criterion, "text", cwhere)
            if code is not None and ctext is not None:
                criteria.append(CriterionSpec(code, ctext))
        if number is not None and text is not None:
            outcomes.append(OutcomeSpec(number, text, tuple(criteria)))
    return outcomes


def _unit_list(check: _Checker, value, where: str, numbers: set[str]) -> tuple[str, ...]:
    result = []
    for raw in check.sequence(value, where):
        number = str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else None
        if number is None:
            check.fail(where, f"expected unit numbers, got {_show(raw)}")
        elif number not in numbers:
            check.fail(where, f"unit {number} is not defined")
        else:
            result.append(number)
    return tuple(result)


def _read_rules(check: _Checker, value, numbers: set[str]) -> Rules | None:
    rules = check.mapping(value, "rules", ("min_credits", "groups"), ("pools", "levels", "barred"))
    if rules is None:
        return None
    min_credits = check.integer(rules, "min_credits", "rules")

    groups: list[Group] = []
    group_ids: set[str] = set()
    group_of: dict[str, str] = {}
    for i, raw in enumerate(check.sequence(rules.get("groups", []), "rules.groups")):
        where = f"rules.groups[{i}]"
        group = check.mapping(raw, where, ("id", "units"),
                              ("title", "mandatory", "min_credits", "max_credits", "min_units",
                               "max_units"))
        if group is None:
            continue
        gid = str(group["id"]) if isinstance(group.get("id"), int | str) else None
        if gid is None or not gid.strip():
            check.fail(f"{where}.id", "expected a group name such as A")
            continue
        if gid in group_ids:
            check.fail(f"{where}.id", f"group {gid} is already defined")
        group_ids.add(gid)
        members = _unit_list(check, group.get("units"), f"{where}.units", numbers)
        for number in members:
            if number in group_of:
                check.fail(f"{where}.units", f"unit {number} is already in group {group_of[number]}")
            group_of.setdefault(number, gid)
        limits = {k: check.integer(group, k, where, low=0)
                  for k in ("min_credits", "max_credits", "min_units", "max_units")}
        for noun in ("credits", "units"):
            low, high = limits[f"min_{noun}"], limits[f"max_{noun}"]
            if low is not None and high is not None and low > high:
                check.fail(where, f"min_{noun} {low} is greater than max_{noun} {high}")
        groups.append(Group(
            id=gid, units=members, title=check.text(group, "title", where) or "",
            mandatory=check.boolean(group, "mandatory", where), **limits))
    for number in sorted(numbers - set(group_of)):
        check.fail("rules.groups", f"unit {number} is in no group")

    pools = []
    for i, raw in enumerate(check.sequence(rules.get("pools", []), "rules.pools", True)):
        where = f"rules.pools[{i}]"
        pool = check.mapping(raw, where, ("groups", "min_credits"), ())
        if pool is None:
            continue
        names = [str(g) for g in check.sequence(pool.get("groups"), f"{where}.groups")]
        for name in names:
            if name not in group_ids:
                check.fail(f"{where}.groups", f"group {name} is not defined")
        credits = check.integer(pool, "min_credits", where)
        pools.append(Pool(tuple(names), credits or 0))

    levels = []
    for i, raw in enumerate(check.sequence(rules.get("levels", []), "rules.levels", True)):
        where = f"rules.levels[{i}]"
        rule = check.mapping(raw, where, ("level", "min_credits"), ("exactly",))
        if rule is None:
            continue
        levels.append(LevelRule(check.integer(rule, "level", where, 1, 8) or 1,
                                check.integer(rule, "min_credits", where) or 0,
                                check.boolean(rule, "exactly", where)))

    barred = []
    for raw in check.sequence(rules.get("barred", []), "rules.barred", True):
        if not isinstance(raw, list) or len(raw) != 2:
            check.fail("rules.barred", f"expected a pair of unit numbers, got {_show(raw)}")
            continue
        pair = tuple(str(n) for n in raw)
        label = f"barred pair ({pair[0]}, {pair[1]})"
        for number in pair:
            if number not in numbers:
                check.problems.append(f"{label}: {number} is not in this qualification")
        if pair[0] == pair[1]:
            check.problems.append(f"{label}: a unit cannot be barred against itself")
        barred.append(pair)

    if check.problems:
        return None
    return Rules(min_credits=min_credits, groups=tuple(groups), pools=tuple(pools),
                 levels=tuple(levels), barred=tuple(barred))


def _check_rules_make_sense(check, structure: Structure, credit_value, budget: int) -> None:
    rules = structure.rules
    if credit_value is not None and rules.min_credits != credit_value:
        check.fail("rules.min_credits",
                   f"{rules.min_credits} differs from the credit_value {credit_value}")
    mandatory = structure.mandatory
    for a, b in rules.barred:
        if a in mandatory and b in mandatory:
            check.problems.append(f"barred pair ({a}, {b}): both units are mandatory")
    if check.problems:
        return
    try:
        satisfiable = plan(structure, (), budget=budget) is not None
    except SearchTooLarge as error:
        check.fail("rules", f"the rules of combination are too complex to check: finding a "
                            f"combination of units that satisfies them needs more than "
                            f"{error.budget:,} steps (long chains of barred units and many capped "
                            f"groups multiply the choices); simplify them or ask the operator to "
                            f"import it")
        return
    if not satisfiable:
        check.fail("rules", "no combination of this qualification's units satisfies these rules")
