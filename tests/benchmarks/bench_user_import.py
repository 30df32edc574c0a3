"""Importing a CSV file of 5,000 learners with their enrolments on PostgreSQL (target < 20 s):
the whole import as ``portfolio users import`` does it, checks, services, audit rows, each new
learner's set-your-password link and mail, and the commit, on a new database with the built-in
catalogue, 20 assessors and 5 IQAs.

PostgreSQL is the database a centre of that size runs on; the benchmark is skipped, saying why,
when ``PORTFOLIO_TEST_DATABASE_URL`` (or the default local server) does not answer.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.helpers import databases

LEARNERS = 5000
TARGET_S = 20.0
QUALIFICATIONS = ("600/1636/X", "600/1257/2", "600/9662/7", "601/5359/3")


def run():
    yield from databases.on_each_database(_report, sqlite=False)


def _report(label: str, directory: Path, url: str):
    seconds = _measure(directory, url)
    verdict = "meets" if seconds < TARGET_S else "MISSES"
    yield (f"users import, {LEARNERS:,} learners with enrolments on {label} "
           f"(target < {TARGET_S:.0f} s): {seconds:.1f} s, {verdict} the target")


def csv_of_learners(count: int, domain: str, assessors: list[str], iqas: list[str]) -> bytes:
    """A file of ``count`` learners, spread over the qualifications, assessors and IQAs."""
    lines = ["email,name,qualification,registration_number,start,planned_end,assessor_email,"
             "iqa_email"]
    for n in range(count):
        lines.append(f"learner{n}@{domain},Learner {n},{QUALIFICATIONS[n % len(QUALIFICATIONS)]},"
                     f"BENCH-{n:05d},01/09/2026,2027-08-31,{assessors[n % len(assessors)]},"
                     f"{iqas[n % len(iqas)]}")
    return ("\r\n".join(lines) + "\r\n").encode()


def _measure(directory: Path, url: str) -> float:
    from portfolio import create_app
    from portfolio.accounts.imports import import_learners
    from portfolio.accounts.models import Centre
    from portfolio.catalogue import services as catalogue
    from portfolio.config import Settings
    from portfolio.extensions import db
    from tests.helpers.app import migrate_with_catalogue
    from tests.helpers.factories import make_user

    # Mail set up (nothing is sent: no worker runs), so each new learner's set-your-password
    # link and its mail are written in the import's transaction, as on a real instance.
    app = create_app(Settings(instance_path=directory, database_url=url, secret_key="bench",
                              smtp_url="smtp://127.0.0.1:9", mail_from="bench@bench-college.ac.uk",
                              base_url="https://portfolio.bench-college.ac.uk"))
    with app.app_context():
        migrate_with_catalogue(catalogue.load_builtin_specs())
        centre = Centre(name="Bench College")
        db.session.add(centre)
        db.session.flush()
        admin = make_user(db.session, centre, "admin@bench-college.ac.uk", "centre_admin")
        assessors = [make_user(db.session, centre, f"assessor{n}@bench-college.ac.uk",
                               "assessor").email for n in range(20)]
        iqas = [make_user(db.session, centre, f"iqa{n}@bench-college.ac.uk", "iqa").email
                for n in range(5)]
        db.session.commit()
        data = csv_of_learners(LEARNERS, "learners.bench-college.ac.uk", assessors, iqas)
        admin_id, centre_id = admin.id, centre.id
        db.session.remove()

        start = time.perf_counter()
        centre = db.session.get(Centre, centre_id)
        import_learners(db.session, centre, data, actor=db.session.get(type(admin), admin_id))
        db.session.commit()
        seconds = time.perf_counter() - start
        db.session.remove()
        db.engine.dispose()
    return seconds


if __name__ == "__main__":
    for line in run():
        print(line, flush=True)
