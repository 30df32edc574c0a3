"""Importing into the database: idempotent, versioned, atomic; export round-trips."""

from __future__ import annotations

import copy
import json

import pytest
import sqlalchemy as sa

from portfolio.catalogue import services
from portfolio.catalogue.models import Criterion, Qualification, QualificationVersion, Unit
from portfolio.catalogue.spec import load_spec
from tests.catalogue.test_spec import MINIMAL, as_bytes
from tests.helpers.queries import count_rows


def test_importing_the_same_file_twice_changes_nothing(session):
    spec = load_spec(as_bytes(MINIMAL))
    first = services.import_spec(session, spec)
    rows = (count_rows(session, QualificationVersion), count_rows(session, Criterion))
    second = services.import_spec(session, load_spec(as_bytes(MINIMAL)))
    assert first.created and not second.created
    assert second.version.id == first.version.id
    assert (count_rows(session, QualificationVersion), count_rows(session, Criterion)) == rows


def test_a_changed_file_becomes_a_new_version_and_the_old_one_stays(session):
    first = services.import_spec(session, load_spec(as_bytes(MINIMAL))).version
    changed = copy.deepcopy(MINIMAL)
    changed["units"][0]["learning_outcomes"][0]["criteria"][0]["text"] = "Describe one, clearly"
    second = services.import_spec(session, load_spec(as_bytes(changed))).version
    assert (first.version, second.version) == (1, 2)
    assert first.qualification_id == second.qualification_id
    old_text = session.scalar(sa.select(Criterion.text).join(Unit)
                              .where(Unit.version_id == first.id, Criterion.position == 0,
                                     Unit.number == "301"))
    assert old_text == "Describe one"
    assert services.find_version(session, "999/0001/X").id == second.id
    assert services.find_version(session, "999/0001/X", 1).id == first.id


def test_criteria_are_keyed_by_position_so_repeated_codes_survive(session):
    document = copy.deepcopy(MINIMAL)
    document["units"][0]["learning_outcomes"][0]["criteria"][1]["code"] = "1.1"
    version = services.import_spec(session, load_spec(as_bytes(document))).version
    unit = version.units[0]
    assert [(c.position, c.code) for o in unit.learning_outcomes for c in o.criteria] == [
        (0, "1.1"), (1, "1.1")]


def test_export_round_trips_to_an_identical_version(session):
    version = services.find_version(session, "600/1257/2")
    exported = services.spec_from_version(version).document()
    again = load_spec(json.dumps(exported).encode())
    assert again.content_hash == version.content_sha256
    assert not services.import_spec(session, again).created


def test_the_cli_imports_nothing_when_any_file_is_bad(cli, session, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_bytes(as_bytes(MINIMAL))
    bad_document = copy.deepcopy(MINIMAL)
    bad_document["qualification_number"] = "999/0002/X"
    bad_document["units"][0]["credit"] = "four"
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(as_bytes(bad_document))
    before = count_rows(session, Qualification)

    result = cli.invoke(args=["catalogue", "import", str(good), str(bad)])

    assert result.exit_code == 1
    assert "units[0].credit: expected a positive integer, got 'four'" in result.output
    assert "Nothing was imported." in result.output
    assert count_rows(session, Qualification) == before


def test_the_cli_imports_a_good_file(cli, session, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_bytes(as_bytes(MINIMAL))
    result = cli.invoke(args=["catalogue", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "999/0001/X: imported as version 1 (3 units)" in result.output
    again = cli.invoke(args=["catalogue", "import", str(good)])
    assert "999/0001/X: unchanged (version 1 is identical)" in again.output


@pytest.mark.parametrize("qualification_number", ["600/1636/X", "600/9662/7"])
def test_loading_a_version_takes_a_fixed_number_of_queries(app, session, qualification_number):
    from tests.helpers.queries import count_queries

    with count_queries() as queries:
        version = services.find_version(session, qualification_number)
        services.spec_from_version(version).document()
    assert len(queries) <= 6
