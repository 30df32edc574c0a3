"""Checking a catalogue file is bounded: a file crafted to make the rules check exponential is
refused quickly with a message saying what to do, and an oversized upload is refused unread."""

from __future__ import annotations

import itertools
import json
import time
from io import BytesIO

import pytest

from portfolio.catalogue import services
from portfolio.catalogue.models import QualificationVersion
from portfolio.catalogue.spec import UPLOAD_MAX_BYTES, SpecError, load_spec
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token, text

TOO_COMPLEX = "rules: the rules of combination are too complex to check"


def crafted(units: int, barred_chain: bool = True, capped_groups: int = 1) -> bytes:
    """A small file whose rules check explodes: ``units`` one-credit units in a chain of barred
    pairs (exponentially many choices), or spread over ``capped_groups`` groups each capped
    (exponentially many counter states)."""
    numbers = [str(i) for i in range(units)]
    per_group = units // capped_groups
    groups = [{"id": f"G{g}", "units": numbers[g * per_group:(g + 1) * per_group],
               **({"max_credits": per_group, "min_units": 1} if capped_groups > 1 else {})}
              for g in range(capped_groups)]
    document = {
        "format": 1, "qualification_number": "999/0002/X", "awarding_organisation": "Board",
        "title": "Crafted", "level": 2, "size": "award", "credit_value": units // 2, "glh": 10,
        "rules": {"min_credits": units // 2, "groups": groups,
                  "barred": [list(pair) for pair in itertools.pairwise(numbers)]
                  if barred_chain else []},
        "units": [{"number": n, "urn": f"U/{n}", "title": "Unit", "level": 2,
                   "credit": 1 + int(n) % 3 if capped_groups > 1 else 1, "learning_outcomes": [
                       {"number": 1, "text": "Know", "criteria": [{"code": "1.1", "text": "Do"}]}]}
                  for n in numbers],
    }
    return json.dumps(document).encode()


def refused_quickly(data: bytes) -> tuple[list[str], float]:
    start = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        load_spec(data)
    return caught.value.problems, time.perf_counter() - start


@pytest.mark.parametrize(("data", "size"), [
    (crafted(51), 10_000),  # a chain of barred units: hours
    (crafted(8 * 5, barred_chain=False, capped_groups=8), 7_900),  # 8 capped groups: a minute
])
def test_a_file_crafted_to_be_exponential_is_refused_in_well_under_a_few_seconds(data, size):
    assert abs(len(data) - size) < 1_000
    problems, elapsed = refused_quickly(data)
    assert len(problems) == 1 and problems[0].startswith(TOO_COMPLEX)
    assert "simplify them or ask the operator to import it" in problems[0]
    assert elapsed < 2.5


def test_the_builtin_qualifications_pass_the_web_budget(builtin_specs):
    for spec in builtin_specs.values():
        exported = json.dumps(spec.document()).encode()
        assert len(exported) < UPLOAD_MAX_BYTES
        assert load_spec(exported).content_hash == spec.content_hash


def test_the_operator_may_import_what_is_too_complex_for_the_web(tmp_path, cli, session):
    path = tmp_path / "complex.json"
    path.write_bytes(crafted(16))  # about 1.2 million steps: over the web budget
    assert refused_quickly(path.read_bytes())[0][0].startswith(TOO_COMPLEX)
    result = cli.invoke(args=["catalogue", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert services.find_version(session, "999/0002/X").centre_id is None


@pytest.mark.parametrize(("data", "message"), [
    (crafted(51), TOO_COMPLEX),
    (b"# padding\n" * (UPLOAD_MAX_BYTES // 10 + 1),
     f"the limit is {UPLOAD_MAX_BYTES:,} bytes"),
])
def test_the_web_import_refuses_with_the_reason_and_imports_nothing(
        login, people, session, data, message):
    client = login(people.admin)
    before = count_rows(session, QualificationVersion)
    start = time.perf_counter()
    response = client.post("/admin/catalogue", data={
        "file": (BytesIO(data), "crafted.json"),
        "csrf_token": csrf_token(client, "/admin/catalogue")}, content_type="multipart/form-data")
    assert time.perf_counter() - start < 2.5
    page = text(response)
    assert response.status_code == 200
    assert "Nothing was imported: 1 problem(s)" in page and message in page
    assert count_rows(session, QualificationVersion) == before
