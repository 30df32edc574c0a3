"""``portfolio catalogue``: list, show, export, evaluate, plan."""

from __future__ import annotations

import json

import pytest


def run(cli, *args):
    return cli.invoke(args=["catalogue", *args])


def test_list_shows_every_builtin_qualification(cli, builtin_specs):
    result = run(cli, "list")
    assert result.exit_code == 0
    for qualification_number, spec in builtin_specs.items():
        assert qualification_number in result.output
        assert spec.title in result.output


def test_show_prints_rules_and_units(cli):
    result = run(cli, "show", "600/1257/2")
    assert result.exit_code == 0
    assert "Group B (optional, min credits 12)" in result.output
    assert "10 further credits from groups B or C" in result.output
    assert "at least 15 credits at level 2 or above" in result.output
    assert "barred: 13 and 16 (only one counts)" in result.output


def test_export_has_the_documented_shape(cli, builtin_specs):
    result = run(cli, "export", "600/1636/X", "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.output)
    for key in ("qualification_number", "title", "awarding_organisation", "level",
                "credit_value", "glh", "tqt", "rules", "units"):
        assert key in document
    unit = document["units"][0]
    assert set(unit) >= {"number", "urn", "title", "level", "credit", "glh", "learning_outcomes"}
    outcome = unit["learning_outcomes"][0]
    assert set(outcome) == {"number", "text", "criteria"}
    assert set(outcome["criteria"][0]) == {"code", "text"}
    assert document == builtin_specs["600/1636/X"].document()


def test_evaluate_json(cli):
    result = run(cli, "evaluate", "600/1636/X", "--achieved", "301,302,303,304,204", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert set(document) == {"achieved", "credits", "counted_units", "excluded_units", "shortfalls"}
    assert document["achieved"] is False
    assert document["credits"]["total"] == 13
    assert document["counted_units"] == ["301", "302", "303", "304"]
    assert document["excluded_units"] == [
        {"unit": "204", "reason": "barred with unit 304, which counts instead"}]
    assert document["shortfalls"] == ["3 more credits needed in total"]


def test_evaluate_accepts_urns(cli):
    by_number = run(cli, "evaluate", "600/1636/X", "--achieved", "301,302", "--json")
    by_urn = run(cli, "evaluate", "600/1636/X", "--achieved", "F/503/0358,L/503/0363", "--json")
    assert json.loads(by_urn.output) == json.loads(by_number.output)


def test_plan_json(cli):
    result = run(cli, "plan", "600/1636/X", "--achieved", "301,302", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["additional_credits"] == 11
    assert "303" in document["units"]


@pytest.mark.parametrize(("args", "message"), [
    (("evaluate", "600/1636/X", "--achieved", "301,999"),
     "999 is neither a unit number nor a URN in 600/1636/X"),
    (("plan", "600/1138/5", "--achieved", "M/503/0405"),
     "URN M/503/0405 is printed for units 207 and 309: give the unit number"),
    (("evaluate", "999/9999/9", "--achieved", "1"), "qualification 999/9999/9 is not in the catalogue"),
    (("show", "999/9999/9"), "qualification 999/9999/9 is not in the catalogue"),
])
def test_unknown_or_ambiguous_input_exits_with_status_2(cli, args, message):
    result = run(cli, *args)
    assert result.exit_code == 2
    assert message in result.output
