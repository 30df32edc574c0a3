"""The enrolment page and its forms through the app: who sees it, who may change it (two users of
each role and another centre), the admin's list to reassign, the caseload without ended
enrolments, and an ended learner's record read-only."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.accounts import enrolments as lifecycle
from portfolio.accounts.history import EnrolmentBreak
from portfolio.core.dates import long_date
from portfolio.evidence.models import EvidenceFile
from portfolio.extensions import object_store
from tests.helpers.evidence import upload
from tests.helpers.queries import count_rows
from tests.helpers.samples import PDF
from tests.helpers.web import csrf_token, flashes, text

EVERYONE = ["learner1", "learner2", "assessor1", "assessor2", "iqa1", "iqa2", "admin",
            "other_admin", "other_learner"]
VIEWERS = {"learner1", "assessor1", "iqa1", "admin"}


def _page(e) -> str:
    return f"/enrolments/{e.id}/record"


def _post(client, e, action, **data):
    return client.post(f"/enrolments/{e.id}/{action}",
                       data={"csrf_token": csrf_token(client, _page(e)),
                             **{f"{action}-{k}": v for k, v in data.items()}})


@pytest.mark.parametrize("who", EVERYONE)
def test_who_sees_the_page_and_who_may_change_it(login, people, session, who):
    e = people.enrolment1
    client = login(getattr(people, who))
    page = client.get(_page(e))
    assert page.status_code == (200 if who in VIEWERS else 404)
    if who not in VIEWERS:
        # Another centre's or another learner's enrolment: a 404, as a missing id, for changes too.
        assert client.post(f"/enrolments/{e.id}/withdraw", data={}).status_code in (400, 404)
        return
    assert ('id="withdraw-form"' in text(page)) == (who == "admin")
    response = _post(client, e, "withdraw", ended_on=dt.date.today().isoformat(),
                     reason="Moved away")
    session.refresh(e)
    if who == "admin":
        assert response.status_code == 302
        assert e.status == "withdrawn"
    else:
        assert response.status_code == 422
        assert flashes(text(response)) == [
            "Only an admin of the learner's centre can change an enrolment."]
        assert e.is_open


def test_each_form_changes_the_enrolment_and_the_page_shows_it(login, people, session):
    e = people.enrolment1
    client = login(people.admin)
    today = dt.date.today()
    assert _post(client, e, "edit", registration_number="R-EDIT", start_date="2026-09-01",
                 planned_end_date="2027-09-30").status_code == 302
    assert _post(client, e, "move", assessor_id=people.assessor2.id,
                 iqa_id=people.iqa1.id).status_code == 302
    assert _post(client, e, "break", starts_on=today.isoformat(), reason="Illness",
                 planned_end_date="2027-12-31").status_code == 302
    page = text(client.get(_page(e)))
    assert f"On a break since {long_date(today)}" in page
    assert "31 December 2027 (planned)" in page and "R-EDIT" in page
    pause = session.query(EnrolmentBreak).filter_by(enrolment_id=e.id).one()
    response = client.post(f"/enrolments/{e.id}/breaks/{pause.id}/end",
                           data={"csrf_token": csrf_token(client, _page(e)),
                                 "end-break-ends_on": today.isoformat()})
    assert response.status_code == 302
    page = client.get(_page(e))
    assert "The break is ended." in flashes(text(page))
    # The history of holders: Assessor1 until now, then Assessor2.
    history = text(page).split('id="holders"')[1].split("</table>")[0]
    assert history.index("Assessor1") < history.index("Assessor2")
    assert _post(client, e, "complete", ended_on=today.isoformat()).status_code == 302
    page = text(client.get(_page(e)))
    assert f"Completed on {long_date(today)}" in page and "read-only" in page
    assert 'id="edit-form"' not in page


def test_a_refusal_is_shown_on_the_form_and_changes_nothing(login, people, session):
    e = people.enrolment1
    client = login(people.admin)
    response = _post(client, e, "move", assessor_id=people.iqa2.id, iqa_id=people.iqa2.id)
    assert response.status_code == 422
    assert any("The IQA cannot be the learner's assessor" in message
               for message in flashes(text(response)))
    response = _post(client, e, "withdraw", ended_on="", reason="")
    assert response.status_code == 422 and 'id="withdraw-ended_on-error"' in text(response)
    session.refresh(e)
    assert (e.assessor_id, e.is_open) == (people.assessor1.id, True)


def test_a_post_without_a_token_changes_nothing(login, people, session):
    client = login(people.admin)
    response = client.post(f"/enrolments/{people.enrolment1.id}/withdraw",
                           data={"withdraw-ended_on": "2026-12-01", "withdraw-reason": "x"})
    assert response.status_code in (400, 422)
    session.refresh(people.enrolment1)
    assert people.enrolment1.is_open


def test_deactivated_holders_enrolments_are_listed_for_reassignment(login, people, session):
    client = login(people.admin)
    assert 'id="to-reassign"' not in text(client.get("/admin/enrolments"))
    client.post(f"/admin/users/{people.assessor1.id}/deactivate",
                data={"csrf_token": csrf_token(client, "/admin/users")})
    page = text(client.get("/admin/enrolments"))
    assert 'id="to-reassign"' in page
    assert f"/enrolments/{people.enrolment1.id}/record#move" in page
    move = text(client.get(_page(people.enrolment1)))
    assert "Assessor1 (deactivated)" in move
    assert _post(client, people.enrolment1, "move", assessor_id=people.assessor2.id,
                 iqa_id=people.iqa1.id).status_code == 302
    assert 'id="to-reassign"' not in text(client.get("/admin/enrolments"))


def test_ended_enrolments_leave_the_caseload_but_stay_readable(login, people, session):
    e = people.enrolment1
    client = login(people.assessor1)
    assert people.learner1.name in text(client.get("/caseload"))
    lifecycle.withdraw_enrolment(session, e, people.admin, on=dt.date.today(), reason="Left")
    session.commit()
    assert people.learner1.name not in text(client.get("/caseload"))
    for route in (f"/enrolments/{e.id}/progress", f"/enrolments/{e.id}/evidence", _page(e)):
        assert client.get(route).status_code == 200, route
    assert "Withdrawn on" in text(client.get(_page(e)))


def test_an_upload_to_an_ended_enrolment_stores_nothing(login, people, session):
    e = people.enrolment1
    lifecycle.withdraw_enrolment(session, e, people.admin, on=dt.date.today(), reason="Left")
    session.commit()
    client = login(people.learner1)
    files = count_rows(session, EvidenceFile)
    objects = list(object_store().iter_objects(f"evidence/{e.id}/"))
    response = upload(client, e, PDF, "late.pdf")
    assert response.status_code == 404
    assert "Add evidence" not in text(client.get(f"/enrolments/{e.id}/evidence"))
    assert count_rows(session, EvidenceFile) == files
    assert list(object_store().iter_objects(f"evidence/{e.id}/")) == objects
