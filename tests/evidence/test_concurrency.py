"""Real concurrent submits, on a database of their own (PostgreSQL's row locks, SQLite's write
lock): the same new-evidence form posted twice at the same moment makes one item, and both
answers lead to it."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from portfolio.core.audit import AuditEvent
from portfolio.evidence.models import EvidenceFile, EvidenceItem
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.concurrency import post_at_once
from tests.helpers.evidence import criterion_ids
from tests.helpers.factories import make_people


def test_a_double_submit_makes_one_item_with_its_files(tmp_path, builtin_specs):
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            enrolment = people.enrolment1
            uploads = [EvidenceFile(
                enrolment_id=enrolment.id, uploader_id=people.learner1.id,
                object_key=f"evidence/{enrolment.id}/double-{n}",
                sha256=hashlib.sha256(b"%d" % n).hexdigest(), size=100,
                content_type="application/pdf", original_name=f"call-{n}.pdf")
                for n in range(2)]
            db.session.add_all(uploads)
            db.session.commit()
            url = f"/enrolments/{enrolment.id}/evidence/new"
            data = {"title": "Handling a complaint", "evidence_date": "2026-10-01",
                    "method": "product", "setting": "workplace", "declaration": "y",
                    "uploads": [u.id for u in uploads],
                    "criteria": criterion_ids(enrolment, 2)}
            email = people.learner1.email
            db.session.remove()

        responses = post_at_once(app, email, url, data)

        assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
        assert responses[0].headers["Location"] == responses[1].headers["Location"]
        with app.app_context():
            session = db.session
            [item] = session.scalars(sa.select(EvidenceItem)).all()
            assert responses[0].headers["Location"].endswith(f"/evidence/{item.id}")
            assert sorted(f.original_name for f in item.files) == ["call-0.pdf", "call-1.pdf"]
            assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "evidence.created")) == 1
            db.session.remove()
