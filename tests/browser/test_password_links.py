"""Password links in Chromium on a 390 px screen, with mail sent by the app's worker to a real
SMTP server: an admin adds a learner and an assessor through the form (a refused submission
first), who set their passwords from the mail and log in; a learner who forgot their password
resets it; an admin's reset button."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from werkzeug.serving import make_server

from portfolio.core.mail.worker import MailWorker
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.browser import log_in_page, seed_enrolment
from tests.helpers.factories import PASSWORD
from tests.helpers.mail import with_mail
from tests.helpers.smtp import SmtpServer

pytestmark = pytest.mark.browser

DOMAIN = "links-college.ac.uk"
NEW_PASSWORD = "a brand new passphrase"
_LINK = re.compile(r"(http://\S+/password/set/[A-Za-z0-9_-]+)")


@pytest.fixture()
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture()
def live_app(tmp_path, builtin_specs, smtp):
    """A live server whose mail goes, through the outbox and a worker in this process, to
    ``smtp``; its links point at the live server. A centre with one person of each role."""
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        with_mail(app, smtp_url=smtp.url, base_url=base)
        app.config["LIVE_URL"] = base
        with app.app_context():
            seed_enrolment(db.session, "Links College", DOMAIN, "LC-1",
                           dt.date.today() - dt.timedelta(days=30),
                           dt.date.today() + dt.timedelta(days=300),
                           roles=("centre_admin", "learner", "assessor", "iqa"))
            db.session.commit()
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        worker = MailWorker(app, poll_seconds=1).start()
        try:
            yield app
        finally:
            worker.stop()
            server.shutdown()


def _phone(browser):
    return browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)


def _wide_as_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def _link_to(smtp, count: int, address: str) -> str:
    """The link in the mail to ``address``, once ``count`` mails have arrived."""
    (message,) = [m for m in smtp.wait_for(count) if m["To"] == address]
    return _LINK.search(message.get_content()).group(1)


def _set_password(browser, link: str, password: str = NEW_PASSWORD) -> None:
    """Follow ``link`` in a new phone, choose ``password`` (a mismatch refused first), and log
    in with it."""
    context = _phone(browser)
    page = context.new_page()
    page.goto(link)
    assert _wide_as_the_screen(page)
    page.fill("#new", password)
    page.fill("#confirm", "not the same")
    with page.expect_navigation():
        page.click("button:has-text('Set my password')")
    assert "not the same" in page.inner_text("#confirm-error")
    page.fill("#new", password)
    page.fill("#confirm", password)
    with page.expect_navigation():
        page.click("button:has-text('Set my password')")
    assert page.url.endswith("/login")
    assert "Your password is set" in page.inner_text("main")
    context.close()


def _logs_in(browser, base: str, email: str, password: str) -> bool:
    context = _phone(browser)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    logged_in = page.locator("button:has-text('Log out')").count() == 1
    context.close()
    return logged_in


def test_an_admin_adds_a_learner_and_an_assessor_who_set_their_passwords(live_app, browser,
                                                                         smtp):
    base = live_app.config["LIVE_URL"]
    context = _phone(browser)
    admin = context.new_page()
    log_in_page(admin, base, f"admin@{DOMAIN}")
    admin.goto(f"{base}/admin/users")
    assert _wide_as_the_screen(admin)

    admin.fill("#name", "Nell Newcomer")
    admin.fill("#email", f"nell@{DOMAIN}")
    admin.check("input[name=account_type][value=staff]")  # and no role ticked
    with admin.expect_navigation():
        admin.click("button:has-text('Add user')")
    assert "Choose at least one role" in admin.inner_text("#staff_roles-error")
    assert admin.input_value("#email") == f"nell@{DOMAIN}"  # kept for the next try

    admin.check("input[name=account_type][value=learner]")
    with admin.expect_navigation():
        admin.click("button:has-text('Add user')")
    assert "Added Nell Newcomer" in admin.inner_text("main")

    admin.fill("#name", "Sol Assessor")
    admin.fill("#email", f"sol@{DOMAIN}")
    admin.check("input[name=account_type][value=staff]")
    admin.check("input[name=staff_roles][value=assessor]")
    with admin.expect_navigation():
        admin.click("button:has-text('Add user')")
    assert "Added Sol Assessor" in admin.inner_text("main")
    assert "Assessor" in admin.locator("tr", has_text=f"sol@{DOMAIN}").inner_text()
    context.close()

    for email in (f"nell@{DOMAIN}", f"sol@{DOMAIN}"):
        _set_password(browser, _link_to(smtp, 2, email))
        assert _logs_in(browser, base, email, NEW_PASSWORD)


def test_a_learner_resets_a_forgotten_password(live_app, browser, smtp):
    base, email = live_app.config["LIVE_URL"], f"learner@{DOMAIN}"
    context = _phone(browser)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.click("text=Forgot your password?")
    assert _wide_as_the_screen(page)
    page.fill("#email", "learner@links-college")  # the browser takes it; the server does not
    with page.expect_navigation():
        page.click("button:has-text('Send me a link')")
    assert page.locator("#email-error").count() == 1
    page.fill("#email", email)
    with page.expect_navigation():
        page.click("button:has-text('Send me a link')")
    assert "If an active account uses that address" in page.inner_text("main")
    context.close()

    link = _link_to(smtp, 1, email)
    _set_password(browser, link)
    assert not _logs_in(browser, base, email, PASSWORD)  # the old password no longer works
    assert _logs_in(browser, base, email, NEW_PASSWORD)

    context = _phone(browser)
    again = context.new_page()
    again.goto(link)
    assert "This link has expired or has been used: ask for a new one." in \
        again.inner_text("main")
    assert again.locator("a[href='/password/forgot']").count() == 1
    context.close()


def test_an_admins_reset_button_mails_a_link(live_app, browser, smtp):
    base, email = live_app.config["LIVE_URL"], f"assessor@{DOMAIN}"
    context = _phone(browser)
    admin = context.new_page()
    log_in_page(admin, base, f"admin@{DOMAIN}")
    admin.goto(f"{base}/admin/users")
    row = admin.locator("tr", has_text=email)
    with admin.expect_navigation():
        row.locator("button:has-text('Send a password reset link')").click()
    assert "A password reset link is on its way" in admin.inner_text("main")
    context.close()

    _set_password(browser, _link_to(smtp, 1, email))
    assert _logs_in(browser, base, email, NEW_PASSWORD)
