"""Reading and validating catalogue files (format version 1, see docs/catalogue-format.md).

Pure Python: no Flask, no database. :func:`load_spec` turns bytes into a :class:`QualificationSpec`
or raises :class:`SpecError` listing every problem with its location; nothing partial escapes.

This module owns the file format: its constants, the dataclasses, reading the bytes (with the
streaming shape check) and the documents a spec or its rules are exported and stored as. Checking
the parsed fields is :mod:`portfolio.catalogue.validation`'s job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml

from portfolio.catalogue.rules import Group, LevelRule, Pool, Rules, Structure
from portfolio.core.errors import DomainError

FORMAT_VERSION = 1
MAX_BYTES = 5 * 1024 * 1024
#: A centre admin's upload, checked in a request thread (the largest built-in qualification is
#: 124 KB as YAML, 163 KB as exported JSON).
UPLOAD_MAX_BYTES = 512 * 1024
#: Steps the check that some combination satisfies the rules may take (see
#: :func:`~portfolio.catalogue.planning.plan`): a fraction of a second, for a file checked in a
#: request thread; ten times what the most complex built-in qualification takes.
SEARCH_BUDGET = 500_000
#: The operator's command line waits longer (seconds): what it imports is then planned for on
#: learners' pages, so it is bounded too.
OPERATOR_SEARCH_BUDGET = 20 * SEARCH_BUDGET
MAX_DEPTH = 20
SIZES = ("award", "certificate", "diploma")
#: The largest whole number a file may give: what a database INTEGER column holds (32 bits on
#: PostgreSQL), so no value can pass the checks and then fail to be stored.
MAX_INTEGER = 2**31 - 1
#: The longest value of each short text field: the models' column lengths are these.
MAX_LENGTHS = {"awarding_organisation": 200, "title": 300, "number": 20, "urn": 20, "code": 20}
KEY_DATES = ("operational_start", "operational_end", "certification_end")
QN_PATTERN = re.compile(r"^\d{3}/\d{4}/[0-9A-Z]$")

try:  # the C loader is several times faster on the 200 KB built-in files
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):
    """The safe loader, with a value that cannot be built (a date such as 2025-02-30, a number
    too long for Python to convert) reported at its place instead of as a bare ValueError."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except ValueError as exc:
            reason = ("too many digits to be a number" if node.tag.endswith(":int")
                      else str(exc))
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            raise yaml.constructor.ConstructorError(
                None, None, f"{shown!r} cannot be read: {reason}", node.start_mark) from None


class SpecError(DomainError):
    """A catalogue file that cannot be imported; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class CriterionSpec:
    code: str
    text: str


@dataclass(frozen=True)
class OutcomeSpec:
    number: int
    text: str
    criteria: tuple[CriterionSpec, ...]


@dataclass(frozen=True)
class UnitSpec:
    number: str
    urn: str
    title: str
    level: int
    credit: int
    glh: int | None
    learning_outcomes: tuple[OutcomeSpec, ...]

    @cached_property
    def criteria(self) -> tuple[CriterionSpec, ...]:
        """Every criterion of the unit in order; worked out once (a unit never changes), since
        progress and the caseload ask every unit of every learner for it."""
        return tuple(c for o in self.learning_outcomes for c in o.criteria)

    @property
    def criteria_count(self) -> int:
        return len(self.criteria)


@dataclass(frozen=True)
class WorkingTowards:
    """What a qualification's document says of assessors and IQAs still working towards their
    own assessor or IQA qualification: whether their decisions must be countersigned by a
    qualified colleague, and how many months from starting the role they have to qualify (None:
    the document sets no limit)."""

    countersigned: bool
    within_months: int | None

    def document(self) -> dict[str, Any]:
        return {"countersigned": self.countersigned, "within_months": self.within_months}

    @classmethod
    def from_document(cls, document: dict[str, Any] | None) -> WorkingTowards | None:
        return cls(document["countersigned"], document["within_months"]) if document else None


@dataclass(frozen=True)
class QualificationSpec:
    qualification_number: str
    awarding_organisation: str
    title: str
    level: int
    size: str
    credit_value: int
    glh_min: int
    glh_max: int
    tqt: int | None
    key_dates: dict[str, dt.date | None]
    unit_declarations: bool
    rules: Rules
    units: tuple[UnitSpec, ...]
    structure: Structure = field(compare=False, repr=False)
    #: None when the document says nothing of staff working towards their qualification.
    working_towards: WorkingTowards | None = None

    def document(self) -> dict[str, Any]:
        """The canonical content, shaped as the catalogue file and the JSON export."""
        return spec_document(self)

    @property
    def content_hash(self) -> str:
        canonical = json.dumps(self.document(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


# ------------------------------------------------------------------------------- reading the file


def load_spec(data: bytes, max_bytes: int = MAX_BYTES,
              budget: int = SEARCH_BUDGET) -> QualificationSpec:
    """Parse and validate a catalogue file; raise :class:`SpecError` with every problem.
    ``budget`` bounds the search that checks the rules can be satisfied."""
    # Imported here because the validator builds this module's dataclasses, so imports this module.
    from portfolio.catalogue.validation import validate

    if len(data) > max_bytes:
        raise SpecError([f"file is {len(data):,} bytes; the limit is {max_bytes:,} bytes"])
    if not data.strip():
        raise SpecError(["file is empty"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError([
            f"file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ]) from None
    _check_shape(text)
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_message(exc)]) from None
    return validate(document, budget)


def read_spec_file(path, max_bytes: int = MAX_BYTES,
                   budget: int = OPERATOR_SEARCH_BUDGET) -> QualificationSpec:
    """Read at most ``max_bytes + 1`` bytes so a huge file never sits in memory whole. Files are
    read from disk by the operator (the command line, the built-ins), so the budget is theirs."""
    with open(path, "rb") as handle:
        return load_spec(handle.read(max_bytes + 1), max_bytes, budget)


def _check_shape(text: str) -> None:
    """Refuse aliases and deep nesting by scanning parser events, before building any object.

    Aliases are how YAML "billion laughs" files expand to gigabytes; deep nesting exhausts the
    recursion of the composer. The scan itself holds one event at a time.
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                mark = event.start_mark
                raise SpecError([f"line {mark.line + 1}: YAML anchors and aliases are not allowed"])
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise SpecError([
                        f"line {mark.line + 1}: nested deeper than {MAX_DEPTH} levels"])
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_message(exc)]) from None


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"{where}not valid YAML ({problem})"


# ------------------------------------------------------------------------------------ documents


def spec_document(spec: QualificationSpec) -> dict[str, Any]:
    glh: Any = spec.glh_min if spec.glh_min == spec.glh_max else {
        "min": spec.glh_min, "max": spec.glh_max}
    document = {
        "format": FORMAT_VERSION,
        "qualification_number": spec.qualification_number,
        "awarding_organisation": spec.awarding_organisation,
        "title": spec.title,
        "level": spec.level,
        "size": spec.size,
        "credit_value": spec.credit_value,
        "glh": glh,
        "tqt": spec.tqt,
        "key_dates": {k: (v.isoformat() if v else None) for k, v in spec.key_dates.items()},
        "unit_declarations": spec.unit_declarations,
        "rules": rules_document(spec.rules),
        "units": [
            {
                "number": u.number, "urn": u.urn, "title": u.title, "level": u.level,
                "credit": u.credit, "glh": u.glh,
                "learning_outcomes": [
                    {"number": o.number, "text": o.text,
                     "criteria": [{"code": c.code, "text": c.text} for c in o.criteria]}
                    for o in u.learning_outcomes
                ],
            }
            for u in spec.units
        ],
    }
    # Only when stated, so that files saying nothing keep the content (and hash) they had.
    if spec.working_towards is not None:
        document["working_towards"] = spec.working_towards.document()
    return document


def rules_document(rules: Rules) -> dict[str, Any]:
    def group_document(group: Group) -> dict[str, Any]:
        document: dict[str, Any] = {"id": group.id, "title": group.title,
                                    "mandatory": group.mandatory, "units": list(group.units)}
        for key in ("min_credits", "max_credits", "min_units", "max_units"):
            if getattr(group, key) is not None:
                document[key] = getattr(group, key)
        return document

    return {
        "min_credits": rules.min_credits,
        "groups": [group_document(g) for g in rules.groups],
        "pools": [{"groups": list(p.groups), "min_credits": p.min_credits} for p in rules.pools],
        "levels": [{"level": r.level, "min_credits": r.min_credits, "exactly": r.exactly}
                   for r in rules.levels],
        "barred": [list(pair) for pair in rules.barred],
    }


def rules_from_document(document: dict[str, Any]) -> Rules:
    """Rebuild :class:`Rules` from :func:`rules_document` output (as stored in the database)."""
    return Rules(
        min_credits=document["min_credits"],
        groups=tuple(
            Group(id=g["id"], units=tuple(g["units"]), title=g.get("title", ""),
                  mandatory=g.get("mandatory", False), min_credits=g.get("min_credits"),
                  max_credits=g.get("max_credits"), min_units=g.get("min_units"),
                  max_units=g.get("max_units"))
            for g in document["groups"]),
        pools=tuple(Pool(tuple(p["groups"]), p["min_credits"]) for p in document["pools"]),
        levels=tuple(LevelRule(r["level"], r["min_credits"], r["exactly"])
                     for r in document["levels"]),
        barred=tuple(tuple(pair) for pair in document["barred"]),
    )
