"""Two submits of one password link at the same moment, each in its own thread, session and
transaction on a database of its own: exactly one sets its password, the other is refused and
changes nothing. (PostgreSQL makes the second UPDATE wait for the first and re-check its
condition; SQLite serialises the writers.)"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from portfolio.accounts import links
from portfolio.accounts.models import Centre, User
from portfolio.accounts.services import authenticate
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.factories import make_user

PASSWORDS = ("the first contender", "the second contender")


def test_a_link_submitted_twice_at_once_sets_one_password(tmp_path):
    with app_on_new_database(tmp_path, specs=[]) as app:
        with app.app_context():
            centre = Centre(name="Race College")
            db.session.add(centre)
            db.session.flush()
            user_id = make_user(db.session, centre, "sam@race-college.ac.uk", "learner").id
            token = links.issue_link(db.session, db.session.get(User, user_id), "reset")
            db.session.commit()

        barrier = threading.Barrier(2, timeout=30)
        outcomes: dict[str, str] = {}

        def submit(password: str) -> None:
            with app.app_context():
                try:
                    barrier.wait()
                    links.use_link(db.session, token, password)
                    db.session.commit()
                    outcomes[password] = "set"
                except links.LinkUnusable as refused:
                    db.session.rollback()
                    outcomes[password] = str(refused)

        threads = [threading.Thread(target=submit, args=(p,)) for p in PASSWORDS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(outcomes.values()) == sorted(["set", links.UNUSABLE]), outcomes

        winner = next(p for p, outcome in outcomes.items() if outcome == "set")
        with app.app_context():
            assert authenticate(db.session, "sam@race-college.ac.uk", winner, "10.0.0.1")
            db.session.rollback()
            used = db.session.scalars(sa.select(links.PasswordLink.used_at)).all()
            assert len(used) == 1 and used[0] is not None
