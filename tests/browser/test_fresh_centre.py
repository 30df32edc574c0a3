"""A fresh instance with no demo: the operator runs ``portfolio centre create`` (a process of its
own), which prints the first admin's link and mails it through the outbox; the admin opens the
printed link in Chromium, sets a password and logs in."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from portfolio.core.mail.worker import MailWorker
from tests.helpers.app import app_on_new_database
from tests.helpers.live_server import serving_app
from tests.helpers.mail import mail_settings, with_mail
from tests.helpers.smtp import SmtpServer

pytestmark = pytest.mark.browser

ADMIN = "ann.admin@east-institute.ac.uk"
PASSWORD = "the first admin's passphrase"


def test_the_operator_creates_a_centre_whose_admin_sets_a_password(tmp_path, browser):
    with (SmtpServer() as smtp, app_on_new_database(tmp_path, specs=[]) as app,
          serving_app(app) as port):
        base = f"http://127.0.0.1:{port}"
        with_mail(app, smtp_url=smtp.url, base_url=base)
        worker = MailWorker(app, poll_seconds=0.5).start()  # sends what the command enqueued
        try:
            inherited = {k: v for k, v in os.environ.items() if not k.startswith("PORTFOLIO_")}
            created = subprocess.run(
                [sys.executable, "-c", "from portfolio.cli import main; main()", "centre",
                 "create", "East Institute", "--admin-email", ADMIN, "--admin-name",
                 "Ann Admin"], capture_output=True, text=True, timeout=60,
                env={**inherited, "PORTFOLIO_INSTANCE_PATH": str(tmp_path / "operator"),
                     "PORTFOLIO_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                     **mail_settings(smtp.url, base)})
            assert created.returncode == 0, created.stderr
            printed = re.search(r"(http://\S+/password/set/\S+)", created.stdout).group(1)
            (mail,) = smtp.wait_for(1)
            assert mail["To"] == ADMIN and printed in mail.get_content()
        finally:
            worker.stop()

        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        page = context.new_page()
        page.goto(printed)
        page.fill("#new", PASSWORD)
        page.fill("#confirm", PASSWORD)
        with page.expect_navigation():
            page.click("button:has-text('Set my password')")
        page.fill("input[name=email]", ADMIN)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(f"{base}/admin/users")
        assert "Ann Admin" in page.inner_text("table")  # the centre's admin, logged in
        context.close()
