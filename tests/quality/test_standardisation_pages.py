"""Standardisation's pages: who reaches what (two IQAs, two assessors, a learner, an admin of the
centre and one of another), what a page shows while the round is blind, the exemplar upload
through the store, and the forms."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import RoleGrant
from portfolio.core.db import utcnow
from portfolio.extensions import db, object_store
from portfolio.quality.standardisation_models import (
    StandardisationActivity,
    StandardisationEvidence,
    StandardisationJudgement,
)
from tests.helpers.assessment import criteria_of
from tests.helpers.queries import count_rows
from tests.helpers.samples import PDF
from tests.helpers.standardisation import judge_all, plan, with_item
from tests.helpers.web import csrf_token, flashes, text

BASE = "/quality/standardisation"
SECRET = "The account number is read back in full"


@pytest.fixture()
def activity(session, people):
    """Led by iqa1 with assessor1; iqa2 and assessor2 are not invited. One item of learner1,
    whose assessor1 has judged it with a rationale nobody else may see yet."""
    planned = plan(session, people.iqa1, [people.assessor1], people.enrolment1)
    with_item(session, planned, people.enrolment1)
    judge_all(session, planned, people.assessor1, rationale=SECRET)
    session.commit()
    return planned


def paths(activity):
    evidence = activity.evidence[0]
    item_file = evidence.item.files[0]
    return {
        "show": f"{BASE}/{activity.id}",
        "discussed": f"{BASE}/{activity.id}/evidence/{evidence.id}",
        "file": f"{BASE}/{activity.id}/evidence/{evidence.id}/files/{item_file.id}",
        "judge": f"{BASE}/{activity.id}/evidence/{evidence.id}/judge",
        "add evidence": f"{BASE}/{activity.id}/evidence",
    }


#: Who reaches which page of the blind activity (everyone else: 404).
REACHES = {
    "iqa1": {"show", "discussed", "file", "judge", "add evidence"},
    "assessor1": {"show", "discussed", "file", "judge"},
    "admin": {"show"},
    "iqa2": set(), "assessor2": set(), "learner1": set(), "other_admin": set(),
}


@pytest.mark.parametrize("who", list(REACHES))
def test_who_reaches_each_page_of_an_activity(login, people, activity, who):
    client = login(getattr(people, who))
    for name, path in paths(activity).items():
        status = client.get(path).status_code
        expected = 302 if name == "file" else 200
        assert status == (expected if name in REACHES[who] else 404), (who, name)
    assert client.get(f"{BASE}/{activity.id}/agreement").status_code == 404


@pytest.mark.parametrize("who", ["learner1", "other_admin"])
def test_the_list_and_planning_are_for_the_centres_staff(login, people, who):
    client = login(getattr(people, who))
    assert client.get(f"{BASE}/").status_code == (404 if who == "learner1" else 200)
    assert client.get(f"{BASE}/new").status_code == (404 if who == "learner1" else 200)


def test_the_list_shows_each_person_their_activities_and_admins_all(login, people, activity):
    assert "Observations of unit 301" in text(login(people.assessor1).get(f"{BASE}/"))
    assert "Observations of unit 301" in text(login(people.admin).get(f"{BASE}/"))
    assert "Observations of unit 301" not in text(login(people.iqa2).get(f"{BASE}/"))
    assert "Observations of unit 301" not in text(login(people.other_admin).get(f"{BASE}/"))
    assert login(people.assessor2).get(f"{BASE}/new").status_code == 404


def test_the_lead_who_has_not_judged_sees_nothing_of_the_judgements(login, people, activity):
    client = login(people.iqa1)
    for path in (paths(activity)["show"], paths(activity)["judge"],
                 paths(activity)["discussed"]):
        assert SECRET not in text(client.get(path))
    assert "1 of 2 criteria" not in text(client.get(paths(activity)["show"]))
    assert "2 of 2 criteria" in text(client.get(paths(activity)["show"]))  # assessor1 has judged
    # The one who judged sees their own, and still nobody else's.
    assert SECRET in text(login(people.assessor1).get(paths(activity)["judge"]))


def test_a_participant_who_left_the_staff_reads_the_evidence_no_more(
        login, session, people, activity):
    session.execute(sa.update(RoleGrant).where(RoleGrant.user_id == people.assessor1.id)
                    .values(expires_at=utcnow()))
    session.commit()
    client = login(people.assessor1)
    assert client.get(paths(activity)["discussed"]).status_code == 404
    assert client.get(paths(activity)["file"]).status_code == 404


def test_the_item_file_is_a_presigned_download(login, people, activity):
    response = login(people.assessor1).get(paths(activity)["file"])
    assert response.status_code == 302 and "X-Amz-Signature" in response.location


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/catalogue/"), **data})


def test_judging_closing_and_the_agreement_through_the_forms(login, session, people, activity):
    client = login(people.iqa1)
    evidence = activity.evidence[0]
    criteria = [c.criterion_id for c in evidence.criteria]
    refused = _post(client, paths(activity)["judge"], **{f"outcome_{criteria[0]}": "met"})
    assert refused.status_code == 200 and "Give your rationale." in text(refused)
    judged = _post(client, paths(activity)["judge"], **{
        f"outcome_{cid}": "not_yet_met" for cid in criteria}, **{
        f"rationale_{cid}": "No call log." for cid in criteria})
    assert judged.status_code == 302
    # Everyone has judged: the round opened, the form is gone and the agreement shows.
    assert client.get(paths(activity)["judge"]).status_code == 404
    page = text(client.get(f"{BASE}/{activity.id}/agreement"))
    assert SECRET in page and "50% agreed" in page and "judgements differed" in page
    action = _post(client, f"{BASE}/{activity.id}/actions", text="Use the checklist",
                   owner=str(people.assessor1.id), due_on="2027-01-15")
    assert action.status_code == 302
    assert "Use the checklist" in text(client.get(f"{BASE}/{activity.id}/agreement"))
    assert "15 January 2027" in text(client.get(f"{BASE}/{activity.id}/agreement"))


def test_the_lead_closes_the_round_and_records_minutes(login, people, activity):
    assert _post(login(people.assessor1), f"{BASE}/{activity.id}/close").status_code == 404
    client = login(people.iqa1)
    assert _post(client, f"{BASE}/{activity.id}/close").status_code == 302
    assert SECRET in text(client.get(f"{BASE}/{activity.id}/agreement"))
    empty = _post(client, f"{BASE}/{activity.id}/minutes", text="")
    assert empty.status_code == 422
    assert _post(client, f"{BASE}/{activity.id}/minutes", text="Compared.").status_code == 302
    assert "Compared." in text(client.get(paths(activity)["show"]))


def test_planning_through_the_form(login, session, people):
    client = login(people.iqa1)
    response = _post(client, f"{BASE}/new", title="Witness testimony", held_on="2027-02-01",
                     qualification=str(people.enrolment1.qualification_id),
                     lead=str(people.iqa1.id), participants=[str(people.assessor2.id)])
    assert response.status_code == 302
    activity = session.scalar(sa.select(StandardisationActivity)
                              .where(StandardisationActivity.title == "Witness testimony"))
    assert {p.user_id for p in activity.participants} == {people.iqa1.id, people.assessor2.id}
    refused = _post(client, f"{BASE}/new", title="Alone", held_on="2027-02-01",
                    qualification=str(people.enrolment1.qualification_id),
                    lead=str(people.iqa1.id))
    assert "Invite at least one" in " ".join(flashes(text(refused)))


def test_items_are_found_by_learner_and_added(login, session, people, activity):
    client = login(people.iqa1)
    page = text(client.get(paths(activity)["add evidence"], query_string={"q": "learner1"}))
    assert "Handling a complaint" in page
    item = with_item(session, plan(session, people.iqa1, [people.assessor1], people.enrolment1),
                     people.enrolment1, unit="204", criteria=1, title="Call notes").item
    session.commit()
    assert _post(client, f"{BASE}/{activity.id}/evidence/items",
                 item=str(item.id)).status_code == 302
    assert "Call notes" in text(client.get(paths(activity)["show"]))


def _exemplar(client, activity, name, data, criteria):
    return client.post(f"{BASE}/{activity.id}/evidence/exemplars", data={
        "title": "A model answer", "file": (io.BytesIO(data), name), "criteria": criteria,
        "csrf_token": csrf_token(client, "/catalogue/")}, content_type="multipart/form-data")


def _stored(activity) -> list[str]:
    return [key for key, _ in object_store().iter_objects(f"standardisation/{activity.id}/")]


def test_an_exemplar_is_stored_through_the_upload_path_and_read_by_participants(
        login, session, people, activity):
    client = login(people.iqa1)
    criteria = [str(c) for c in criteria_of(session, people.enrolment1, "204", 1)]
    response = _exemplar(client, activity, "model.pdf", PDF, criteria)
    assert response.status_code == 302, text(response)
    exemplar = session.scalar(sa.select(StandardisationEvidence).where(
        StandardisationEvidence.object_key.is_not(None)))
    assert exemplar.object_key in _stored(activity)
    assert exemplar.content_type == "application/pdf" and exemplar.size == len(PDF)
    download = login(people.assessor1).get(
        f"{BASE}/{activity.id}/evidence/{exemplar.id}/exemplar")
    assert download.status_code == 302 and "X-Amz-Signature" in download.location
    assert login(people.iqa2).get(
        f"{BASE}/{activity.id}/evidence/{exemplar.id}/exemplar").status_code == 404


def test_a_refused_exemplar_leaves_nothing_behind(login, session, people, activity):
    client = login(people.iqa1)
    # The store outlives each test's rolled-back database, whose ids come round again.
    before = count_rows(session, StandardisationEvidence), _stored(activity)
    page = _exemplar(client, activity, "page.txt", b"<html><script>alert(1)</script></html>",
                     [str(c) for c in criteria_of(session, people.enrolment1, "204", 1)])
    assert page.status_code == 422 and "page.txt is a web page" in text(page)
    wrong_criteria = _exemplar(client, activity, "model.pdf", PDF, [])
    assert wrong_criteria.status_code == 422
    assert "Choose the criteria" in text(wrong_criteria)
    assert (count_rows(session, StandardisationEvidence), _stored(activity)) == before


def test_a_post_without_its_token_changes_nothing(login, session, people, activity):
    client = login(people.iqa1)
    response = client.post(f"{BASE}/{activity.id}/close")
    assert response.status_code == 400
    assert db.session.get(StandardisationActivity, activity.id).opening is None
    assert count_rows(session, StandardisationJudgement) == 2


def test_the_audit_trail_says_what_happened_and_links_to_the_activity(login, people, activity):
    page = text(login(people.admin).get("/admin/audit"))
    assert "planned the standardisation “Observations of unit 301”" in page
    assert "recorded a judgement of “Handling a complaint” (2 criteria)" in page
    assert f'href="{BASE}/{activity.id}"' in page
