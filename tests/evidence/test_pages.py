"""The evidence page and the picker as the learner and the staff see them: digests only for
assessors and IQAs, UK dates, withdrawal behind a confirmation, a resubmission that carries over
how the work was done, and criteria already met or awaiting marked in words."""

from __future__ import annotations

import datetime as dt
import re

from portfolio.evidence.models import EvidenceItem
from tests.helpers.assessment import add_item, criteria_of, decide
from tests.helpers.web import text


def _item(session, people, **details) -> EvidenceItem:
    enrolment = people.enrolment1
    item = add_item(session, enrolment, criteria_of(session, enrolment, "301", 3),
                    title="Complaint call log")
    for name, value in details.items():
        setattr(item, name, value)
    session.commit()
    return item


def test_only_assessors_and_iqas_see_digests(login, people, session):
    item = _item(session, people)
    digest = item.files[0].sha256
    for who, sees in (("learner1", False), ("assessor1", True), ("iqa1", True)):
        page = text(login(getattr(people, who)).get(f"/evidence/{item.id}"))
        assert (digest in page) is sees, who
        assert ("SHA-256" in page) is sees, who
        assert "1 October 2026" in page and "2026-10-01" not in page, who


def test_withdrawal_is_confirmed_in_a_details_element(login, people, session):
    item = _item(session, people)
    page = text(login(people.learner1).get(f"/evidence/{item.id}"))
    confirm = re.search(r'<details class="confirm">(.*?)</details>', page, re.S).group(1)
    assert "<summary>Withdraw “Complaint call log”…</summary>" in confirm
    assert "Nothing is deleted" in confirm
    assert f'action="/evidence/{item.id}/withdraw"' in confirm
    assert "Yes, withdraw this evidence" in confirm
    assert "confirm(" not in page


def test_feedback_reads_as_paragraphs(login, people, session):
    item = _item(session, people)
    decide(session, item, people.assessor1, [item.claims[0].criterion_id], "not_yet_met",
           feedback="Add the call log.\n\nThen ask your supervisor for a witness statement.")
    session.commit()
    page = text(login(people.learner1).get(f"/evidence/{item.id}"))
    assert re.search(r'<blockquote class="feedback"[^>]*><p>Add the call log.</p>'
                     r'<p>Then ask your supervisor for a witness statement.</p></blockquote>', page)


def test_resubmitting_carries_over_date_method_setting_and_witness(login, people, session):
    item = _item(session, people, evidence_date=dt.date(2026, 9, 14), method="witness_testimony",
                 setting="realistic_work_environment", witness_name="Sam Patel",
                 witness_role="Shift lead", witness_relationship="Supervisor",
                 witness_is_expert=True)
    decide(session, item, people.assessor1, [item.claims[0].criterion_id], "not_yet_met")
    session.commit()
    form = text(login(people.learner1).get(
        f"/enrolments/{people.enrolment1.id}/evidence/new?resubmit={item.id}"))
    assert re.search(r'name="evidence_date"[^>]*value="2026-09-14"', form)
    assert re.search(r'<option selected value="witness_testimony">', form)
    assert re.search(r'<option selected value="realistic_work_environment">', form)
    assert re.search(r'name="witness_name"[^>]*value="Sam Patel"', form)
    assert re.search(r'name="witness_role"[^>]*value="Shift lead"', form)
    assert re.search(r'<input checked[^>]*name="witness_is_expert"', form)


def test_a_new_item_starts_empty(login, people):
    form = text(login(people.learner1).get(f"/enrolments/{people.enrolment1.id}/evidence/new"))
    assert not re.search(r'name="evidence_date"[^>]*value="2', form)
    assert "<option selected value=\"workplace\">" not in form


def test_the_picker_marks_criteria_met_or_awaiting(login, people, session):
    enrolment = people.enrolment1
    met, waiting, untouched = criteria_of(session, enrolment, "301", 3)
    judged = add_item(session, enrolment, [met], title="Till log")
    decide(session, judged, people.assessor1, [met])
    open_item = add_item(session, enrolment, [waiting], title="Rota")
    session.commit()
    client = login(people.learner1)
    for url in (f"/enrolments/{enrolment.id}/evidence/new", f"/evidence/{open_item.id}/claims"):
        page = text(client.get(url))
        assert _marks(page, met) == ["already met"], url
        assert _marks(page, waiting) == ["awaiting a decision"], url
        assert _marks(page, untouched) == [], url
        assert 'aria-live="polite"' in page


def _marks(page: str, criterion_id: int) -> list[str]:
    """The words after a criterion's checkbox that say it is met or awaiting."""
    label = re.search(rf'value="{criterion_id}"[^>]*>\s*<span>(.*?)</span>\s*</label>', page, re.S)
    return re.findall(r'<em class="criterion-status">\((.*?)\)</em>', label.group(1))
