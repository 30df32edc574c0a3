"""The audit trail as a centre's admin reads it: each event a sentence saying who did what, when
in London time, with UK dates inside the sentence, linked to the learner and to the thing it is
about; filtered by person, learner and day; another centre's events never shown."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

from portfolio.core.audit import AuditEvent, readable
from tests.helpers.assessment import add_item, criteria_of, decide
from tests.helpers.web import log_in, text

_ROW = re.compile(
    r'<tr><td data-label="When">([^<]*)</td>'
    r'<td data-label="What happened"><strong>([^<]*)</strong> ([^<]*)</td>'
    r'<td data-label="Learner">(?:<a href="([^"]*)">([^<]*)</a>)?</td>'
    r'<td data-label="About">(?:<a href="([^"]*)">([^<]*)</a>)?</td></tr>')


@dataclass(frozen=True)
class Row:
    when: str
    who: str
    sentence: str
    learner_url: str
    learner: str
    about_url: str
    about: str


def audit_rows(client, query="") -> list[Row]:
    response = client.get(f"/admin/audit{query}")
    assert response.status_code == 200
    return [Row(*(html.unescape(cell) for cell in row))
            for row in _ROW.findall(text(response))]


def test_event_data_reads_as_uk_dates_and_london_times():
    assert readable({"start_date": "2026-12-02", "before": {"on": "2026-06-30"},
                     "at": "2026-07-01T13:05:00+00:00", "list": ["2026-01-09", "301"],
                     "registration_number": "2026-12", "count": 3}) == {
        "start_date": "2 December 2026", "before": {"on": "30 June 2026"},
        "at": "1 Jul 2026, 14:05", "list": ["9 January 2026", "301"],
        "registration_number": "2026-12", "count": 3}


def test_the_audit_trail_reads_as_sentences_with_links(login, people, session, client):
    mine = add_item(session, people.enrolment1, criteria_of(session, people.enrolment1, "301", 2))
    decide(session, mine, people.assessor1, [c.criterion_id for c in mine.claims])
    add_item(session, people.enrolment2, criteria_of(session, people.enrolment2, "01", 1))
    add_item(session, people.other_enrolment, criteria_of(session, people.other_enrolment, "301", 1))
    session.add(AuditEvent(at=dt.datetime(2025, 7, 15, 23, 30, tzinfo=dt.UTC),
                           action="enrolment.edited", actor_id=people.admin.id,
                           centre_id=people.centre.id, learner_id=people.learner2.id,
                           object_type="enrolment", object_id=people.enrolment2.id,
                           data={"registration_number": "R2", "start_date": "2025-07-01",
                                 "planned_end_date": "2026-06-30"}))
    session.commit()
    assert log_in(client, people.learner1, password="not the password").status_code == 401

    client = login(people.admin)
    rows = audit_rows(client)
    assert len(rows) == 6
    page = text(client.get("/admin/audit"))
    assert "evidence.created" not in page and "{" not in page  # no stored names or data

    # The edit made at 23:30 UTC in summer is on the next day in London; its dates read as UK dates.
    edited = next(r for r in rows if "changed the enrolment" in r.sentence)
    assert (edited.when, edited.who) == ("16 Jul 2025, 00:30", "Admin")
    assert edited.sentence == ("changed the enrolment's details: registration R2, "
                               "1 July 2025 to 30 June 2026")
    assert (edited.about, edited.about_url) == (
        "Enrolment record", f"/enrolments/{people.enrolment2.id}/record")
    assert (edited.learner, edited.learner_url) == ("Learner2", f"/admin/users/{people.learner2.id}")

    failed = next(r for r in rows if "failed to log in" in r.sentence)
    assert (failed.who, failed.sentence) == ("Someone", "failed to log in as learner1@north.test")
    assert (failed.learner, failed.about) == ("", "")

    # Decisions link to the item judged; evidence to itself, named by its title.
    by_assessor = audit_rows(client, f"?user_id={people.assessor1.id}")
    assert {(r.who, r.sentence, r.learner, r.about, r.about_url) for r in by_assessor} == {
        ("Assessor1", f"judged unit 301 criterion {code} met on evidence #{mine.id}", "Learner1",
         f"Evidence #{mine.id}", f"/evidence/{mine.id}") for code in ("1.1", "1.2")}
    created = {r.about_url: r.about for r in rows if r.sentence.startswith("added evidence")}
    assert len(created) == 2 and created[f"/evidence/{mine.id}"] == f"Evidence “{mine.title}”"

    assert {r.learner for r in audit_rows(client, f"?learner_id={people.learner2.id}")} == {
        "Learner2"}
    assert [r.who for r in audit_rows(client, "?since=2025-07-16&until=2025-07-16")] == ["Admin"]
    assert audit_rows(client, "?until=2025-07-14") == []

    # Another centre's people cannot be used to reach their events, nor its admin ours.
    assert audit_rows(client, f"?user_id={people.other_learner.id}") == []
    assert audit_rows(client, f"?learner_id={people.other_learner.id}") == []
    south = audit_rows(login(people.other_admin))
    assert [(r.who, r.learner) for r in south] == [("Learner", "Learner")]
    assert not any("Learner1" in r.sentence or "Learner2" in r.learner for r in south)
