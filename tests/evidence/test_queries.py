"""The evidence list's first page renders in a number of queries that does not grow with the
portfolio."""

from __future__ import annotations

import datetime as dt

from portfolio.evidence.models import CriterionClaim, EvidenceFile, EvidenceItem
from tests.helpers.evidence import criterion_ids
from tests.helpers.queries import count_queries


def add_items(session, enrolment, count, start=0):
    criteria = criterion_ids(enrolment, 3)
    now = dt.datetime.now(dt.UTC)
    for n in range(start, start + count):
        item = EvidenceItem(enrolment_id=enrolment.id, title=f"Item {n}", evidence_date=dt.date(2026, 10, 1),
                            method="product", setting="workplace", declared_at=now)
        item.files.append(EvidenceFile(
            enrolment_id=enrolment.id, uploader_id=enrolment.learner_id,
            object_key=f"evidence/test/{enrolment.id}/{n}", sha256="0" * 64, size=10,
            content_type="image/jpeg", original_name=f"{n}.jpg",
            thumbnail_key=f"evidence/test/{enrolment.id}/{n}-t", preview_key=f"evidence/test/{enrolment.id}/{n}-p"))
        item.claims.extend(CriterionClaim(criterion_id=c) for c in criteria)
        session.add(item)
    session.flush()


def test_list_queries_do_not_grow(login, people, session):
    client = login(people.learner1)
    url = f"/enrolments/{people.enrolment1.id}/evidence"
    add_items(session, people.enrolment1, 5)
    client.get(url)  # the test's session keeps the user's role grants from here on
    with count_queries() as few:
        assert client.get(url).status_code == 200
    add_items(session, people.enrolment1, 2000, start=5)
    with count_queries() as many:
        page = client.get(url).get_data(as_text=True)
    assert page.count('class="evidence-card') == 50  # a page
    assert len(many) == len(few)
