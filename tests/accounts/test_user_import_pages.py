"""The admin's import pages: upload, every problem in a table (nothing saved), or a preview;
the confirmation checks the kept file again, and only its uploader can confirm it."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from portfolio.accounts.models import Enrolment, User
from tests.accounts.test_user_import import DOMAIN, csv_file, line
from tests.helpers.web import csrf_token, flashes, text

PAGE = "/admin/users/import"


def upload(client, data: bytes, token=None):
    return client.post(PAGE, data={
        "file": (io.BytesIO(data), "learners.csv"),
        "csrf_token": token if token is not None else csrf_token(client, PAGE)},
        content_type="multipart/form-data")


def confirm(client, page: str):
    name = re.search(r'name="upload" type="hidden" value="([^"]+)"', page).group(1)
    return client.post(f"{PAGE}/confirm", data={"upload": name,
                                                 "csrf_token": csrf_token(client, PAGE)})


def imported(session) -> list[str]:
    return session.scalars(sa.select(User.email).where(User.email.like(f"%@{DOMAIN}"))
                           .order_by(User.email)).all()


def test_problems_are_shown_in_a_table_and_nothing_is_saved(login, people, session):
    admin = login(people.admin)
    response = upload(admin, csv_file(line(1), line(2, start="31/02/2026")))
    assert response.status_code == 422
    page = text(response)
    assert "Nothing was imported: 1 problem in this file." in page
    assert ('<tr><td data-label="Row">3</td><td data-label="Column">start</td>'
            '<td data-label="Problem">“31/02/2026” is not a date: write YYYY-MM-DD or '
            'DD/MM/YYYY.</td></tr>') in page
    assert 'name="upload"' not in page and imported(session) == []


def test_a_preview_then_the_confirmation_imports(login, people, session):
    admin = login(people.admin)
    preview = upload(admin, csv_file(line(1), line(2)))
    assert preview.status_code == 200
    page = text(preview)
    assert "Import 2 learners" in page and f"Learner 2 (learner2@{DOMAIN})" in page
    assert imported(session) == []  # the preview saves nothing

    done = confirm(admin, page)
    assert done.status_code == 302 and done.headers["Location"] == "/admin/users"
    assert flashes(text(admin.get("/admin/users")))[0].startswith(
        "Imported 2 learners with their enrolments.")
    assert imported(session) == [f"learner1@{DOMAIN}", f"learner2@{DOMAIN}"]
    again = confirm(admin, page)  # the kept file is gone once imported
    assert again.status_code == 302 and again.headers["Location"] == PAGE
    assert len(imported(session)) == 2


def test_the_confirmation_checks_the_file_again(login, people, session):
    admin = login(people.admin)
    page = text(upload(admin, csv_file(line(1), line(2))))
    people.assessor1.is_enabled = False  # deactivated between the preview and the confirmation
    session.flush()
    response = confirm(admin, page)
    assert response.status_code == 422
    assert text(response).count("assessor1@north.test is not an active assessor") == 2
    assert imported(session) == [] and not session.scalar(sa.select(Enrolment.id).where(
        Enrolment.registration_number == "IMP-0001"))


def test_only_the_uploader_can_confirm_and_only_with_a_token(login, people, session,
                                                            client):
    admin = login(people.admin)
    page = text(upload(admin, csv_file(line(1))))
    other = session.scalar(sa.select(User).where(User.email == "admin@south.test"))
    login(other)
    assert confirm(client, page).headers["Location"] == PAGE  # not theirs: nothing found
    login(people.admin)
    name = re.search(r'name="upload" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(f"{PAGE}/confirm", data={"upload": name}).status_code == 400  # no CSRF
    assert upload(client, csv_file(line(1)), token="").status_code == 400
    assert imported(session) == []
    login(people.assessor1)
    assert client.get(PAGE).status_code in (403, 404)
