"""The catalogue field saying whether staff working towards their assessor or IQA qualification
must be countersigned, and for how long they may work towards it: read, checked, stored,
exported, and set in the built-ins exactly as their documents say."""

from __future__ import annotations

import copy
import json

import pytest

from portfolio.catalogue import services
from portfolio.catalogue.spec import WorkingTowards, load_spec
from tests.helpers.catalogue_files import MINIMAL, as_bytes, problems_of


def with_field(value) -> dict:
    document = copy.deepcopy(MINIMAL)
    document["working_towards"] = value
    return document


# What each document says, and nothing more: 600/9662/7 Annexe B 5.1 asks for countersignature
# and qualifying within 18 months; City & Guilds lets staff "hold, or be working towards" with
# neither; NCFE refers to a strategy not among the documents, and the other Pearson documents
# say nothing, so their files omit the field.
@pytest.mark.parametrize(("qualification_number", "expected"), [
    ("600/9662/7", WorkingTowards(countersigned=True, within_months=18)),
    ("600/1137/3", WorkingTowards(countersigned=False, within_months=None)),
    ("600/1138/5", WorkingTowards(countersigned=False, within_months=None)),
    ("600/1257/2", None),
    ("600/1636/X", None),
    ("601/5358/1", None),
    ("601/5359/3", None),
])
def test_the_built_ins_say_what_their_documents_say(builtin_specs, qualification_number,
                                                    expected):
    assert builtin_specs[qualification_number].working_towards == expected


def test_the_field_is_read_and_stored_and_exported(session):
    spec = load_spec(as_bytes(with_field({"countersigned": True, "within_months": 6})))
    assert spec.working_towards == WorkingTowards(True, 6)
    version = services.import_spec(session, spec).version
    session.expire(version)
    assert version.working_towards == {"countersigned": True, "within_months": 6}
    exported = services.spec_from_version(version).document()
    assert exported["working_towards"] == {"countersigned": True, "within_months": 6}
    assert load_spec(json.dumps(exported).encode()).content_hash == version.content_sha256


def test_a_file_without_the_field_stores_nothing_and_keeps_its_hash(session):
    spec = load_spec(as_bytes(MINIMAL))
    assert spec.working_towards is None and "working_towards" not in spec.document()
    version = services.import_spec(session, spec).version
    session.expire(version)
    assert version.working_towards is None
    assert services.spec_from_version(version).content_hash == spec.content_hash


def test_adding_the_field_makes_a_new_version(session):
    first = services.import_spec(session, load_spec(as_bytes(MINIMAL))).version
    stated = with_field({"countersigned": False, "within_months": None})
    second = services.import_spec(session, load_spec(as_bytes(stated)))
    assert second.created and second.version.id != first.id


def test_the_built_in_600_9662_7_round_trips_with_its_rule(session):
    version = services.find_version(session, "600/9662/7")
    assert version.working_towards == {"countersigned": True, "within_months": 18}
    assert services.spec_from_version(version).content_hash == version.content_sha256


@pytest.mark.parametrize(("value", "expected"), [
    ("yes", ["working_towards: expected a mapping, got 'yes'"]),
    ({"countersigned": True}, ["working_towards.within_months: missing"]),
    ({"within_months": 18}, ["working_towards.countersigned: missing"]),
    ({"countersigned": "yes", "within_months": 18},
     ["working_towards.countersigned: expected true or false, got 'yes'"]),
    ({"countersigned": True, "within_months": 0},
     ["working_towards.within_months: expected a number of months from 1 to 120, or null for "
      "no limit, got 0"]),
    ({"countersigned": True, "within_months": "18 months"},
     ["working_towards.within_months: expected a number of months from 1 to 120, or null for "
      "no limit, got '18 months'"]),
    ({"countersigned": True, "within_months": 18, "grace": 3},
     ["working_towards.grace: unknown key"]),
])
def test_a_bad_field_is_refused_with_its_place(value, expected):
    assert problems_of(with_field(value)) == expected
