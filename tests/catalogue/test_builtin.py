"""The seven built-in qualifications: counts pinned, wording checked against the documents."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from portfolio.catalogue.planning import plan
from portfolio.catalogue.rules import evaluate
from portfolio.config import PROJECT_ROOT

# QN: (units, learning outcomes, criteria, credits of all units, source document)
COUNTS = {
    "600/1636/X": (14, 41, 184, 45, "000"),
    "600/1137/3": (11, 35, 152, 31, "001"),
    "600/1138/5": (14, 41, 184, 45, "001"),
    "600/1257/2": (39, 143, 713, 163, "002"),
    "600/9662/7": (47, 184, 736, 188, "003"),
    "601/5358/1": (2, 7, 33, 7, "004"),
    "601/5359/3": (11, 34, 125, 31, "004"),
}

SEEDS = Path(os.environ.get("PORTFOLIO_SEEDS_DIR", PROJECT_ROOT.parent / "shared" / "seeds"))


def test_all_seven_are_built_in(builtin_specs):
    assert set(builtin_specs) == set(COUNTS)


@pytest.mark.parametrize("qualification_number", sorted(COUNTS))
def test_counts(builtin_specs, qualification_number):
    spec = builtin_specs[qualification_number]
    units, outcomes, criteria, credits, _ = COUNTS[qualification_number]
    assert len(spec.units) == units
    assert sum(len(u.learning_outcomes) for u in spec.units) == outcomes
    assert sum(u.criteria_count for u in spec.units) == criteria
    assert sum(u.credit for u in spec.units) == credits


def _squeeze(text: str) -> str:
    """The documents are PDF extractions: compare with all whitespace and markup removed."""
    text = re.sub(r"<[^>]+>", "", text).replace("**", "").replace("•", "")
    return re.sub(r"\s+", "", text)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the specification documents are not beside the repo")
@pytest.mark.parametrize("qualification_number", sorted(COUNTS))
def test_every_title_outcome_and_criterion_is_worded_as_printed(builtin_specs, qualification_number):
    prefix = COUNTS[qualification_number][4]
    document = _squeeze(next(SEEDS.glob(f"{prefix}_*.txt")).read_text())
    spec = builtin_specs[qualification_number]
    missing = [
        (unit.number, text)
        for unit in spec.units
        for text in [unit.title, *(o.text for o in unit.learning_outcomes),
                     *(c.text for o in unit.learning_outcomes for c in o.criteria)]
        if _squeeze(text) not in document
    ]
    assert missing == []


def _unit(spec, number):
    return next(u for u in spec.units if u.number == number)


def _criteria(unit):
    return [c for o in unit.learning_outcomes for c in o.criteria]


def test_spot_checks_against_the_documents(builtin_specs):
    ncfe = builtin_specs["600/1257/2"]
    assert _criteria(_unit(ncfe, "01"))[-1].text == (
        "Explain the importance of involving a person in authority in making a personal "
        "development plan")
    assert (ncfe.glh_min, ncfe.glh_max) == (93, 172)
    assert ncfe.unit_declarations
    pearson = builtin_specs["600/1636/X"]
    assert _criteria(_unit(pearson, "204"))[0].text == (
        "Describe the purpose of a contact distribution system and how it works")
    award = builtin_specs["601/5358/1"]
    assert [(u.number, u.urn, u.title, u.credit) for u in award.units] == [
        ("1", "K/506/9011", "Customer Service Principles", 4),
        ("2", "M/506/9012", "Understanding Customer Service Delivery", 3)]


def test_quirks_are_represented_not_fixed(builtin_specs):
    level3 = builtin_specs["600/1138/5"]
    assert _unit(level3, "207").urn == _unit(level3, "309").urn == "M/503/0405"
    ncfe = builtin_specs["600/1257/2"]
    assert _unit(ncfe, "13").title == _unit(ncfe, "16").title == "Using email"
    assert _unit(ncfe, "13").urn != _unit(ncfe, "16").urn
    diploma = builtin_specs["600/9662/7"]
    assert [c.code for c in _criteria(_unit(diploma, "20"))].count("3.2") == 2
    # The structure table prints 32 GLH for unit 38; its unit page prints 22, which wins.
    assert _unit(diploma, "38").glh == 22


@pytest.mark.parametrize("qualification_number", sorted(COUNTS))
def test_every_builtin_can_be_completed_and_all_units_complete_it(builtin_specs,
                                                                  qualification_number):
    structure = builtin_specs[qualification_number].structure
    assert evaluate(structure, structure.units).achieved
    assert not evaluate(structure, ()).achieved
    minimal = plan(structure, ())
    assert minimal.additional_credits >= builtin_specs[qualification_number].credit_value
    assert evaluate(structure, minimal.units).achieved
