"""Assessment pages through the test client: judging, conflicts, feedback and resubmission,
progress, the tracking grid, criterion histories, units, the caseload and the audit trail."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import sqlalchemy as sa

from portfolio.assessment import decisions as assessment_decisions
from portfolio.assessment import views as assessment_views
from portfolio.assessment.criterion_states import current_decisions
from portfolio.assessment.models import Decision, UnitDeclaration, UnitSignOff, UnitUnlock
from portfolio.assessment.units import record_prior_achievement, sign_off_unit
from portfolio.core.audit import AuditEvent
from portfolio.evidence.models import CriterionClaim, EvidenceItem
from tests.helpers.assessment import (
    FEEDBACK,
    add_item,
    criteria_of,
    decide,
    judgement_error,
    meet_unit,
    progress,
    refusals,
    status,
    unit_node,
)
from tests.helpers.evidence import upload
from tests.helpers.factories import make_enrolment, make_user
from tests.helpers.queries import count_rows
from tests.helpers.samples import PDF
from tests.helpers.web import csrf_token, flashes, text, token_in


def judge_form(client, decisions: dict[int, str], current_ids: dict[int, int | None] | None = None,
               **extra) -> dict:
    data = {"csrf_token": csrf_token(client, "/catalogue/")}
    for criterion_id, outcome in decisions.items():
        data[f"outcome-{criterion_id}"] = outcome
        seen = (current_ids or {}).get(criterion_id)
        data[f"current-{criterion_id}"] = "" if seen is None else str(seen)
    data.update(extra)
    return data


@pytest.fixture()
def item(session, people):
    """An item of learner1 claiming the first three criteria of unit 301."""
    created = add_item(session, people.enrolment1, criteria_of(session, people.enrolment1, "301", 3),
                       title="Complaint call log", files=2)
    session.commit()
    return created


def test_the_judge_page_shows_each_claimed_criterion(login, people, session, item):
    client = login(people.assessor1)
    page = text(client.get(f"/evidence/{item.id}/judge"))
    claimed = [c.criterion_id for c in item.claims]
    for claim in item.claims:
        assert f'name="outcome-{claim.criterion_id}"' in page
        assert f'name="current-{claim.criterion_id}" value=""' in page
        assert html.escape(claim.criterion.text, quote=False) in page
    assert set(map(int, re.findall(r'name="outcome-(\d+)" value="met"', page))) == set(claimed)
    # Every other criterion of the qualification can be mapped, none of the claimed ones.
    mappable = set(map(int, re.findall(r'name="map" value="(\d+)"', page)))
    assert not mappable & set(claimed)
    assert criteria_of(session, people.enrolment1, "301")[3] in mappable
    assert len(mappable) == 184 - 3
    for stored in item.files:
        assert stored.sha256[:16] in page


def test_posting_decisions_records_them(login, people, session, item):
    client = login(people.assessor1)
    met, not_met, undecided = (c.criterion_id for c in item.claims)
    mapped = criteria_of(session, people.enrolment1, "302", 1)[0]
    response = client.post(f"/evidence/{item.id}/judge", data=judge_form(
        client, {met: "met", not_met: "not_yet_met", undecided: ""},
        **{f"feedback-{not_met}": FEEDBACK, "map": [str(mapped)]}))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/evidence/{item.id}/judge")
    page = text(client.get(response.headers["Location"]))
    assert "Decisions recorded." in flashes(page)

    decisions = {d.criterion_id: d for d in session.scalars(sa.select(Decision))}
    assert set(decisions) == {met, not_met}
    assert decisions[met].outcome == "met"
    assert decisions[not_met].feedback == FEEDBACK
    assert decisions[met].file_hashes == [f.sha256 for f in item.files]
    assert decisions[met].assessor_id == people.assessor1.id
    assert status(session, people.enrolment1, undecided) == "claimed"
    claim = session.scalar(sa.select(CriterionClaim).where(CriterionClaim.item_id == item.id,
                                                           CriterionClaim.criterion_id == mapped))
    assert claim.added_by_id == people.assessor1.id
    # The page now carries the current decision for the next judgement.
    assert f'name="current-{met}" value="{decisions[met].id}"' in page
    assert "On this item: Met by Assessor1" in page
    assert count_rows(session, AuditEvent, AuditEvent.action == "decision.recorded") == 2


def test_not_yet_met_without_feedback_is_refused_on_the_page(login, people, session, item):
    client = login(people.assessor1)
    met, not_met, _ = (c.criterion_id for c in item.claims)
    response = client.post(f"/evidence/{item.id}/judge",
                           data=judge_form(client, {met: "met", not_met: "not_yet_met"}))
    assert response.status_code == 422
    page = text(response)
    assert refusals(page) == [
        "Nothing was recorded: 1 judgement needs changing. Everything you entered is kept below."]
    assert judgement_error(page, not_met) == (
        "Give the learner feedback they can act on for unit 301 criterion 1.2.")
    assert count_rows(session, Decision) == 0


def test_a_stale_current_decision_gives_the_conflict_message(login, people, session, item):
    client = login(people.assessor1)
    first, second, _ = (c.criterion_id for c in item.claims)
    page = text(client.get(f"/evidence/{item.id}/judge"))  # drawn with no decision on `first`
    assert f'name="current-{first}" value=""' in page
    decide(session, item, people.assessor1, [first], "not_yet_met")  # another tab, meanwhile
    session.commit()
    decisions, events = count_rows(session, Decision), count_rows(session, AuditEvent)
    mapped = criteria_of(session, people.enrolment1, "302", 1)[0]

    response = client.post(f"/evidence/{item.id}/judge", data=judge_form(
        client, {second: "met", first: "met"}, map=[str(mapped)]))

    assert response.status_code == 409
    assert refusals(text(response)) == [
        "unit 301 criterion 1.1 was decided by someone else since you opened this page. "
        "Nothing was saved: reload to see their decision."]
    assert (count_rows(session, Decision),
            count_rows(session, AuditEvent)) == (decisions, events)
    assert status(session, people.enrolment1, second) == "claimed"
    assert status(session, people.enrolment1, first) == "not_yet_met"
    assert count_rows(session, CriterionClaim, CriterionClaim.criterion_id == mapped) == 0


def test_posting_the_same_page_twice_records_once(login, people, session, item):
    client = login(people.assessor1)
    criterion = item.claims[0].criterion_id
    data = judge_form(client, {criterion: "met"})
    assert client.post(f"/evidence/{item.id}/judge", data=data).status_code == 302
    again = client.post(f"/evidence/{item.id}/judge", data=data)
    assert again.status_code == 409
    assert "was decided by someone else" in refusals(text(again))[-1]
    assert count_rows(session, Decision) == 1


def test_a_race_lost_in_the_database_gives_the_conflict_message(login, people, session, item,
                                                                monkeypatch):
    """The unique indexes catch what the check cannot see (a decision committed between the
    check and the insert); the check is blinded here to force that path."""
    client = login(people.assessor1)
    criterion = item.claims[0].criterion_id
    decide(session, item, people.assessor1, [criterion], "not_yet_met")
    session.commit()
    original = current_decisions
    monkeypatch.setattr(assessment_decisions, "current_decisions",
                        lambda ids: original(ids).where(sa.false()))

    response = client.post(f"/evidence/{item.id}/judge",
                           data=judge_form(client, {criterion: "met"}))

    assert response.status_code == 409
    assert assessment_views.CONFLICT in refusals(text(response))
    assert count_rows(session, Decision) == 1
    assert count_rows(session, AuditEvent, AuditEvent.action == "decision.recorded") == 1


def test_the_learner_sees_feedback_and_resubmits_the_criteria_not_yet_met(
        login, people, session, item):
    met, not_met, also_not_met = (c.criterion_id for c in item.claims)
    decide(session, item, people.assessor1, [met])
    decide(session, item, people.assessor1, [not_met, also_not_met], "not_yet_met",
           feedback="Your notes do not show the customer's consent.")
    session.commit()

    client = login(people.learner1)
    page = text(client.get(f"/evidence/{item.id}"))
    assert "Your notes do not show the customer&#39;s consent." in page
    assert page.count("Not yet met") == 2 and "<strong>Met</strong>" in page
    assert "Judge this evidence" not in page
    link = f"/enrolments/{people.enrolment1.id}/evidence/new?resubmit={item.id}"
    assert f'href="{link}"' in page

    form = text(client.get(link))
    checked = set(map(int, re.findall(r'name="criteria" value="(\d+)" checked', form)))
    assert checked == {not_met, also_not_met}
    assert "Resubmission: Complaint call log" in form

    uploaded = upload(client, people.enrolment1, PDF, "consent.pdf").get_json()["id"]
    response = client.post(link, data={
        "title": "Resubmission: Complaint call log", "description": "With the consent form",
        "evidence_date": "2026-10-02", "method": "product", "setting": "workplace",
        "declaration": "y", "uploads": [uploaded], "criteria": sorted(checked),
        "csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == 302, text(response)
    again = session.scalar(sa.select(EvidenceItem).order_by(EvidenceItem.id.desc()))
    assert again.resubmission_of_id == item.id
    assert {status(session, people.enrolment1, c) for c in checked} == {"claimed"}
    assert status(session, people.enrolment1, met) == "met"

    # Back in the assessor's queue.
    client = login(people.assessor1)
    caseload = text(client.get("/caseload"))
    assert f'href="/evidence/{again.id}/judge">1 item(s)</a>' in caseload
    assert "Judge this evidence" in text(client.get(f"/evidence/{again.id}"))


def test_an_item_with_everything_met_offers_no_resubmission(login, people, session, item):
    decide(session, item, people.assessor1, [c.criterion_id for c in item.claims])
    session.commit()
    page = text(login(people.learner1).get(f"/evidence/{item.id}"))
    assert page.count("<strong>Met</strong>") == 3
    assert "resubmit=" not in page


def test_the_progress_page_shows_credits_and_whats_left(login, people, session):
    enrolment = people.enrolment1
    meet_unit(session, enrolment, "301", people.assessor1)
    sign_off_unit(session, enrolment, unit_node(session, enrolment, "301").id,
                           people.assessor1)
    meet_unit(session, enrolment, "302", people.assessor1)
    session.commit()
    expected = progress(session, enrolment)

    page = text(login(people.learner1).get(f"/enrolments/{enrolment.id}/progress"))
    assert "Not yet achieved: <strong>2</strong> of 16 credits count" in page
    assert f"{11 + 11} of 184 criteria met (12%)" in page
    assert "What's left" in page
    assert (f"units {', '.join(expected.plan.units)} ({expected.plan.additional_credits} credits, "
            f"{expected.plan.open_criteria} criteria still to meet)") in page
    assert "302" in expected.plan.units and "301" not in expected.plan.units
    for shortfall in expected.evaluation.shortfalls:
        assert html.escape(shortfall.message) in page
    assert "Assessed" in page and "by Assessor1" in page
    assert "Ready for sign-off" in page
    assert "Sign off unit 302" not in page  # the learner sees no assessor buttons
    assessor_page = text(login(people.assessor1).get(f"/enrolments/{enrolment.id}/progress"))
    assert "Sign off unit 302" in assessor_page


def test_the_grid_has_a_cell_per_criterion_of_a_47_unit_diploma(login, people, session):
    learner = make_user(session, people.centre, "zoe@north.test", "learner")
    enrolment = make_enrolment(session, learner, people.assessor1, people.iqa1, "600/9662/7")
    session.commit()
    page = text(login(people.assessor1).get(f"/enrolments/{enrolment.id}/grid"))
    assert page.count('<a class="cell ') == 736
    assert page.count('<section class="grid-unit') == 47
    assert page.count('<a class="cell status-not_started"') == 736


def test_the_grid_shows_each_criterions_status(login, people, session, item):
    enrolment = people.enrolment1
    met, not_met, claimed = (c.criterion_id for c in item.claims)
    decide(session, item, people.assessor1, [met])
    decide(session, item, people.assessor1, [not_met], "not_yet_met")
    record_prior_achievement(session, enrolment, unit_node(session, enrolment, "303").id,
                                      people.assessor1, "credit_transfer", "Certificate 77")
    session.commit()
    page = text(login(people.learner1).get(f"/enrolments/{enrolment.id}/grid"))
    cells = {int(cid): state for state, cid in re.findall(
        rf'class="cell status-(\w+)" href="/enrolments/{enrolment.id}/criteria/(\d+)"', page)}
    assert len(cells) == 184
    assert (cells[met], cells[not_met], cells[claimed]) == ("met", "not_yet_met", "claimed")
    assert {cells[c] for c in criteria_of(session, enrolment, "303")} == {"met"}
    assert {cells[c] for c in criteria_of(session, enrolment, "302")} == {"not_started"}
    # Not by colour alone: each cell says its status in a mark and in words.
    marks = {int(cid): (mark, words) for cid, mark, words in re.findall(
        rf'href="/enrolments/{enrolment.id}/criteria/(\d+)"[^>]*>[^<]*'
        r'(?:<span aria-hidden="true">(.)</span>)?<span class="visually-hidden">: ([^<]+)</span>',
        page)}
    assert len(marks) == 184
    assert [marks[c][0] for c in (met, not_met, claimed)] == ["✓", "✗", "…"]
    assert {marks[c][0] for c in criteria_of(session, enrolment, "302")} == {""}


def _grid_cells(client, enrolment) -> dict[int, str]:
    page = text(client.get(f"/enrolments/{enrolment.id}/grid"))
    return {int(cid): state for state, cid in re.findall(
        rf'class="cell status-(\w+)" href="/enrolments/{enrolment.id}/criteria/(\d+)"', page)}


def test_a_grid_drawn_before_shows_every_change_since(login, people, session, item):
    """Each process keeps the grid's units as drawn: a unit whose statuses or sign-off changed
    is drawn again, and a learner whose statuses are the same as another's gets their own
    links."""
    enrolment = people.enrolment1
    met, not_met, claimed = (c.criterion_id for c in item.claims)
    client = login(people.learner1)
    before = _grid_cells(client, enrolment)
    assert (before[met], before[not_met], before[claimed]) == ("claimed",) * 3
    # The unit's count of met criteria and its status stay as they were: only a cell changes.
    decide(session, item, people.assessor1, [not_met], "not_yet_met")
    session.commit()
    after = _grid_cells(client, enrolment)
    assert (after[met], after[not_met], after[claimed]) == ("claimed", "not_yet_met", "claimed")
    decide(session, item, people.assessor1, [met])
    session.commit()
    after = _grid_cells(client, enrolment)
    assert (after[met], after[not_met], after[claimed]) == ("met", "not_yet_met", "claimed")
    unit = unit_node(session, enrolment, "303")
    assert "303</span> " in text(client.get(f"/enrolments/{enrolment.id}/grid"))
    record_prior_achievement(session, enrolment, unit.id, people.assessor1, "credit_transfer",
                             "Certificate 77")
    session.commit()
    page = text(client.get(f"/enrolments/{enrolment.id}/grid"))
    assert re.search(rf'id="unit-303">\s*<h2>.*{len(unit.criteria)}/{len(unit.criteria)} · '
                     r'Credit transfer</span>', page)
    assert {_grid_cells(client, enrolment)[c] for c in criteria_of(session, enrolment, "303")
            } == {"met"}

    twins = [make_enrolment(session, make_user(session, people.centre, f"twin{n}@north.test",
                                               "learner"), people.assessor1, people.iqa1,
                            "600/9662/7") for n in (1, 2)]
    session.commit()
    assessor = login(people.assessor1)
    for twin in twins:
        cells = _grid_cells(assessor, twin)
        assert len(cells) == 736 and set(cells.values()) == {"not_started"}


def test_the_criterion_page_lists_its_history_and_the_items_claiming_it(
        login, people, session, item):
    enrolment = people.enrolment1
    criterion = item.claims[0].criterion_id
    [first] = decide(session, item, people.assessor1, [criterion], "not_yet_met",
                     feedback="Missing the customer's name.")
    again = add_item(session, enrolment, [criterion], title="Second call log",
                     resubmission_of=item)
    [second] = decide(session, again, people.assessor1, [criterion])
    session.commit()

    page = text(login(people.iqa1).get(f"/enrolments/{enrolment.id}/criteria/{criterion}"))
    assert "status: <strong>Met</strong>" in page
    assert "Complaint call log" in page and "Second call log" in page
    assert page.index('class="outcome-met"') < page.index('class="outcome-not_yet_met"')
    assert "Missing the customer&#39;s name." in page
    assert f"Replaced decision #{first.id}: Judged further evidence: Second call log" in page
    # Each decision links to the item it judged, by its title.
    assert f'on <a href="/evidence/{again.id}">Second call log</a>' in page
    assert f'on <a href="/evidence/{item.id}">Complaint call log</a>' in page
    assert again.files[0].sha256[:12] in page
    assert "judge</a>" not in page  # the IQA may look, not judge

    foreign = criteria_of(session, people.enrolment2, "01", 1)[0]
    client = login(people.admin)
    assert client.get(f"/enrolments/{enrolment.id}/criteria/{foreign}").status_code == 404
    untouched = criteria_of(session, enrolment, "309", 1)[0]
    page = text(client.get(f"/enrolments/{enrolment.id}/criteria/{untouched}"))
    assert "No decision yet." in page and "None yet." in page


def test_a_ncfe_unit_is_declared_then_countersigned_through_the_pages(login, people, session):
    enrolment = people.enrolment2
    unit = unit_node(session, enrolment, "01")
    meet_unit(session, enrolment, "01", people.assessor2)
    session.commit()
    url = f"/enrolments/{enrolment.id}/progress"

    client = login(people.assessor2)
    page = text(client.get(url))
    assert "(learner declaration needed)" in page and "Sign off unit 01" not in page
    response = client.post(f"/enrolments/{enrolment.id}/units/{unit.id}/sign-off",
                           data={"csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == 302
    assert flashes(text(client.get(url))) == [
        "The learner has not yet declared that the work for unit 01 is their own."]
    assert count_rows(session, UnitSignOff) == 0

    client = login(people.learner2)
    assert "Yes, declare unit 01 my own work" in text(client.get(url))
    response = client.post(f"/enrolments/{enrolment.id}/units/{unit.id}/declare",
                           data={"csrf_token": csrf_token(client, "/catalogue/")})
    assert response.status_code == 302
    declaration = session.scalar(sa.select(UnitDeclaration))
    assert (declaration.unit_id, declaration.learner_id) == (unit.id, people.learner2.id)

    client = login(people.assessor2)
    assert "Sign off unit 01" in text(client.get(url))
    client.post(f"/enrolments/{enrolment.id}/units/{unit.id}/sign-off",
                data={"csrf_token": csrf_token(client, "/catalogue/")})
    signed = session.scalar(sa.select(UnitSignOff))
    assert signed.declaration_id == declaration.id
    page = text(client.get(url))
    assert "Unit signed off." in flashes(page)
    assert "Assessed" in page and "by Assessor2" in page


def test_prior_achievement_and_unlocking_through_the_pages(login, people, session):
    enrolment = people.enrolment1
    unit = unit_node(session, enrolment, "304")
    theirs = add_item(session, people.enrolment2, criteria_of(session, people.enrolment2, "01", 1))
    mine = add_item(session, enrolment, criteria_of(session, enrolment, "304", 1))
    session.commit()
    url = f"/enrolments/{enrolment.id}/units/{unit.id}/prior"

    client = login(people.assessor1)
    assert "Unit 304 achieved by RPL or credit transfer" in text(client.get(url))
    page = text(client.post(url, data={"csrf_token": csrf_token(client, "/catalogue/"),
                                       "method": "rpl",
                                       "details": "Old certificate", "item_id": theirs.id},
                            follow_redirects=True))
    assert "must be a live item of this learner&#39;s portfolio." in page
    page = text(client.post(url, data={"csrf_token": csrf_token(client, "/catalogue/"),
                                       "method": "rpl", "details": ""}))
    assert count_rows(session, UnitSignOff) == 0
    response = client.post(url, data={"csrf_token": csrf_token(client, "/catalogue/"),
                                      "method": "rpl", "details": "Pearson certificate 2291",
                                      "item_id": mine.id})
    assert response.status_code == 302
    signed = session.scalar(sa.select(UnitSignOff))
    assert (signed.method, signed.item_id, signed.details) == ("rpl", mine.id,
                                                               "Pearson certificate 2291")
    assert "Unit 304 recorded as achieved." in flashes(text(client.get(
        f"/enrolments/{enrolment.id}/progress")))

    unlock = f"/enrolments/{enrolment.id}/sign-offs/{signed.id}/unlock"
    client = login(people.admin)
    assert f'href="{unlock}"' in text(client.get(f"/enrolments/{enrolment.id}/progress"))
    assert "Unlock unit 304" in text(client.get(unlock))
    assert client.post(unlock, data={"csrf_token": csrf_token(client, "/catalogue/"),
                                     "reason": ""}).status_code == 200
    assert count_rows(session, UnitUnlock) == 0
    response = client.post(unlock, data={"csrf_token": csrf_token(client, "/catalogue/"),
                                         "reason": "Certificate could not be verified"})
    assert response.status_code == 302
    assert session.scalar(sa.select(UnitUnlock)).reason == "Certificate could not be verified"
    page = text(client.get(f"/enrolments/{enrolment.id}/progress"))
    assert "Unit 304 unlocked." in flashes(page)
    assert "<strong>0</strong> of 16 credits" in page


def _caseload_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td data-label="Learner"><a href="/enrolments/(\d+)/progress">', page)]


def test_the_caseload_lists_the_assessors_learners_and_sorts_by_every_key(login, people, session):
    mine = people.enrolment1
    zoe = make_enrolment(session, make_user(session, people.centre, "zoe@north.test", "learner"),
                         people.assessor1, people.iqa1, "600/9662/7")
    ended = make_enrolment(session, make_user(session, people.centre, "yann@north.test",
                                              "learner"), people.assessor1, people.iqa1)
    ended.status = "completed"
    ended.ended_at = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    # learner1: a unit signed off, another ready, evidence awaiting judgement.
    meet_unit(session, mine, "301", people.assessor1)
    sign_off_unit(session, mine, unit_node(session, mine, "301").id, people.assessor1)
    meet_unit(session, mine, "302", people.assessor1)
    waiting = add_item(session, mine, criteria_of(session, mine, "303", 2))
    session.commit()

    client = login(people.assessor1)
    page = text(client.get("/caseload"))
    assert sorted(_caseload_ids(page)) == sorted([mine.id, zoe.id])
    assert "Learner2" not in page and "Yann" not in page
    assert f'href="/evidence/{waiting.id}/judge">1 item(s)</a>' in page
    assert "2 / 16" in page

    learner1_first = [mine.id, zoe.id]
    titles = sorted([(mine.version.title, mine.id), (zoe.version.title, zoe.id)])
    expected = {
        "attention": learner1_first,
        "awaiting": learner1_first,
        "learner": learner1_first,
        "qualification": [i for _, i in titles],
        "percent": learner1_first[::-1],
        "credits": learner1_first[::-1],
        "ready": learner1_first,
        "activity": learner1_first[::-1],
    }
    assert set(expected) == set(assessment_views.CASELOAD_SORTS) | {"attention"}
    for key, order in expected.items():
        response = client.get(f"/caseload?sort={key}")
        assert response.status_code == 200, key
        assert _caseload_ids(text(response)) == order, key
        assert _caseload_ids(text(client.get(f"/caseload?sort={key}&desc=1"))) == order[::-1], key
    assert _caseload_ids(text(client.get("/caseload?sort=nonsense"))) == expected["attention"]

    # Another assessor sees only their own learners; an assessor with none sees an empty list.
    assert _caseload_ids(text(login(people.assessor2).get("/caseload"))) == [people.enrolment2.id]
    assert _caseload_ids(text(login(people.iqa2).get("/caseload"))) == []


def _caseload_row(client, enrolment) -> str:
    page = text(client.get("/caseload"))
    return re.search(rf'<tr[^>]*>\s*<td data-label="Learner"><a href="/enrolments/{enrolment.id}/'
                     r'progress">.*?</tr>', page, re.S).group(0)


def test_a_caseload_row_drawn_before_shows_every_change_since(login, people, session):
    """Each process keeps the caseload's rows as drawn, under every value they show."""
    mine = people.enrolment1
    client = login(people.assessor1)
    assert "none" in _caseload_row(client, mine)
    waiting = add_item(session, mine, criteria_of(session, mine, "303", 2))
    session.commit()
    row = _caseload_row(client, mine)
    assert f'href="/evidence/{waiting.id}/judge">1 item(s)</a>' in row
    decide(session, waiting, people.assessor1, criteria_of(session, mine, "303", 2))
    session.commit()
    row = _caseload_row(client, mine)
    assert "judge" not in row and "none" in row
    mine.learner.name = "Learner One Renamed"
    session.commit()
    assert "Learner One Renamed" in _caseload_row(client, mine)


def _progress_row(client, enrolment, number: str) -> tuple[str, str]:
    """The unit's row of the progress page, and the page's CSRF token."""
    page = text(client.get(f"/enrolments/{enrolment.id}/progress"))
    return re.search(rf'<tr class="unit-\w+">\s*<td data-label="Unit"><a href="[^"]*#unit-{number}"'
                     r'>.*?</tr>', page, re.S).group(0), token_in(page)


def test_a_progress_row_drawn_before_shows_every_change_since(login, people, session):
    """Each process keeps the progress page's unit rows as drawn, under every value they show;
    a row offering a form is drawn afresh, with the page's CSRF token."""
    enrolment = people.enrolment1
    client = login(people.assessor1)
    row, _ = _progress_row(client, enrolment, "302")
    assert "Not started" in row and "Sign off unit 302" not in row
    meet_unit(session, enrolment, "302", people.assessor1)
    session.commit()
    row, token = _progress_row(client, enrolment, "302")
    assert "Ready for sign-off" in row and f'value="{token}"' in row
    sign_off_unit(session, enrolment, unit_node(session, enrolment, "302").id, people.assessor1)
    session.commit()
    row, _ = _progress_row(client, enrolment, "302")
    assert "by Assessor1" in row and "Sign off unit 302" not in row and "unlock" not in row
    row, _ = _progress_row(login(people.admin), enrolment, "302")
    assert "by Assessor1" in row and ">unlock</a>" in row
