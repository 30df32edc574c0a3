"""Validating catalogue files: every problem reported with its place; bad files import nothing."""

from __future__ import annotations

import copy

import pytest

from portfolio.catalogue.spec import SpecError, load_spec
from portfolio.catalogue.validation import validate
from tests.helpers.catalogue_files import MINIMAL, as_bytes, problems_of


def test_every_problem_is_reported_with_its_location():
    document = copy.deepcopy(MINIMAL)
    document["units"][1]["credit"] = "four"
    document["units"][2]["level"] = 12
    document["rules"]["groups"][1]["units"].append("310")
    document["rules"]["barred"].append(["301", "205"])
    document["title"] = ""
    assert problems_of(document) == [
        "title: expected a non-empty string, got ''",
        "units[1].credit: expected a positive integer, got 'four'",
        "units[2].level: expected an integer from 1 to 8, got 12",
        "rules.groups[1].units: unit 310 is not defined",
        "barred pair (301, 205): 205 is not in this qualification",
    ]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d.pop("units"), "units: missing"),
    (lambda d: d.update(format=2), "format: expected 1, got 2"),
    (lambda d: d.update(colour="red"), "colour: unknown key"),
    (lambda d: d.update(qualification_number="600-1636-X"),
     "qualification_number: '600-1636-X' is not in the expected form"),
    (lambda d: d.update(size="huge"), "size: expected one of award, certificate, diploma, got 'huge'"),
    (lambda d: d.update(glh={"min": 9, "max": 3}), "glh: min 9 is greater than max 3"),
    (lambda d: d["units"][0]["learning_outcomes"][0]["criteria"][0].update(code=1.1),
     'units[0].learning_outcomes[0].criteria[0].code: expected a non-empty string '
     '(quote codes: "1.1"), got 1.1'),
    (lambda d: d["units"][2].update(number="301"),
     "units[2].number: unit 301 is already defined at units[0]"),
    (lambda d: d["rules"]["groups"][0]["units"].append("304"),
     "rules.groups[1].units: unit 304 is already in group A"),
    (lambda d: d["rules"]["groups"][1]["units"].remove("204"), "rules.groups: unit 204 is in no group"),
    (lambda d: d["rules"].update(pools=[{"groups": ["B", "Z"], "min_credits": 2}]),
     "rules.pools[0].groups: group Z is not defined"),
    (lambda d: d["rules"].update(min_credits=40),
     "rules.min_credits: 40 differs from the credit_value 6"),
    (lambda d: d.update(credit_value=40) or d["rules"].update(min_credits=40),
     "rules: no combination of this qualification's units satisfies these rules"),
    (lambda d: d["key_dates"].update(operational_end="soon"),
     "key_dates.operational_end: expected a date like 2025-08-31, got 'soon'"),
])
def test_single_problems(change, expected):
    document = copy.deepcopy(MINIMAL)
    change(document)
    assert expected in problems_of(document)


def test_codes_may_repeat_within_a_unit():
    document = copy.deepcopy(MINIMAL)
    document["units"][0]["learning_outcomes"][0]["criteria"][1]["code"] = "1.1"
    spec = load_spec(as_bytes(document))
    assert [c.code for c in spec.units[0].learning_outcomes[0].criteria] == ["1.1", "1.1"]


def test_validate_refuses_non_mappings():
    with pytest.raises(SpecError):
        validate(None)
