"""The outbox sending 1,000 mails (PORTFOLIO_BENCH_MAILS) to a local SMTP server (aiosmtpd).

The mails are enqueued and committed on an embedded SQLite database, as ``portfolio serve``
keeps it, then sent by :func:`deliver_all`, the worker's own loop: claim a batch, send it over
one connection, record it. Reported: mails per second, enqueueing and sending apart.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from portfolio.core.mail import enqueue_mail
from portfolio.core.mail.worker import BATCH, deliver_all
from portfolio.extensions import db
from tests.helpers.app import make_app, migrate_with_catalogue
from tests.helpers.databases import create_database
from tests.helpers.smtp import SmtpServer


def run():
    count = int(os.environ.get("PORTFOLIO_BENCH_MAILS", "1000"))
    with tempfile.TemporaryDirectory() as directory, SmtpServer() as smtp:
        root = Path(directory)
        app = make_app(root, create_database(root), settings={
            "smtp_url": smtp.url, "mail_from": "Portfolio <noreply@north.test>",
            "base_url": "https://portfolio.example.org"})
        with app.app_context():
            migrate_with_catalogue([])
            started = time.perf_counter()
            for number in range(count):
                enqueue_mail(db.session, to=f"learner{number}@north.test",
                             subject=f"New feedback on your evidence {number}",
                             text=f"Hello Learner {number},\n\nAn assessor has judged your "
                                  f"evidence: https://portfolio.example.org/evidence/{number}\n")
            db.session.commit()
            enqueued = time.perf_counter() - started
            started = time.perf_counter()
            sent = deliver_all(app.config["PORTFOLIO_SETTINGS"])
            sending = time.perf_counter() - started
            db.engine.dispose()
        smtp.wait_for(count)
    if sent != count:
        raise RuntimeError(f"the outbox sent {sent} of {count} mails")
    yield f"outbox: {count:,} mails to a local SMTP server (aiosmtpd), batches of {BATCH}:"
    yield f"  enqueue and commit   {enqueued:6.2f} s  {count / enqueued:7.0f} mails/s"
    yield f"  worker sending       {sending:6.2f} s  {count / sending:7.0f} mails/s"
