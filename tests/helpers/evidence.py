"""Evidence through the app: uploading files, the criteria to claim, submitting an item. The
sample files themselves are in ``tests.helpers.samples``."""

from __future__ import annotations

from urllib.parse import quote

from tests.helpers.web import csrf_token


def upload(client, enrolment, data: bytes, filename: str):
    return client.post(
        f"/enrolments/{enrolment.id}/uploads", data=data,
        headers={"X-CSRFToken": csrf_token(client, "/catalogue/"),
                 "X-Filename": quote(filename), "Content-Type": "application/octet-stream"})


def criterion_ids(enrolment, count=2):
    return [c.id for o in enrolment.version.units[0].learning_outcomes for c in o.criteria][:count]


def submit_item(client, enrolment, upload_ids, criteria=(), **fields):
    data = {"title": "Handling a complaint", "description": "Call log and notes",
            "evidence_date": "2026-10-01", "method": "product", "setting": "workplace",
            "declaration": "y", "uploads": upload_ids, "criteria": criteria,
            "csrf_token": csrf_token(client, "/catalogue/")}
    data.update(fields)
    return client.post(f"/enrolments/{enrolment.id}/evidence/new", data=data)
