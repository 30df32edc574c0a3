"""The learner's pathway: choosing units (mandatory ones always in), refusals that save nothing,
drafts kept with what they lack, history and audit, who may choose, and progress, what's left and
the caseload's percentage counted on the pathway's units."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.accounts.services import EnrolmentEnded
from portfolio.assessment.caseload import caseload
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.models import PathwayChoice
from portfolio.assessment.pathway import choose_pathway, current_pathways, pathway_history
from portfolio.assessment.units import sign_off_unit
from portfolio.core.audit import AuditEvent
from portfolio.core.db import utcnow
from tests.helpers.assessment import meet_unit, progress, unit_node
from tests.helpers.queries import count_rows
from tests.helpers.web import csrf_token, text


def _choices(session, enrolment) -> int:
    return count_rows(session, PathwayChoice, PathwayChoice.enrolment_id == enrolment.id)


def test_a_choice_keeps_the_mandatory_units_and_is_audited(session, people):
    enrolment = people.enrolment2  # 600/1257/2: mandatory 01 and 02
    choice = choose_pathway(session, enrolment, people.learner2, ["05", "03"])
    assert choice.units == ["01", "02", "03", "05"]
    audit = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "pathway.chosen",
                                                        AuditEvent.object_id == choice.id)).one()
    assert (audit.actor_id, audit.learner_id) == (people.learner2.id, people.learner2.id)
    assert audit.data["units"] == "01, 02, 03, 05" and audit.data["complete"] is False


def test_history_is_kept_and_the_latest_choice_is_the_pathway(session, people):
    enrolment = people.enrolment2
    first = choose_pathway(session, enrolment, people.learner2, ["03"])
    second = choose_pathway(session, enrolment, people.assessor2, ["04"])
    assert current_pathways(session, [enrolment.id, people.enrolment1.id]) == {
        enrolment.id: second}
    assert pathway_history(session, enrolment.id) == [second, first]
    assert second.chosen_by_id == people.assessor2.id and first.units == ["01", "02", "03"]


@pytest.mark.parametrize("chosen, message", [
    (["03", "13", "16"], "Units 13 and 16 cannot both count: choose one."),
    (["10", "18"], "Units 10 and 18 cannot both count: choose one."),
    (["03", "99"], "Unit 99 is not part of this qualification."),
])
def test_a_refused_choice_saves_nothing(session, people, chosen, message):
    enrolment = people.enrolment2
    with pytest.raises(AssessmentError) as refused:
        choose_pathway(session, enrolment, people.learner2, chosen)
    assert str(refused.value) == message
    assert _choices(session, enrolment) == 0


def test_the_same_choice_again_changes_nothing(session, people):
    choose_pathway(session, people.enrolment2, people.learner2, ["03"])
    with pytest.raises(AssessmentError, match="already the pathway"):
        choose_pathway(session, people.enrolment2, people.learner2, ["03", "01"])
    assert _choices(session, people.enrolment2) == 1


def test_an_ended_enrolment_keeps_its_pathway(session, people):
    people.enrolment2.status, people.enrolment2.ended_at = "withdrawn", utcnow()
    session.flush()
    with pytest.raises(EnrolmentEnded, match="withdrawn: its record is read-only"):
        choose_pathway(session, people.enrolment2, people.learner2, ["03"])


def test_progress_and_caseload_count_the_pathway(session, people):
    """A learner who met every criterion of their pathway's units shows 100%, where counting
    every unit of the qualification showed a small part; what's left lists pathway units only."""
    enrolment = people.enrolment1  # 600/1636/X: mandatory 301-303
    for number in ("301", "302", "303", "304"):
        meet_unit(session, enrolment, number, people.assessor1)
    for number in ("301", "302", "303"):
        sign_off_unit(session, enrolment, unit_node(session, enrolment, number).id,
                      people.assessor1)
    before = progress(session, enrolment)
    assert before.pathway is None and before.plan is not None
    assert 0 < before.percent_met < 100
    assert caseload(session, [enrolment])[0].percent_met == before.percent_met

    choose_pathway(session, enrolment, people.learner1, ["304", "305"])
    drafted = progress(session, enrolment)
    # Left: the pathway's units not signed off (304 is met, and waits for its sign-off).
    assert [u.unit.number for u in drafted.left] == ["304", "305"]
    assert drafted.plan is None
    assert drafted.criteria_total == sum(
        u.total for u in drafted.units if u.unit.number in {"301", "302", "303", "304", "305"})

    choose_pathway(session, enrolment, people.learner1, ["304"])
    done = progress(session, enrolment)
    assert done.percent_met == 100 and [u.unit.number for u in done.left] == ["304"]
    row = caseload(session, [enrolment])[0]
    assert (row.percent_met, row.criteria_total, row.has_pathway) == (
        100, done.criteria_total, True)


def _post_choice(client, enrolment, units):
    page = f"/enrolments/{enrolment.id}/progress"
    return client.post(f"/enrolments/{enrolment.id}/pathway",
                       data={"csrf_token": csrf_token(client, page), "units": units})


@pytest.mark.parametrize("who, allowed", [
    ("learner2", True), ("assessor2", True), ("learner1", False), ("assessor1", False),
    ("iqa1", False), ("iqa2", False), ("admin", False), ("other_admin", False)])
def test_who_may_choose(login, people, session, who, allowed):
    """The learner and their own assessor; another learner or assessor, the IQAs (iqa2 is the
    learner's IQA and an assessor elsewhere) and admins may not, and are answered as if the
    enrolment did not exist."""
    client = login(getattr(people, who))
    response = _post_choice(client, people.enrolment2, ["03"])
    assert response.status_code == (302 if allowed else 404)
    assert _choices(session, people.enrolment2) == (1 if allowed else 0)
    page = client.get(f"/enrolments/{people.enrolment2.id}/progress")
    if page.status_code == 200:
        assert ("Save pathway" in text(page)) == allowed


def test_the_form_shows_refusals_beside_the_group_and_saves_drafts(login, people, session):
    client = login(people.learner2)
    refused = _post_choice(client, people.enrolment2, ["03", "13", "16"])
    page = text(refused)
    assert refused.status_code == 422
    assert 'id="pathway-group-C-error"' in page
    assert "Units 13 and 16 cannot both count: choose one." in page
    assert _choices(session, people.enrolment2) == 0

    assert _post_choice(client, people.enrolment2, ["03"]).status_code == 302
    page = text(client.get(f"/enrolments/{people.enrolment2.id}/progress"))
    assert "Chosen units: 01, 02, 03" in page and "a draft, the rules need more" in page
    assert "Group B needs at least 12 credits: the chosen units give" in page

    unknown = _post_choice(client, people.enrolment2, ["03", "99"])
    assert unknown.status_code == 422 and "is not a valid choice" in text(unknown)
    assert _choices(session, people.enrolment2) == 1


def test_the_caseload_says_when_no_pathway_is_chosen(login, people, session):
    page = text(login(people.assessor2).get("/caseload"))
    assert "of all units: no pathway chosen" in page
    choose_pathway(session, people.enrolment2, people.assessor2, ["03"])
    session.commit()
    assert "no pathway chosen" not in text(login(people.assessor2).get("/caseload"))
