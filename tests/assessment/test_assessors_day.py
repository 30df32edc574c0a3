"""The assessor's day on the pages: a refused batch kept as sent, nothing recorded said so,
feedback on the whole item (append-only), the next awaiting item, PDFs inline from the store,
the caseload by what needs attention, the landing page, and the unit declaration's wording."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from portfolio.assessment.decisions import NOTHING_RECORDED, Judgement, record_decisions
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.models import Decision, ItemFeedback, UnitDeclaration
from portfolio.assessment.units import declaration_wording, declare_unit
from portfolio.catalogue.tree import version_tree
from portfolio.core.audit import AuditEvent
from portfolio.core.db import utcnow
from tests.helpers.assessment import (
    add_item,
    criteria_of,
    decide,
    judgement_error,
    meet_unit,
    refusals,
    unit_node,
)
from tests.helpers.factories import make_enrolment, make_user
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token, flashes, text

FEEDBACK = "Say which policy you followed when you closed the complaint."


@pytest.fixture()
def item(session, people):
    """An item of learner1 claiming the first four criteria of unit 301."""
    created = add_item(session, people.enrolment1,
                       criteria_of(session, people.enrolment1, "301", 4), title="Call log")
    session.commit()
    return created


def criterion_label(session, enrolment, criterion_id: int) -> str:
    return version_tree(session, enrolment.version_id).label(criterion_id)


def _form(client, **fields) -> dict:
    data = {"csrf_token": csrf_token(client, "/catalogue/")}
    data.update(fields)
    return data


def test_a_batch_with_one_refusal_keeps_every_choice_and_marks_only_that_field(
        login, people, session, item):
    client = login(people.assessor1)
    a, b, c, d = (claim.criterion_id for claim in item.claims)
    sent = {f"outcome-{a}": "met", f"outcome-{b}": "not_yet_met", f"outcome-{c}": "not_yet_met",
            f"feedback-{c}": FEEDBACK, f"outcome-{d}": "met", f"feedback-{d}": "Well done.",
            "item_feedback": "A clear log overall."}
    for criterion in (a, b, c, d):
        sent[f"current-{criterion}"] = ""

    response = client.post(f"/evidence/{item.id}/judge", data=_form(client, **sent))

    assert response.status_code == 422
    page = text(response)
    assert refusals(page) == [
        "Nothing was recorded: 1 judgement needs changing. Everything you entered is kept below."]
    assert judgement_error(page, b) == (
        "Give the learner feedback they can act on for unit 301 criterion 1.2.")
    assert [judgement_error(page, other) for other in (a, c, d)] == [None, None, None]
    for criterion, outcome in ((a, "met"), (b, "not_yet_met"), (c, "not_yet_met"), (d, "met")):
        assert f'name="outcome-{criterion}" value="{outcome}" checked' in page
    assert f'name="feedback-{c}" rows="2">{FEEDBACK}</textarea>' in page.replace("&#39;", "'")
    assert f'name="feedback-{d}" rows="2">Well done.</textarea>' in page
    assert ">A clear log overall.</textarea>" in page
    assert (count_rows(session, Decision), count_rows(session, ItemFeedback)) == (0, 0)


def test_recording_nothing_says_nothing_was_recorded(login, people, session, item):
    client = login(people.assessor1)
    response = client.post(f"/evidence/{item.id}/judge", data=_form(client))
    assert response.status_code == 422
    assert refusals(text(response)) == [NOTHING_RECORDED]
    assert "Decisions recorded." not in text(response)
    assert count_rows(session, Decision) == 0


def test_a_criterion_the_item_does_not_claim_is_refused_by_name(login, people, session, item):
    client = login(people.assessor1)
    unclaimed = criteria_of(session, people.enrolment1, "301")[5]
    claimed = item.claims[0].criterion_id
    response = client.post(f"/evidence/{item.id}/judge", data=_form(client, **{
        f"outcome-{claimed}": "met", f"current-{claimed}": "",
        f"outcome-{unclaimed}": "met", f"current-{unclaimed}": ""}))
    assert response.status_code == 422
    code = criterion_label(session, people.enrolment1, unclaimed)
    assert refusals(text(response)) == [
        "Nothing was recorded: 1 judgement needs changing. Everything you entered is kept below.",
        f"{code} is not claimed by this evidence: map it to the evidence first."]
    assert count_rows(session, Decision) == 0


def test_feedback_on_the_whole_item_is_appended_never_replaced(login, people, session, item):
    client = login(people.assessor1)
    for words in ("Good start: add the date of the call.", "Thanks for the date."):
        response = client.post(f"/evidence/{item.id}/judge",
                               data=_form(client, item_feedback=words))
        assert response.status_code == 302
        assert flashes(text(client.get(response.headers["Location"]))) == [
            "Feedback on the item recorded."]
    given = list(session.scalars(sa.select(ItemFeedback).order_by(ItemFeedback.id)))
    assert [(f.text, f.assessor_id, f.item_id) for f in given] == [
        ("Good start: add the date of the call.", people.assessor1.id, item.id),
        ("Thanks for the date.", people.assessor1.id, item.id)]
    assert count_rows(session, AuditEvent, AuditEvent.action == "item_feedback.given") == 2
    # Feedback alone is no judgement: the item still awaits decisions and may be withdrawn.
    session.refresh(item)
    assert item.judged_at is None and item.awaiting_decision_since is not None
    page = text(client.get(f"/evidence/{item.id}/judge"))
    assert page.index("Good start") < page.index("Thanks for the date.")


def test_the_learner_reads_the_item_feedback_on_the_evidence_page(login, people, session, item):
    record_decisions(session, item, people.assessor1, [], item_feedback="Add the date.")
    other = add_item(session, people.enrolment1, criteria_of(session, people.enrolment1, "302", 1))
    session.commit()
    client = login(people.learner1)
    shown = text(client.get(f"/evidence/{item.id}"))
    assert "Feedback on this evidence" in shown and "Add the date." in shown
    assert "Assessor1" in shown
    assert "Feedback on this evidence" not in text(client.get(f"/evidence/{other.id}"))


def test_a_service_refusal_names_every_problem_of_the_batch(session, people, item):
    a, b, c, _ = (claim.criterion_id for claim in item.claims)
    with pytest.raises(AssessmentError) as refused:
        record_decisions(session, item, people.assessor1, [
            Judgement(a, "met"), Judgement(b, "not_yet_met"), Judgement(c, "maybe")])
    assert refused.value.problems == {
        b: "Give the learner feedback they can act on for unit 301 criterion 1.2.",
        c: "Choose met or not yet met for unit 301 criterion 1.3."}
    assert count_rows(session, Decision) == 0


def _awaiting(session, enrolment, criteria, days_ago: int, title: str):
    created = add_item(session, enrolment, criteria, title=title)
    created.awaiting_decision_since = utcnow() - dt.timedelta(days=days_ago)
    return created


def test_next_awaiting_item_takes_the_same_learner_first_then_the_longest_waiting(
        login, people, session):
    mine = people.enrolment1
    zoe = make_enrolment(session, make_user(session, people.centre, "zoe@north.test", "learner"),
                         people.assessor1, people.iqa1)
    ann = make_enrolment(session, make_user(session, people.centre, "ann@north.test", "learner"),
                         people.assessor1, people.iqa1)
    first = _awaiting(session, mine, criteria_of(session, mine, "301", 1), 3, "First")
    second = _awaiting(session, mine, criteria_of(session, mine, "302", 1), 1, "Second")
    zoes = _awaiting(session, zoe, criteria_of(session, zoe, "301", 1), 10, "Zoe's")
    anns = _awaiting(session, ann, criteria_of(session, ann, "301", 1), 5, "Ann's")
    # Another assessor's learner, waiting longest of all, is never offered.
    _awaiting(session, people.enrolment2, criteria_of(session, people.enrolment2, "01", 1), 90,
              "Not mine")
    session.commit()
    client = login(people.assessor1)

    def after(item) -> str:
        response = client.get(f"/evidence/{item.id}/next")
        assert response.status_code == 302
        return response.headers["Location"]

    assert "Next awaiting item" in text(client.get(f"/evidence/{first.id}/judge"))
    assert after(first) == f"/evidence/{second.id}/judge"
    assert after(second) == f"/evidence/{first.id}/judge"  # the same learner's, still waiting
    client.post(f"/evidence/{first.id}/judge", data=_form(client, **{
        f"outcome-{first.claims[0].criterion_id}": "met",
        f"current-{first.claims[0].criterion_id}": ""}))
    client.post(f"/evidence/{second.id}/judge", data=_form(client, **{
        f"outcome-{second.claims[0].criterion_id}": "met",
        f"current-{second.claims[0].criterion_id}": ""}))
    assert after(second) == f"/evidence/{zoes.id}/judge"  # the learner waiting longest
    assert after(zoes) == f"/evidence/{anns.id}/judge"
    for done in (zoes, anns):
        criterion = done.claims[0].criterion_id
        client.post(f"/evidence/{done.id}/judge", data=_form(client, **{
            f"outcome-{criterion}": "met", f"current-{criterion}": ""}))
    assert after(anns) == "/caseload"
    assert flashes(text(client.get("/caseload")))[-1:] == [
        "Nothing else awaits your decision: every item in your caseload is judged."]


@pytest.mark.parametrize("who", ["assessor2", "iqa1", "iqa2", "learner1", "admin"])
def test_only_the_learners_assessor_may_ask_for_the_next_item(login, people, session, item, who):
    assert login(getattr(people, who)).get(f"/evidence/{item.id}/next").status_code in (403, 404)


def test_the_judge_page_shows_pdfs_inline_from_the_store_and_the_policy_allows_only_it(
        app, login, people, item):
    response = login(people.assessor1).get(f"/evidence/{item.id}/judge")
    page = text(response)
    store = app.config["STORAGE_PUBLIC_ORIGIN"]
    frames = [part.split('"', 1)[0] for part in page.split('<iframe src="')[1:]]
    assert len(frames) == len(item.files) == 1
    url = frames[0].replace("&amp;", "&")
    assert url.startswith(store + "/")
    query = parse_qs(urlsplit(url).query)
    assert query["response-content-type"] == ["application/pdf"]
    assert query["response-content-disposition"][0].startswith("inline;")
    assert int(query["X-Amz-Expires"][0]) <= 300
    policy = dict(part.strip().split(" ", 1) for part in
                  response.headers["Content-Security-Policy"].split(";"))
    assert policy["frame-src"] == store
    assert policy["frame-ancestors"] == "'none'"


def test_the_caseload_puts_what_needs_attention_first_and_says_why(login, people, session):
    def learner(name):
        return make_enrolment(session, make_user(session, people.centre, f"{name}@north.test",
                                                 "learner", name=name.title()),
                              people.assessor1, people.iqa1)

    # learner1's enrolment has ended: it leaves the caseload.
    people.enrolment1.status, people.enrolment1.ended_at = "completed", utcnow()
    busy, quiet, ready, waiting = (learner(n) for n in ("bea", "quinn", "rhea", "walt"))
    _awaiting(session, waiting, criteria_of(session, waiting, "301", 1), 4, "Waiting")
    meet_unit(session, ready, "301", people.assessor1)
    judged = add_item(session, busy, criteria_of(session, busy, "303", 1))
    decide(session, judged, people.assessor1, [judged.claims[0].criterion_id], "not_yet_met",
           feedback=FEEDBACK)
    session.commit()

    page = text(login(people.assessor1).get("/caseload"))
    rows = page.split("<tbody>", 1)[1].split("<tr ")[1:]
    names = [r.split('data-label="Learner"><a ', 1)[1].split(">", 1)[1].split("<", 1)[0]
             for r in rows]
    reasons = [r.split('data-label="Why here">', 1)[1].split("</td>", 1)[0] for r in rows]
    assert names == ["Walt", "Rhea", "Quinn", "Bea"]
    assert reasons[0].startswith("Evidence waiting since ") and reasons[0].endswith("(1 item)")
    assert reasons[1:] == ["1 unit is ready to sign off",
                           "No activity for 30 days or more: nothing at all yet",
                           "Up to date: nothing waits for you"]
    for row in rows:  # every cell labelled for phones
        assert row.count("<td") == row.count("<td data-label=") == 8


def test_assessors_land_on_the_caseload_people_with_more_to_see_on_the_home_page(login, people):
    assert login(people.assessor1).get("/").headers["Location"] == "/caseload"
    iqa_and_assessor = login(people.iqa2).get("/")
    assert iqa_and_assessor.status_code == 200 and "Learners" in text(iqa_and_assessor)
    # An IQA who does not assess lands on the quality home (which lists their learners).
    assert login(people.iqa1).get("/").headers["Location"] == "/quality"
    assert login(people.learner1).get("/").headers["Location"].startswith("/enrolments/")


def test_a_unit_is_declared_only_when_met_once_and_shows_who_and_when(login, people, session):
    enrolment = people.enrolment2  # 600/1257/2 asks for declarations
    unit = unit_node(session, enrolment, "01")
    with pytest.raises(AssessmentError, match="criteria not yet met"):
        declare_unit(session, enrolment, unit.id, people.learner2)
    client = login(people.learner2)
    assert "Declare unit 01" not in text(client.get(f"/enrolments/{enrolment.id}/progress"))

    meet_unit(session, enrolment, "01", people.assessor2)
    session.commit()
    page = text(client.get(f"/enrolments/{enrolment.id}/progress"))
    assert '<details class="confirm"><summary>Declare unit 01 my own work…</summary>' in page
    assert declaration_wording(unit).replace("'", "&#39;") in page
    response = client.post(f"/enrolments/{enrolment.id}/units/{unit.id}/declare",
                           data=_form(client))
    assert response.status_code == 302
    page = text(client.get(f"/enrolments/{enrolment.id}/progress"))
    assert "Declaration recorded." in flashes(page)
    today = dt.date.today()
    assert f"Declared by Learner2 on {today.day} {today:%B %Y}" in page
    assert "Declare unit 01" not in page
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "unit.declared"))
    assert event.data["wording"] == declaration_wording(unit)
    with pytest.raises(AssessmentError, match="already declared"):
        declare_unit(session, enrolment, unit.id, people.learner2)
    assert count_rows(session, UnitDeclaration) == 1
