"""Two operators import the same file at the same moment, each with ``portfolio users import``
in its own process on PostgreSQL: one imports it, the other exits 2 with one clear line (the
check found the learners, or the unique indexes refused the duplicates), and nothing is doubled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import Centre, Enrolment
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_user

pytestmark = pytest.mark.skipif(not on_postgres(), reason="row locks and concurrent writers "
                                "need PostgreSQL (SQLite serialises all writers)")
COUNT = 1500
PORTFOLIO = Path(sys.executable).with_name("portfolio")


def test_the_same_file_imported_twice_at_once_is_imported_once(tmp_path, builtin_specs):
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            centre = Centre(name="Race College")
            db.session.add(centre)
            db.session.flush()
            make_user(db.session, centre, "assessor@race-college.ac.uk", "assessor")
            make_user(db.session, centre, "iqa@race-college.ac.uk", "iqa")
            db.session.commit()
        lines = ["email,name,qualification,registration_number,start,planned_end,"
                 "assessor_email,iqa_email"]
        lines += [f"l{n}@race-college.ac.uk,Learner {n},600/1636/X,RACE-{n},2026-09-01,"
                  f"2027-08-31,assessor@race-college.ac.uk,iqa@race-college.ac.uk"
                  for n in range(COUNT)]
        path = tmp_path / "learners.csv"
        path.write_text("\n".join(lines) + "\n")
        environment = {**os.environ, "PORTFOLIO_DATABASE_URL": app.config[
            "SQLALCHEMY_DATABASE_URI"], "PORTFOLIO_INSTANCE_PATH": str(tmp_path / "instance")}
        # Output to files: a process blocked on a full pipe while holding row locks would
        # stall the other.
        outputs = [(tmp_path / f"out{n}", tmp_path / f"err{n}") for n in range(2)]
        runs = [subprocess.Popen([str(PORTFOLIO), "users", "import", "--centre", "Race College",
                                  str(path)], env=environment, stdout=out.open("w"),
                                 stderr=err.open("w")) for out, err in outputs]
        results = sorted((run.wait(120), out.read_text(), err.read_text())
                         for run, (out, err) in zip(runs, outputs, strict=True))

        assert [code for code, _, _ in results] == [0, 2], results
        assert results[0][1].startswith(f"Imported {COUNT} learners")
        last = results[1][2].strip().splitlines()[-1]
        assert last.startswith("Error: ") and "Traceback" not in results[1][2]
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == COUNT
