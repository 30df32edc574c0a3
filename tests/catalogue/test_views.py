"""The read-only catalogue pages."""

from __future__ import annotations

import pytest

from tests.helpers.queries import count_queries


@pytest.fixture()
def reader(login, people):
    return login(people.learner1)


def test_the_list_shows_every_qualification(reader, builtin_specs):
    page = reader.get("/catalogue/").get_data(as_text=True)
    for spec in builtin_specs.values():
        assert spec.title.replace("&", "&amp;") in page


def test_a_qualification_page_shows_its_structure_and_rules(reader):
    response = reader.get("/catalogue/600-1257-2")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="viewport"' in page
    assert "At least <strong>28 credits</strong> in total." in page
    assert "10 further credits from Group B or Group C." in page
    assert "Units 13 and 16 are barred: only one of them counts." in page
    assert "Deal with incidents through a contact centre" in page


def test_a_unit_page_shows_outcomes_and_criteria(reader):
    page = reader.get("/catalogue/600-1636-X/units/204").get_data(as_text=True)
    assert "Principles of Using Systems and Technology in a Contact Centre" in page
    assert "Describe the purpose of a contact distribution system and how it works" in page
    assert "unit 304" in page  # barred partner


@pytest.mark.parametrize("url", [
    "/catalogue/600-0000-0", "/catalogue/not-a-qn", "/catalogue/600-1636-X/units/999",
    "/catalogue/600-1636-X?version=7",
])
def test_missing_things_are_404(reader, url):
    assert reader.get(url).status_code == 404


def test_pages_take_a_fixed_number_of_queries(reader):
    reader.get("/catalogue/")
    with count_queries() as small:
        reader.get("/catalogue/601-5358-1")
    with count_queries() as large:
        reader.get("/catalogue/600-9662-7/units/1")
        reader.get("/catalogue/600-9662-7")
    # With the user and their role grants, and the header's unread notification count.
    assert len(small) <= 9
    assert len(large) == 2 * len(small)


def test_catalogue_pages_need_a_login(app):
    anonymous = app.test_client()
    assert anonymous.get("/catalogue/").status_code == 302


def test_security_headers_are_set(reader):
    response = reader.get("/catalogue/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
