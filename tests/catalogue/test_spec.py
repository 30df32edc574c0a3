"""Reading catalogue files: every problem reported with its place; bad files import nothing."""

from __future__ import annotations

import copy
import json
import resource

import pytest
import yaml

from portfolio.catalogue.spec import SpecError, load_spec, validate

MINIMAL = {
    "format": 1,
    "qualification_number": "999/0001/X",
    "awarding_organisation": "Test Board",
    "title": "Test Certificate",
    "level": 3,
    "size": "certificate",
    "credit_value": 6,
    "glh": {"min": 40, "max": 60},
    "tqt": 80,
    "key_dates": {"operational_start": "2025-09-01"},
    "rules": {
        "min_credits": 6,
        "groups": [
            {"id": "A", "title": "Mandatory", "mandatory": True, "units": ["301"]},
            {"id": "B", "title": "Optional", "min_credits": 2, "units": ["304", "204"]},
        ],
        "levels": [{"level": 3, "min_credits": 4}],
        "barred": [["304", "204"]],
    },
    "units": [
        {"number": "301", "urn": "A/000/0001", "title": "First", "level": 3, "credit": 4,
         "glh": 30, "learning_outcomes": [
             {"number": 1, "text": "Know one", "criteria": [
                 {"code": "1.1", "text": "Describe one"}, {"code": "1.2", "text": "Explain two"}]}]},
        {"number": "304", "urn": "A/000/0002", "title": "Second", "level": 3, "credit": 2,
         "glh": 10, "learning_outcomes": [
             {"number": 1, "text": "Know two", "criteria": [{"code": "1.1", "text": "State"}]}]},
        {"number": "204", "urn": "A/000/0003", "title": "Third", "level": 2, "credit": 2,
         "glh": 10, "learning_outcomes": [
             {"number": 1, "text": "Know three", "criteria": [{"code": "1.1", "text": "List"}]}]},
    ],
}


def as_bytes(document) -> bytes:
    return yaml.safe_dump(document, sort_keys=False).encode()


def problems_of(document) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(as_bytes(document))
    return caught.value.problems


def test_a_valid_file_loads():
    spec = load_spec(as_bytes(MINIMAL))
    assert spec.qualification_number == "999/0001/X"
    assert (spec.glh_min, spec.glh_max) == (40, 60)
    assert [u.number for u in spec.units] == ["301", "304", "204"]
    assert spec.units[0].criteria_count == 2
    assert str(spec.key_dates["operational_start"]) == "2025-09-01"


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


def test_json_is_accepted():
    assert load_spec(json.dumps(MINIMAL).encode()).title == "Test Certificate"


def test_the_content_hash_ignores_comments_and_layout():
    plain = as_bytes(MINIMAL)
    commented = b"# a comment\n" + yaml.safe_dump(MINIMAL, sort_keys=True, width=40).encode()
    assert load_spec(plain).content_hash == load_spec(commented).content_hash


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "file is empty"),
    (b"\xff\xfe\x00t\x00i\x00t", "file is not UTF-8 text (byte 0xff at offset 0)"),
    (b"format: 1\nqualification_number: [unclosed", "not valid YAML"),
    (b"- just\n- a list\n", "the file must be a YAML mapping of qualification fields"),
    (b"a: &x [1, 2]\nb: *x\n", "YAML anchors and aliases are not allowed"),
    (b"a: " + b"[" * 50 + b"]" * 50, "nested deeper than 20 levels"),
])
def test_malformed_files_fail_clearly(data, expected):
    with pytest.raises(SpecError) as caught:
        load_spec(data)
    assert expected in caught.value.problems[0]


def test_a_truncated_file_fails_clearly():
    text = as_bytes(MINIMAL)
    with pytest.raises(SpecError) as caught:
        load_spec(text[: len(text) // 2])
    assert caught.value.problems


def test_fifty_megabytes_of_junk_fail_without_being_parsed(tmp_path):
    from portfolio.catalogue.spec import read_spec_file

    junk = tmp_path / "junk.yaml"
    with open(junk, "wb") as handle:
        for _ in range(50):
            handle.write(b"\x00junk" * (1024 * 1024 // 5))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SpecError) as caught:
        read_spec_file(junk)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert "the limit is 5,242,880 bytes" in caught.value.problems[0]
    assert grown_kib < 20 * 1024


def test_a_billion_laughs_file_is_refused_before_expansion():
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    with pytest.raises(SpecError) as caught:
        load_spec("\n".join(lines).encode())
    assert "anchors and aliases" in caught.value.problems[0]


def test_validate_refuses_non_mappings():
    with pytest.raises(SpecError):
        validate(None)
