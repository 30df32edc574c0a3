"""The inbox of a user with 10,000 notifications (target: 100 ms median server time, and the
same number of queries as for a user with 10): the first page and one deep in the past, each
with the header's unread count.

Each database is new: SQLite always, PostgreSQL too when ``PORTFOLIO_TEST_DATABASE_URL`` (or the
default local server) answers. Requests go through Flask's test client outside any application
context, so each has its own session and loads its user as in production; the time measured is
the whole ``client.get`` (no network or web server).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path

import sqlalchemy as sa

from tests.helpers import databases
from tests.helpers.queries import count_queries

NOTIFICATIONS = 10_000
FEW = 10
REQUESTS = 30
TARGET_MS = 100


def run():
    yield (f"inbox of a user with {NOTIFICATIONS:,} notifications (a quarter read); Flask test "
           f"client timing over {REQUESTS} requests after one warm-up:")
    yield from databases.on_each_database(_measure)


def _measure(label: str, directory: Path, url: str):
    from portfolio import create_app
    from portfolio.accounts.models import Centre
    from portfolio.config import Settings
    from portfolio.core.db import utcnow
    from portfolio.extensions import db
    from portfolio.notifications.models import Notification
    from tests.helpers.app import migrate_with_catalogue
    from tests.helpers.factories import make_user
    from tests.helpers.web import csrf_token, log_in

    app = create_app(Settings(instance_path=directory, database_url=url, secret_key="bench"))
    with app.app_context():
        migrate_with_catalogue([])
        centre = Centre(name="Bench College")
        db.session.add(centre)
        db.session.flush()
        busy = make_user(db.session, centre, "busy@bench.test", "assessor")
        quiet = make_user(db.session, centre, "quiet@bench.test", "assessor")
        start = utcnow() - dt.timedelta(days=365)
        for user, count in ((busy, NOTIFICATIONS), (quiet, FEW)):
            db.session.execute(sa.insert(Notification), [
                {"recipient_id": user.id, "centre_id": centre.id, "kind": "evidence_awaiting",
                 "text": f"Learner {n % 60} submitted evidence “Evidence {n}”: it is waiting "
                         f"for your decision.", "link": f"/evidence/{n}/judge",
                 "created_at": start + dt.timedelta(minutes=50 * n),
                 "read_at": start if n < count // 4 else None} for n in range(count)])
        db.session.commit()
        oldest_page = db.session.scalar(
            sa.select(Notification.id).where(Notification.recipient_id == busy.id)
            .order_by(Notification.id).offset(60).limit(1))
        engine = db.engine
        db.session.remove()

    client = app.test_client()
    assert log_in(client, "busy@bench.test").status_code == 302
    yield f"{label}:"
    for name, path in (("first page", "/notifications"),
                       ("a page deep in the past", f"/notifications?before={oldest_page}")):
        timings, queries = _time(client, engine, path)
        median = statistics.median(timings)
        verdict = "met" if median < TARGET_MS else "MISSED"
        yield (f"  {name:<24} median {median:6.1f} ms   max {max(timings):6.1f} ms   "
               f"{queries} queries   (target < {TARGET_MS} ms: {verdict})")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/catalogue/")})
    assert log_in(client, "quiet@bench.test").status_code == 302
    _, few = _time(client, engine, "/notifications", 1)
    yield f"  queries for a user with {FEW} notifications: {few} (constant: {few == queries})"
    engine.dispose()


def _time(client, engine, path: str, repeat: int = REQUESTS) -> tuple[list[float], int]:
    """Milliseconds of each GET after a warm-up, and the statements of the last one."""
    timings = []
    for n in range(repeat + 1):
        with count_queries(engine) as statements:
            start = time.perf_counter()
            response = client.get(path)
            response.get_data()
            elapsed = (time.perf_counter() - start) * 1e3
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        if n:
            timings.append(elapsed)
    return timings, len(statements)
