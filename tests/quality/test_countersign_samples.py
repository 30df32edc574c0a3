"""Samples by IQAs working towards their qualification: provisional until a qualified IQA of the
centre countersigns them, refused once the time allowed to qualify has passed, and countersigned
through the page by a qualified IQA only (two IQAs, an assessor, a learner, another centre's
admin)."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.quality.countersigning import countersign_samples, samples_awaiting
from portfolio.quality.errors import QualityError
from portfolio.quality.models import SampleCountersignature
from portfolio.quality.sampling import record_sample
from tests.helpers.assessment import unit_node
from tests.helpers.countersigning import record_staff
from tests.helpers.factories import make_enrolment
from tests.helpers.queries import count_rows
from tests.helpers.sampling import answers, judged_unit
from tests.helpers.web import csrf_token, text

TODAY = dt.date.today()


@pytest.fixture()
def trainee_sample(session, people):
    """iqa2 works towards their IQA qualification on 600/9662/7 (started 100 days ago) and has
    sampled assessor1's decisions on unit 1; iqa1 is qualified."""
    enrolment = make_enrolment(session, people.learner2, people.assessor1, people.iqa1,
                               "600/9662/7")
    item, decisions = judged_unit(session, enrolment, people.assessor1, number="1")
    record_staff(session, people.iqa2, "working_towards", TODAY - dt.timedelta(days=100),
                 role="iqa")
    record_staff(session, people.iqa1, "qualified", dt.date(2020, 1, 1), role="iqa")
    sample = record_sample(session, people.iqa2, enrolment, unit_node(session, enrolment, "1").id,
                           answers([d.id for d in decisions], [item.id]))
    session.commit()
    return sample


def test_a_trainees_sample_awaits_a_qualified_iqa(session, people, trainee_sample):
    assert trainee_sample.needs_countersignature
    assert samples_awaiting(session, people.iqa1) == [trainee_sample]
    assert samples_awaiting(session, people.iqa2) == []  # their own
    countersign_samples(session, people.iqa1, [trainee_sample])
    session.commit()
    assert samples_awaiting(session, people.iqa1) == []
    with pytest.raises(QualityError, match="already countersigned, by"):
        countersign_samples(session, people.iqa1, [trainee_sample])


def test_only_someone_elses_sample_on_a_qualification_one_is_qualified_for(
        session, people, trainee_sample):
    with pytest.raises(QualityError, match="is your own"):
        countersign_samples(session, people.iqa2, [trainee_sample])
    record_staff(session, people.iqa1, "working_towards", TODAY, role="iqa")
    with pytest.raises(QualityError, match="records as qualified for 600/9662/7"):
        countersign_samples(session, people.iqa1, [trainee_sample])
    assert count_rows(session, SampleCountersignature) == 0


def test_past_the_months_allowed_a_trainee_may_not_sample(session, people):
    enrolment = make_enrolment(session, people.learner2, people.assessor1, people.iqa1,
                               "600/9662/7")
    item, decisions = judged_unit(session, enrolment, people.assessor1, number="1")
    record_staff(session, people.iqa2, "working_towards", TODAY - dt.timedelta(days=600),
                 role="iqa")
    with pytest.raises(QualityError, match="months to qualify as an IQA for 600/9662/7 ended"):
        record_sample(session, people.iqa2, enrolment, unit_node(session, enrolment, "1").id,
                      answers([d.id for d in decisions], [item.id]))


@pytest.mark.parametrize("who", ["iqa1", "iqa2", "assessor1", "learner1", "other_admin"])
def test_the_page_lets_only_a_qualified_iqa_countersign(login, people, trainee_sample, session,
                                                      who):
    client = login(getattr(people, who))
    page = client.get("/quality/countersignatures")
    if who in ("assessor1", "learner1", "other_admin"):
        assert page.status_code == 404
        return
    assert page.status_code == 200
    sent = client.post("/quality/countersignatures", data={
        "csrf_token": csrf_token(client), "sample": str(trainee_sample.id)})
    signed = count_rows(session, SampleCountersignature)
    if who == "iqa1":
        assert sent.status_code == 302 and signed == 1
        assert "No sample awaits your countersignature" in text(
            client.get("/quality/countersignatures"))
    else:
        assert sent.status_code == 422 and signed == 0
        assert "is your own" in text(sent)


def test_another_centres_sample_is_not_found(login, people, trainee_sample):
    client = login(people.other_admin)
    assert client.post("/quality/countersignatures", data={
        "sample": str(trainee_sample.id)}).status_code in (400, 404)
