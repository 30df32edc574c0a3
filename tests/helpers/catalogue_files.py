"""A small valid catalogue file, shared by test_spec (reading) and test_validation."""

from __future__ import annotations

import pytest
import yaml

from portfolio.catalogue.spec import SpecError, load_spec

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
