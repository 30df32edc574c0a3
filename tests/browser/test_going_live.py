"""Issue 9's "done when", walked as a new centre would in Chromium, against a real SMTP server:
on an installation with no demo, the operator's CLI creates a centre and its admin; the admin
sets a password from the printed link, adds an assessor, a second assessor, an IQA and a learner
through the form, imports 50 learners from a CSV file, enrols the learner, edits and moves the
enrolment, and deactivates the second assessor, whose open session stops at once; the learner
resets a forgotten password from the mail that arrived; the assessor, told by mail and by the bell
when the learner submits evidence, follows the notification to the item."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import Enrolment, User
from portfolio.catalogue import services as catalogue
from portfolio.core.mail.worker import MailWorker
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.live_server import serving_app
from tests.helpers.mail import with_mail
from tests.helpers.samples import PDF
from tests.helpers.smtp import SmtpServer

pytestmark = pytest.mark.browser

DOMAIN = "golive.example.org"
LEARNERS = "golive-learners.example.org"
PASSWORDS = {"admin": "admin sets a long one", "assessor": "assessor password 2026",
             "assessor2": "second assessor words", "learner": "learner forgot it once"}
LINK = re.compile(r"https?://\S+/password/set/[\w-]+")


def _link_in(text: str) -> str:
    found = LINK.search(text)
    assert found, f"no set-your-password link in:\n{text}"
    return found.group(0)


class Centre:
    """The live server, its mail server, and mail read per recipient."""

    def __init__(self, app, smtp: SmtpServer, base: str):
        self.app, self.smtp, self.base = app, smtp, base

    def mail_to(self, address: str, since: int = 0, timeout: float = 30) -> str:
        """The text of the first mail to ``address`` after the first ``since`` messages."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.smtp.messages[since:]:
                if message["To"] == address:
                    return message.get_content()
            time.sleep(0.2)
        raise AssertionError(f"no mail reached {address} within {timeout} s")

    def count(self, model, *where) -> int:
        with self.app.app_context():
            try:
                return db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                         .where(*where))
            finally:
                db.session.remove()


@pytest.fixture()
def centre(tmp_path, builtin_specs):
    with (SmtpServer() as smtp, app_on_new_database(tmp_path, builtin_specs.values()) as app,
          serving_app(app) as port):
        base = f"http://127.0.0.1:{port}"
        with_mail(app, smtp_url=smtp.url, base_url=base)
        worker = MailWorker(app, poll_seconds=0.2).start()
        try:
            yield Centre(app, smtp, base)
        finally:
            worker.stop()


def _set_password(page, link: str, password: str) -> None:
    page.goto(link)
    page.fill("input[name=new]", password)
    page.fill("input[name=confirm]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("button:has-text('Log out')")


def _flash(page) -> str:
    return page.locator(".flash").first.inner_text()


def _add_user(page, base: str, name: str, email: str, roles: tuple[str, ...]) -> None:
    page.goto(f"{base}/admin/users")
    page.fill("#name", name)
    page.fill("#email", email)
    if roles == ("learner",):
        page.check("input[name=account_type][value=learner]")
    else:
        page.check("input[name=account_type][value=staff]")
        for role in roles:
            page.check(f"input[name=staff_roles][value={role}]")
    with page.expect_navigation():
        page.click("#add-user-form button[type=submit]")
    assert _flash(page).startswith(f"Added {name}")


def _csv(count: int) -> bytes:
    lines = ["email,name,qualification,registration_number,start,planned_end,assessor_email,"
             "iqa_email"]
    lines += [f"learner{n:02d}@{LEARNERS},Imported Learner {n:02d},600/1636/X,GL-{n:03d},"
              f"01/09/2026,2027-08-31,assessor@{DOMAIN},iqa@{DOMAIN}" for n in range(count)]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_a_new_centre_goes_live(centre, browser, tmp_path):
    app, base = centre.app, centre.base
    created = app.test_cli_runner().invoke(args=[
        "centre", "create", "Go Live College", "--admin-email", f"admin@{DOMAIN}",
        "--admin-name", "Gill Admin"])
    assert created.exit_code == 0, created.output

    admin_context = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = admin_context.new_page()
    _set_password(admin, _link_in(created.output), PASSWORDS["admin"])
    _log_in(admin, base, f"admin@{DOMAIN}", PASSWORDS["admin"])

    # A refused submission first: staff with no role saves nothing and says why by the field.
    admin.goto(f"{base}/admin/users")
    admin.fill("#name", "Nobody Yet")
    admin.fill("#email", f"nobody@{DOMAIN}")
    admin.check("input[name=account_type][value=staff]")
    with admin.expect_navigation():
        admin.click("#add-user-form button[type=submit]")
    assert "Choose at least one role" in admin.inner_text("#add-user-form")
    assert centre.count(User, User.email == f"nobody@{DOMAIN}") == 0

    mails_before = len(centre.smtp.messages)
    _add_user(admin, base, "Asha Assessor", f"assessor@{DOMAIN}", ("assessor",))
    _add_user(admin, base, "Bo Second", f"assessor2@{DOMAIN}", ("assessor",))
    _add_user(admin, base, "Ivan IQA", f"iqa@{DOMAIN}", ("iqa",))
    _add_user(admin, base, "Lena Learner", f"learner@{DOMAIN}", ("learner",))

    admin.goto(f"{base}/admin/users")
    admin.click("text=Import learners and their enrolments from a CSV file")
    admin.set_input_files("input[type=file]", files=[
        {"name": "learners.csv", "mimeType": "text/csv", "buffer": _csv(50)}])
    with admin.expect_navigation():
        admin.click("button:has-text('Check the file')")
    assert admin.locator("h1").inner_text() == "Import 50 learners"
    with admin.expect_navigation():
        admin.click("button:has-text('Import 50 learners')")
    assert centre.count(User, User.email.like(f"%@{LEARNERS}")) == 50

    admin.goto(f"{base}/admin/enrolments")
    learner_id = str(_user_id(app, f"learner@{DOMAIN}"))
    admin.select_option("#learner_id", learner_id)
    admin.select_option("#version_id", str(_version_id(app, "600/1636/X")))
    admin.fill("#registration_number", "GL-LENA")
    admin.fill("#start_date", "2026-09-01")
    admin.fill("#planned_end_date", "2027-08-31")
    admin.select_option("#assessor_id", str(_user_id(app, f"assessor2@{DOMAIN}")))
    admin.select_option("#iqa_id", str(_user_id(app, f"iqa@{DOMAIN}")))
    with admin.expect_navigation():
        admin.click("button:has-text('Enrol')")
    assert _flash(admin) == "Enrolment created."
    enrolment_id = _enrolment_id(app, "GL-LENA")

    admin.goto(f"{base}/enrolments/{enrolment_id}/record")
    admin.fill("#edit-planned_end_date", "2027-09-30")
    with admin.expect_navigation():
        admin.click("#edit-form button[type=submit]")
    assert _flash(admin) == "The enrolment's details are changed."
    admin.select_option("#move-assessor_id", str(_user_id(app, f"assessor@{DOMAIN}")))
    with admin.expect_navigation():
        admin.click("#move-form button[type=submit]")
    assert _flash(admin) == "The enrolment is moved."

    # The second assessor sets a password from the mail and is logged in when deactivated.
    second_context = browser.new_context()
    second = second_context.new_page()
    _set_password(second, _link_in(centre.mail_to(f"assessor2@{DOMAIN}", mails_before)),
                  PASSWORDS["assessor2"])
    _log_in(second, base, f"assessor2@{DOMAIN}", PASSWORDS["assessor2"])
    admin.goto(f"{base}/admin/users")
    row = admin.locator("tr", has_text=f"assessor2@{DOMAIN}")
    with admin.expect_navigation():
        row.locator("button:has-text('Deactivate')").click()
    second.goto(f"{base}/")
    assert "/login" in second.url
    second_context.close()

    # The learner never used the welcome link: they reset a forgotten password instead.
    learner_context = browser.new_context(viewport={"width": 390, "height": 844},
                                          is_mobile=True)
    learner = learner_context.new_page()
    learner.goto(f"{base}/login")
    learner.click("text=Forgot your password?")
    learner.fill("input[name=email]", f"learner@{DOMAIN}")
    mails_before = len(centre.smtp.messages)
    with learner.expect_navigation():
        learner.click("button[type=submit]")
    reset = centre.mail_to(f"learner@{DOMAIN}", mails_before)
    _set_password(learner, _link_in(reset), PASSWORDS["learner"])
    _log_in(learner, base, f"learner@{DOMAIN}", PASSWORDS["learner"])

    assessor_context = browser.new_context(viewport={"width": 1280, "height": 900})
    assessor = assessor_context.new_page()
    _set_password(assessor, _link_in(centre.mail_to(f"assessor@{DOMAIN}")),
                  PASSWORDS["assessor"])
    _log_in(assessor, base, f"assessor@{DOMAIN}", PASSWORDS["assessor"])

    mails_before = len(centre.smtp.messages)
    learner.goto(f"{base}/enrolments/{enrolment_id}/evidence/new")
    learner.fill("input[name=title]", "Stock rotation")
    learner.fill("input[name=evidence_date]", "2026-10-01")
    learner.select_option("select[name=method]", "product")
    learner.select_option("select[name=setting]", "workplace")
    learner.set_input_files("input[data-uploader]", [{
        "name": "stock-sheet.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    learner.wait_for_selector("li.upload.done", timeout=20_000)
    learner.fill("[data-picker-search]", "301 1.1")
    learner.locator(".picker-criterion:visible input").first.check()
    learner.check("input[name=declaration]")
    learner.click("button[data-submit]")
    learner.wait_for_selector("h1:has-text('Stock rotation')")

    told = centre.mail_to(f"assessor@{DOMAIN}", mails_before)
    assert "Stock rotation" not in told and "Lena" not in told
    assessor.goto(f"{base}/")
    # The enrolment moved to them, then the learner's evidence: newest first.
    assert assessor.text_content("header .bell .count") == "2 unread"
    assessor.click("header .bell")
    with assessor.expect_navigation():
        assessor.locator("ul.notifications li.unread button").first.click()
    assert assessor.locator("h1").inner_text() == "Judge “Stock rotation”"
    assert assessor.text_content("header .bell .count") == "1 unread"
    assessor.screenshot(path=str(tmp_path / "assessor-followed.png"), full_page=True)
    for context in (admin_context, learner_context, assessor_context):
        context.close()


def _user_id(app, email: str) -> int:
    with app.app_context():
        try:
            return db.session.scalar(sa.select(User.id).where(User.email == email))
        finally:
            db.session.remove()


def _version_id(app, qualification_number: str) -> int:
    with app.app_context():
        try:
            return catalogue.find_version(db.session, qualification_number).id
        finally:
            db.session.remove()


def _enrolment_id(app, registration: str) -> int:
    with app.app_context():
        try:
            return db.session.scalar(sa.select(Enrolment.id).where(
                Enrolment.registration_number == registration))
        finally:
            db.session.remove()

