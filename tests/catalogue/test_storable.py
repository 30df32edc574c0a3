"""Every value a catalogue file gives fits the column that stores it: a number or a text too large
is a validation message naming the field, never a database error (a 500). Run on PostgreSQL too,
where INTEGER is 32 bits and VARCHAR lengths are enforced."""

from __future__ import annotations

import copy
from io import BytesIO

import pytest
import sqlalchemy as sa

from portfolio.catalogue import services
from portfolio.catalogue.models import Criterion, QualificationVersion, Unit
from portfolio.catalogue.spec import MAX_INTEGER, MAX_LENGTHS, SpecError, load_spec
from tests.helpers.catalogue_files import MINIMAL, as_bytes, problems_of
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token, text

TOO_LARGE = f"is too large: at most {MAX_INTEGER:,}"


def at_the_limits() -> dict:
    """MINIMAL with every number and short text as large as the file format allows."""
    document = copy.deepcopy(MINIMAL)
    document.update(glh={"min": 40, "max": MAX_INTEGER}, tqt=MAX_INTEGER,
                    title="T" * MAX_LENGTHS["title"],
                    awarding_organisation="A" * MAX_LENGTHS["awarding_organisation"])
    unit = document["units"][2]
    unit.update(glh=MAX_INTEGER, urn="U" * MAX_LENGTHS["urn"], title="t" * MAX_LENGTHS["title"])
    unit["learning_outcomes"][0].update(number=MAX_INTEGER)
    unit["learning_outcomes"][0]["criteria"][0].update(code="9" * MAX_LENGTHS["code"])
    long_number = "2" * MAX_LENGTHS["number"]
    unit["number"] = long_number
    document["rules"]["groups"][1]["units"][1] = long_number
    document["rules"]["groups"][1]["max_credits"] = MAX_INTEGER
    document["rules"]["barred"] = [["304", long_number]]
    return document


def test_the_largest_values_the_format_allows_are_stored(session):
    version = services.import_spec(session, load_spec(as_bytes(at_the_limits()))).version
    session.expire_all()
    stored = session.get(QualificationVersion, version.id)
    assert (stored.glh_max, stored.tqt) == (MAX_INTEGER, MAX_INTEGER)
    assert session.scalar(sa.select(sa.func.max(Unit.glh))
                          .where(Unit.version_id == version.id)) == MAX_INTEGER
    assert session.scalar(sa.select(sa.func.max(sa.func.length(Criterion.code)))
                          .join(Unit).where(Unit.version_id == version.id)) == MAX_LENGTHS["code"]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d.update(credit_value=MAX_INTEGER + 1), f"credit_value: {MAX_INTEGER + 1!r} {TOO_LARGE}"),
    (lambda d: d.update(tqt=2**63), f"tqt: {2**63!r} {TOO_LARGE}"),
    (lambda d: d.update(glh={"min": 1, "max": 10**30}), f"glh.max: a number of 31 digits {TOO_LARGE}"),
    (lambda d: d.update(glh=MAX_INTEGER + 1), f"glh: {MAX_INTEGER + 1!r} {TOO_LARGE}"),
    (lambda d: d["units"][0].update(credit=MAX_INTEGER + 1), f"units[0].credit: {MAX_INTEGER + 1!r}"),
    (lambda d: d["units"][0].update(glh=MAX_INTEGER + 1), f"units[0].glh: {MAX_INTEGER + 1!r}"),
    (lambda d: d["units"][0]["learning_outcomes"][0].update(number=MAX_INTEGER + 1),
     f"units[0].learning_outcomes[0].number: {MAX_INTEGER + 1!r} {TOO_LARGE}"),
    (lambda d: d["rules"]["groups"][1].update(min_units=MAX_INTEGER + 1),
     f"rules.groups[1].min_units: {MAX_INTEGER + 1!r} {TOO_LARGE}"),
    (lambda d: d["rules"].update(levels=[{"level": 3, "min_credits": 2**40}]),
     f"rules.levels[0].min_credits: {2**40!r} {TOO_LARGE}"),
    (lambda d: d.update(title="T" * 301), "title: 301 characters is too long: at most 300"),
    (lambda d: d.update(awarding_organisation="A" * 201),
     "awarding_organisation: 201 characters is too long: at most 200"),
    (lambda d: d["units"][1].update(urn="U" * 21), "units[1].urn: 21 characters is too long"),
    (lambda d: d["units"][1].update(number=10**25), "units[1].number: 26 characters is too long"),
    (lambda d: d["units"][0]["learning_outcomes"][0]["criteria"][0].update(code="1." * 11),
     "units[0].learning_outcomes[0].criteria[0].code: 22 characters is too long: at most 20"),
])
def test_a_value_no_column_can_hold_is_a_message_naming_the_field(change, expected):
    document = copy.deepcopy(MINIMAL)
    change(document)
    assert any(problem.startswith(expected) for problem in problems_of(document)), \
        problems_of(document)


@pytest.mark.parametrize(("data", "expected"), [
    (as_bytes(MINIMAL).replace(b"tqt: 80", b"tqt: " + b"9" * 5000),
     "cannot be read: too many digits to be a number"),
    (as_bytes(MINIMAL).replace(b"'2025-09-01'", b"2025-02-30"),
     "'2025-02-30' cannot be read: day is out of range for month"),
])
def test_a_value_that_cannot_even_be_read_is_a_message_at_its_line(data, expected):
    with pytest.raises(SpecError) as caught:
        load_spec(data)
    [problem] = caught.value.problems
    assert problem.startswith("line ") and expected in problem


@pytest.mark.parametrize("change", [
    lambda d: d.update(credit_value=MAX_INTEGER + 1),
    lambda d: d["units"][0].update(glh=MAX_INTEGER + 1),
    lambda d: d["units"][0].update(title="t" * 301),
])
def test_the_web_import_answers_a_message_and_stores_nothing(login, people, session, change):
    document = copy.deepcopy(MINIMAL)
    change(document)
    client = login(people.admin)
    before = count_rows(session, QualificationVersion)
    response = client.post("/admin/catalogue", data={
        "file": (BytesIO(as_bytes(document)), "big.yaml"),
        "csrf_token": csrf_token(client, "/admin/catalogue")}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Nothing was imported: 1 problem(s)" in text(response)
    assert count_rows(session, QualificationVersion) == before
