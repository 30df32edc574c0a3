"""The strategy page and the plan pages through the test client: saving, refusing at the field,
each revision of a plan, the history and coverage, and who may see and change what (two IQAs, two
assessors, a learner, the centre's admin and another centre's admin)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from portfolio.core.audit import AuditEvent
from portfolio.notifications.models import Notification
from portfolio.quality.models import PlannedSample, PlanRevision, SamplingPlan
from portfolio.quality.plans import GENERATOR_NOTE, active_planned_samples, active_samples
from portfolio.quality.strategy import DEFAULTS, SamplingStrategy, strategy_in_force
from tests.helpers.assessment import add_item, criteria_of, decide, unit_node
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token, flashes, text

CYCLE = DEFAULTS.cycle_containing(dt.date.today())[0]
STRATEGY = {"cycle_months": "12", "cycle_start_day": "1", "cycle_start_month": "8",
            "new_assessor_months": "18", "working_towards_percent": "100", "new_percent": "75",
            "experienced_percent": "20", "interim_percent": "40",
            "every_unit_of_new_qualification": "y"}


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/catalogue/")})


@pytest.fixture()
def judged(session, people):
    """learner1's units 204 (observed at work) and 205 (a product, simulated) judged by
    assessor1, and 301 claimed but not judged yet."""
    enrolment = people.enrolment1
    for number, method, setting in (("204", "observation", "workplace"),
                                    ("205", "product", "simulated")):
        criteria = criteria_of(session, enrolment, number, 2)
        decide(session, add_item(session, enrolment, criteria, method=method, setting=setting),
               people.assessor1, criteria)
    add_item(session, enrolment, criteria_of(session, enrolment, "301", 1))
    return {n: unit_node(session, enrolment, n).id for n in ("204", "205", "301")}


@pytest.fixture()
def plan(session, people, judged, login):
    client = login(people.iqa1)
    response = _post(client, "/quality/plans/", {
        "assessor_id": people.assessor1.id, "qualification_id": people.enrolment1.qualification_id,
        "cycle_starts_on": CYCLE.isoformat()})
    assert response.status_code == 302, text(response)
    return session.scalars(sa.select(SamplingPlan)).one()


def test_the_admin_saves_the_strategy_as_a_revision(session, people, login):
    client = login(people.admin)
    assert "Never saved" in text(client.get("/quality/plans/strategy"))
    response = _post(client, "/quality/plans/strategy", STRATEGY)
    assert response.status_code == 302, text(response)
    in_force = strategy_in_force(session, people.centre.id)
    assert (in_force.cycle_start_month, in_force.new_percent, in_force.interim_percent) == (8, 75, 40)
    page = text(client.get("/quality/plans/strategy"))
    assert "(in force)" in page and "1 August" in page
    assert count_rows(session, AuditEvent, AuditEvent.action == "sampling_strategy.revised") == 1
    # The same again is refused, at the form, and adds nothing.
    again = _post(client, "/quality/plans/strategy", STRATEGY)
    assert again.status_code == 422 and "nothing changed" in text(again)
    assert count_rows(session, SamplingStrategy) == 1


def test_a_refused_answer_is_shown_at_its_field(session, people, login):
    client = login(people.admin)
    response = _post(client, "/quality/plans/strategy", {**STRATEGY, "working_towards_percent": "10"})
    assert response.status_code == 422
    assert 'id="working_towards_percent-error"' in text(response)
    assert "at least as much as an experienced one" in text(response)
    response = _post(client, "/quality/plans/strategy", {**STRATEGY, "cycle_start_day": "31"})
    assert response.status_code == 422 and 'id="cycle_start_day-error"' in text(response)
    assert count_rows(session, SamplingStrategy) == 0


def test_another_centres_admin_sets_only_their_own_strategy(session, people, login):
    client = login(people.other_admin)
    assert _post(client, "/quality/plans/strategy", STRATEGY).status_code == 302
    assert strategy_in_force(session, people.centre.id) == DEFAULTS
    assert strategy_in_force(session, people.other_centre.id).new_percent == 75


@pytest.mark.parametrize("who", ["iqa1", "iqa2", "assessor1", "assessor2", "learner1"])
def test_only_admins_reach_the_strategy(people, login, who):
    client = login(getattr(people, who))
    assert client.get("/quality/plans/strategy").status_code == 404
    assert _post(client, "/quality/plans/strategy", STRATEGY).status_code == 404


def test_the_iqa_makes_a_plan_from_the_generators_proposal(session, people, plan, judged, login):
    revision = session.scalars(sa.select(PlanRevision)).one()
    assert revision.note == GENERATOR_NOTE and revision.made_by_id == people.iqa1.id
    planned = {(s.unit_id, s.stage) for s in active_samples(session, plan)}
    # No staff record: the strictest band (every pair); unit 301 has nothing judged yet.
    assert {unit for unit, _ in planned} == {judged["204"], judged["205"]}
    page = text(login(people.iqa1).get(f"/quality/plans/{plan.id}"))
    assert 'id="record-missing"' in page and "Lena" not in page
    coverage = text(login(people.iqa1).get(f"/quality/plans/{plan.id}/coverage"))
    assert "no evidence of it has been judged by the assessor yet" in coverage
    assert "2 of the assessor's 3 learner x unit pairs planned; the strategy asks for 3" in coverage
    assert "only 2 have judged evidence to sample so far" in coverage
    assert count_rows(session, AuditEvent, AuditEvent.action == "sampling_plan.created") == 1
    again = _post(login(people.iqa1), "/quality/plans/", {
        "assessor_id": people.assessor1.id, "qualification_id": people.enrolment1.qualification_id,
        "cycle_starts_on": CYCLE.isoformat()})
    assert again.status_code == 422 and "already have a plan" in text(again)


def test_an_iqa_cannot_plan_their_own_work(people, login):
    client = login(people.iqa2)  # also an assessor
    page = text(client.get("/quality/plans/"))
    assessors = re.search(r'<select[^>]*id="assessor_id".*?</select>', page, re.S).group(0)
    assert people.assessor1.name in assessors and people.iqa2.name not in assessors
    response = _post(client, "/quality/plans/", {
        "assessor_id": people.iqa2.id, "qualification_id": people.enrolment1.qualification_id,
        "cycle_starts_on": CYCLE.isoformat()})
    assert response.status_code == 422


def _grid(session, plan, **changes):
    """The edit form's answers: the plan as it is, with ``changes`` (field name -> value)."""
    data = {"note": changes.pop("note", "Rebalanced after the standardisation meeting.")}
    for sample in active_samples(session, plan):
        data[f"stage-{sample.enrolment_id}-{sample.unit_id}"] = sample.stage
        data[f"due-{sample.enrolment_id}-{sample.unit_id}"] = sample.due_on.isoformat()
    return {**data, **changes}


def test_each_save_of_the_grid_is_one_revision(session, people, plan, judged, login):
    client = login(people.iqa1)
    assert client.get(f"/quality/plans/{plan.id}/edit").status_code == 200
    e = people.enrolment1.id
    before = {s.unit_id: s for s in active_samples(session, plan)}
    moved = before[judged["205"]].due_on + dt.timedelta(days=7)
    response = _post(client, f"/quality/plans/{plan.id}/edit", _grid(session, plan, **{
        f"stage-{e}-{judged['204']}": "",
        f"due-{e}-{judged['205']}": moved.isoformat(),
        f"stage-{e}-{judged['301']}": "interim",
        f"due-{e}-{judged['301']}": (CYCLE + dt.timedelta(days=200)).isoformat()}))
    assert response.status_code == 302, text(response)
    after = {s.unit_id: s for s in active_samples(session, plan)}
    assert set(after) == {judged["205"], judged["301"]}
    assert after[judged["205"]].due_on == moved
    revision = session.scalars(sa.select(PlanRevision).order_by(PlanRevision.id.desc())).first()
    assert count_rows(session, PlannedSample, PlannedSample.removed_in_id == revision.id) == 2
    assert count_rows(session, PlannedSample, PlannedSample.added_in_id == revision.id) == 2
    history = text(client.get(f"/quality/plans/{plan.id}/history"))
    assert "Rebalanced after the standardisation meeting." in history
    assert GENERATOR_NOTE in history and "Removed: 2" in history
    assert count_rows(session, AuditEvent, AuditEvent.action == "sampling_plan.revised") == 1
    assert {s.unit_id for s in active_planned_samples(session, centre_id=people.centre.id)} == {
        judged["205"], judged["301"]}


@pytest.mark.parametrize(("change", "message"), [
    ({}, "Nothing changed"),
    ({"stage-{e}-{u301}": "summative", "due-{e}-{u301}": "{later}"},
     "A summative sample is for a unit signed off or likely to be"),
    ({"stage-{e}-{u301}": "interim", "due-{e}-{u301}": "{outside}"},
     "Choose due dates within the cycle"),
    ({"stage-{e}-{u301}": "interim"}, "Give the day it is due."),
    ({"note": ""}, "Say why you change the plan"),
])
def test_a_refused_change_keeps_the_plan(session, people, plan, judged, login, change, message):
    values = {"e": people.enrolment1.id, "u301": judged["301"],
              "later": (CYCLE + dt.timedelta(days=100)).isoformat(),
              "outside": (CYCLE - dt.timedelta(days=1)).isoformat()}
    answers = {k.format(**values): v.format(**values) for k, v in change.items()}
    response = _post(login(people.iqa1), f"/quality/plans/{plan.id}/edit",
                     _grid(session, plan, **answers))
    assert response.status_code in (409, 422)
    assert message in " ".join([text(response), *flashes(text(response))]).replace("&#39;", "'")
    assert count_rows(session, PlanRevision) == 1


PAGES = ("", "/history", "/coverage")


@pytest.mark.parametrize("who", ["iqa2", "assessor1", "assessor2", "learner1", "other_admin"])
def test_nobody_else_sees_or_changes_a_plan(session, people, plan, login, who):
    client = login(getattr(people, who))
    for page in (*PAGES, "/edit"):
        assert client.get(f"/quality/plans/{plan.id}{page}").status_code == 404, page
    assert _post(client, f"/quality/plans/{plan.id}/edit",
                 _grid(session, plan, note="Not mine")).status_code == 404
    assert f"/quality/plans/{plan.id}" not in text(client.get("/quality/plans/", follow_redirects=True))


def test_the_centres_admin_reads_a_plan_but_does_not_change_it(session, people, plan, login):
    client = login(people.admin)
    for page in PAGES:
        assert client.get(f"/quality/plans/{plan.id}{page}").status_code == 200, page
    assert f"/quality/plans/{plan.id}" in text(client.get("/quality/plans/"))
    assert client.get(f"/quality/plans/{plan.id}/edit").status_code == 404
    assert _post(client, "/quality/plans/", {
        "assessor_id": people.assessor1.id, "qualification_id": people.enrolment1.qualification_id,
        "cycle_starts_on": CYCLE.isoformat()}).status_code == 404


@pytest.mark.parametrize("who", ["assessor1", "learner1"])
def test_assessors_and_learners_have_no_plans_page(people, login, who):
    assert login(getattr(people, who)).get("/quality/plans/").status_code == 404


def test_a_change_without_the_csrf_token_is_refused(session, people, plan, login):
    client = login(people.iqa1)
    response = client.post(f"/quality/plans/{plan.id}/edit", data=_grid(session, plan))
    assert response.status_code == 400
    assert count_rows(session, PlanRevision) == 1


def test_the_centres_iqas_are_told_of_a_new_strategy(session, people, login):
    _post(login(people.admin), "/quality/plans/strategy", STRATEGY)
    told = set(session.scalars(sa.select(Notification.recipient_id).where(
        Notification.kind == "sampling_strategy_revised")))
    assert told == {people.iqa1.id, people.iqa2.id}
