"""Making sample files and uploading them through the app."""

from __future__ import annotations

import io
from urllib.parse import quote

from PIL import Image

from tests.factories import csrf_token


def jpeg_with_location(width=640, height=480) -> bytes:
    """A JPEG carrying EXIF orientation 6 (rotate 90°) and a GPS position."""
    image = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b" " * 2000


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
