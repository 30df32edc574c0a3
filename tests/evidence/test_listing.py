"""The learner's evidence list: a status in words on every card, search by title and criterion
code, filters by status and unit, pages of 50 with the query string kept, and a number of
queries that does not grow with the portfolio."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa

from portfolio.catalogue.tree import version_tree
from portfolio.evidence import services
from portfolio.evidence.listing import ListQuery, evidence_page
from tests.helpers.assessment import add_item, criteria_of, decide
from tests.helpers.assessment_data import DIPLOMA, seed_portfolio
from tests.helpers.factories import make_enrolment, make_user
from tests.helpers.queries import statements_of_get


def _units(session, enrolment):
    return version_tree(session, enrolment.version_id).units


def _statuses(session, enrolment, **query) -> dict[str, str]:
    page = evidence_page(session, enrolment, ListQuery(**query))
    return {listed.item.title: listed.status for listed in page.items}


def _one_of_each(session, people):
    """An item in each state, on criteria of the first unit."""
    enrolment, assessor = people.enrolment1, people.assessor1
    one, two, three, four, five, six = criteria_of(
        session, enrolment, _units(session, enrolment)[0].number, 6)
    add_item(session, enrolment, [one], title="Awaiting till log")
    met = add_item(session, enrolment, [two], title="Met rota")
    decide(session, met, assessor, [two])
    partly = add_item(session, enrolment, [three, four], title="Partly met report")
    decide(session, partly, assessor, [three])
    decide(session, partly, assessor, [four], outcome="not_yet_met")
    feedback = add_item(session, enrolment, [five], title="Feedback account")
    decide(session, feedback, assessor, [five], outcome="not_yet_met")
    mixed = add_item(session, enrolment, [one, six], title="Half judged")
    decide(session, mixed, assessor, [six], outcome="not_yet_met")
    withdrawn = add_item(session, enrolment, [one], title="Withdrawn photo")
    services.withdraw(session, withdrawn, people.learner1)
    return enrolment


def test_every_card_has_its_status(people, session):
    enrolment = _one_of_each(session, people)
    assert _statuses(session, enrolment) == {
        "Awaiting till log": "awaiting", "Met rota": "met", "Partly met report": "partly_met",
        "Feedback account": "feedback", "Half judged": "awaiting"}
    assert _statuses(session, enrolment, include_withdrawn=True)["Withdrawn photo"] == "withdrawn"


def test_a_later_decision_on_the_item_replaces_its_earlier_one(people, session):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, _units(session, enrolment)[0].number, 1)
    item = add_item(session, enrolment, criterion, title="Judged twice")
    decide(session, item, people.assessor1, criterion, outcome="not_yet_met")
    assert _statuses(session, enrolment) == {"Judged twice": "feedback"}
    decide(session, item, people.assessor1, criterion, reason="The call log was there after all")
    assert _statuses(session, enrolment) == {"Judged twice": "met"}


def test_filter_by_status_agrees_with_the_cards(people, session):
    enrolment = _one_of_each(session, people)
    for status in ("awaiting", "met", "partly_met", "feedback"):
        found = _statuses(session, enrolment, status=status)
        assert found and set(found.values()) == {status}, status


def test_search_by_title_words_and_criterion_codes(people, session):
    enrolment = people.enrolment1
    first, second = _units(session, enrolment)[:2]
    add_item(session, enrolment, [first.criteria[0].id], title="Till reconciliation")
    add_item(session, enrolment, [second.criteria[0].id], title="Complaint call log")
    add_item(session, enrolment, [second.criteria[1].id], title="100% done_right")

    def titles(search, **query):
        return set(_statuses(session, enrolment, search=search, **query))

    code = second.criteria[0].code
    assert titles("till") == {"Till reconciliation"}
    assert titles("CALL log") == {"Complaint call log"}
    assert titles(f"{second.number} {code}") == {"Complaint call log"}
    assert titles(f"{second.number}.{code}") == {"Complaint call log"}
    assert titles(second.number) == {"Complaint call log", "100% done_right"}
    assert titles(f"{first.number} {code}") == (
        {"Till reconciliation"} if first.criteria[0].code == code else set())
    assert titles("%") == {"100% done_right"} and titles("_") == {"100% done_right"}
    assert titles("log", unit_id=first.id) == set()
    assert titles("", unit_id=second.id) == {"Complaint call log", "100% done_right"}


def test_pages_of_fifty(people, session):
    enrolment = people.enrolment1
    criterion = criteria_of(session, enrolment, _units(session, enrolment)[0].number, 1)
    for n in range(120):
        add_item(session, enrolment, criterion, title=f"Shift {n:03d}")
    pages = [evidence_page(session, enrolment, ListQuery(page=n)) for n in (1, 2, 3, 9)]
    assert [len(p.items) for p in pages] == [50, 50, 20, 20]
    assert pages[3].page == 3 and pages[0].total == 120 and pages[0].pages == 3
    seen = [listed.item.title for p in pages[:3] for listed in p.items]
    assert sorted(seen) == sorted(f"Shift {n:03d}" for n in range(120))


def test_page_links_keep_the_search(login, people, session):
    enrolment = people.enrolment1
    unit = _units(session, enrolment)[0]
    for n in range(55):
        add_item(session, enrolment, [unit.criteria[0].id], title=f"Shift {n:03d}")
    client = login(people.learner1)
    page = client.get(f"/enrolments/{enrolment.id}/evidence?q=shift&unit={unit.number}"
                      "&status=awaiting").get_data(as_text=True)
    assert page.count('class="evidence-card') == 50
    assert "Awaiting a decision" in page and "page 1 of 2" in page
    next_link = html.unescape(re.search(r'href="([^"]+)" rel="next"', page).group(1))
    assert "q=shift" in next_link and f"unit={unit.number}" in next_link
    assert "status=awaiting" in next_link and "page=2" in next_link
    second = client.get(next_link).get_data(as_text=True)
    assert second.count('class="evidence-card') == 5 and 'rel="prev"' in second


def test_a_refused_filter_is_shown_and_ignored(login, people, session):
    enrolment = people.enrolment1
    add_item(session, enrolment, criteria_of(session, enrolment,
                                             _units(session, enrolment)[0].number, 1))
    client = login(people.learner1)
    page = client.get(f"/enrolments/{enrolment.id}/evidence?status=lost&unit=999"
                      ).get_data(as_text=True)
    assert page.count('class="evidence-card') == 1
    assert re.search(r'id="status-error".*Not a valid choice', page, re.S)
    assert 'id="unit-error"' in page


def test_another_learners_list_is_not_found(login, people):
    for who in ("learner2", "other_learner"):
        client = login(getattr(people, who))
        response = client.get(f"/enrolments/{people.enrolment1.id}/evidence?q=till&page=2")
        assert response.status_code == 404, who


def test_first_page_queries_do_not_grow_with_the_portfolio(login, people, session):
    centre, assessor, iqa = (session.get(type(p), sa.inspect(p).identity[0])
                             for p in (people.centre, people.assessor1, people.iqa1))
    learner = make_user(session, centre, "diploma@north.test", "learner", name="Diploma Learner")
    enrolment = make_enrolment(session, learner, assessor, iqa, DIPLOMA)
    client = login(learner)
    url = f"/enrolments/{enrolment.id}/evidence"
    seed_portfolio(session, enrolment, items=60, claims=150, rng_seed=1)
    statements_of_get(client, session, url)  # the catalogue tree is cached on first use
    small = statements_of_get(client, session, url)
    seed_portfolio(session, enrolment, items=600, claims=1500, rng_seed=2)
    large = statements_of_get(client, session, url)
    assert len(large) == len(small), "\n".join(large)
    searched = statements_of_get(client, session, url + "?q=1&status=feedback&unit=1&page=2")
    assert len(searched) == len(small)
    assert client.get(url).get_data(as_text=True).count('class="evidence-card') == 50
