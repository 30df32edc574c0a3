"""Reading catalogue files: malformed, oversized or hostile files fail clearly before any object is
built; a valid file loads and hashes by content. The field checks are tested in test_validation."""

from __future__ import annotations

import json
import resource

import pytest
import yaml

from portfolio.catalogue.spec import SpecError, load_spec
from tests.helpers.catalogue_files import MINIMAL, as_bytes


def test_a_valid_file_loads():
    spec = load_spec(as_bytes(MINIMAL))
    assert spec.qualification_number == "999/0001/X"
    assert (spec.glh_min, spec.glh_max) == (40, 60)
    assert [u.number for u in spec.units] == ["301", "304", "204"]
    assert spec.units[0].criteria_count == 2
    assert str(spec.key_dates["operational_start"]) == "2025-09-01"


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
