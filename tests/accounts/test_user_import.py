"""Importing learners and their enrolments from a CSV file: the whole file is checked, every
problem is reported with its row and column, and nothing is imported unless every row is right;
the command exits 2 on any problem."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.accounts.history import EnrolmentAssignment
from portfolio.accounts.imports import (
    COLUMNS,
    MAX_ROWS,
    ImportRefused,
    import_learners,
    read_rows,
)
from portfolio.accounts.models import Enrolment, RoleGrant, User
from portfolio.accounts.services import UNUSABLE_PASSWORD
from portfolio.accounts.throttling import LoginRefused, check_password
from portfolio.catalogue import services as catalogue
from portfolio.core.audit import AuditEvent
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_user
from tests.helpers.queries import count_queries

HEADER = ",".join(COLUMNS)
DOMAIN = "north-college.ac.uk"  # the address check is a mail server's: no ".test" here


def line(n, *, email=None, qualification="600/1636/X", registration=None, start="2026-09-01",
         end="2027-08-31", assessor="assessor1@north.test", iqa="iqa1@north.test",
         name=None) -> str:
    return ",".join((email or f"learner{n}@{DOMAIN}", name or f"Learner {n}", qualification,
                     registration or f"IMP-{n:04d}", start, end, assessor, iqa))


def csv_file(*lines: str, bom=False) -> bytes:
    text = "\r\n".join((HEADER, *lines)) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


def refused(session, people, data) -> list[str]:
    with pytest.raises(ImportRefused) as caught:
        import_learners(session, people.centre, data, actor=people.admin)
    return [str(problem) for problem in caught.value.problems]


def enrolment_count(session) -> int:
    return session.scalar(sa.select(sa.func.count(Enrolment.id)))


def test_a_file_imports_learners_with_enrolments_and_one_event(session, people):
    data = csv_file(line(1), line(2, start="01/09/2026", end="31/08/2027",
                                  qualification="600/1257/2", iqa="iqa2@north.test"), bom=True)
    result = import_learners(session, people.centre, data, actor=people.admin)

    assert result.summary == "Imported 2 learners with their enrolments."
    learners = session.scalars(sa.select(User).where(User.email.like(f"%@{DOMAIN}"))
                               .order_by(User.email)).all()
    assert [u.name for u in learners] == ["Learner 1", "Learner 2"]
    assert sorted(result.new_user_ids) == [u.id for u in learners]
    for learner in learners:
        assert learner.holds("learner", people.centre.id)
        assert learner.password_hash == UNUSABLE_PASSWORD
    second = session.scalar(sa.select(Enrolment).where(Enrolment.learner_id == learners[1].id))
    assert (second.registration_number, second.start_date, second.planned_end_date) == (
        "IMP-0002", dt.date(2026, 9, 1), dt.date(2027, 8, 31))
    assert second.version.qualification_number == "600/1257/2"
    assert (second.assessor_id, second.iqa_id) == (people.assessor1.id, people.iqa2.id)
    holders = session.execute(sa.select(EnrolmentAssignment.role, EnrolmentAssignment.user_id)
                              .where(EnrolmentAssignment.enrolment_id == second.id)).all()
    assert sorted(holders) == [("assessor", people.assessor1.id), ("iqa", people.iqa2.id)]
    actions = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.centre_id == people.centre.id, AuditEvent.actor_id == people.admin.id)).all()
    assert actions.count("user.created") == 2 and actions.count("enrolment.created") == 2
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "users.imported"))
    assert event.data == {"learners": 2, "enrolments": 2}
    assert event.sentence == "imported 2 learners with 2 enrolments from a CSV file"


def test_an_imported_learner_has_no_password_that_works(session, people):
    import_learners(session, people.centre, csv_file(line(1)), actor=people.admin)
    for attempt in ("", UNUSABLE_PASSWORD, "!no password set", "correct horse battery"):
        with pytest.raises(LoginRefused):
            check_password(session, f"learner1@{DOMAIN}", attempt, "192.0.2.1")


def test_every_problem_is_reported_with_row_and_column_and_nothing_is_saved(session, people):
    people.iqa2.is_enabled = False
    make_user(session, people.centre, "both@north.test", "assessor", "iqa")
    make_user(session, people.centre, f"already@{DOMAIN}", "learner")
    make_user(session, people.other_centre, "staff@south-academy.ac.uk", "assessor")
    catalogue.find_version(session, "600/1257/2").operational_end = dt.date(2026, 6, 30)
    session.flush()
    before = (enrolment_count(session), session.scalar(sa.select(sa.func.count(User.id))),
              session.scalar(sa.select(sa.func.count(AuditEvent.id))))
    problems = refused(session, people, csv_file(
        line(1),                                                   # row 2: fine
        line(2, email="not-an-address"),
        line(3, qualification="999/9999/9"),
        line(4, qualification="600/1257/2"),                       # closed before the start
        line(5, start="2026-13-01", end="tomorrow"),
        line(6, start="2027-09-01", end="2026-09-01"),
        line(7, assessor="learner1@north.test", iqa="admin@north.test"),
        line(8, assessor="iqa2@north.test", iqa="iqa2@north.test"),  # deactivated
        line(9, assessor="both@north.test", iqa="both@north.test"),
        line(10, registration=people.enrolment1.registration_number),
        line(11, email=f"LEARNER1@{DOMAIN}"),
        line(12, registration="IMP-0001"),
        line(13, name="  "),
        line(14, email=f"already@{DOMAIN}"),
        line(15, email="staff@south-academy.ac.uk"),
        line(16) + ",extra",
    ))
    assert problems[0].startswith("row 3, column email: “not-an-address” is not an email "
                                  "address"), problems
    assert problems[1:] == [
        "row 4, column qualification: 999/9999/9 is not a qualification number in this "
        "centre's catalogue.",
        "row 5, column start: NCFE Level 2 NVQ Certificate in Contact Centre Operations closed to "
        "new registrations on 30 June 2026.",
        "row 6, column start: “2026-13-01” is not a date: write YYYY-MM-DD or DD/MM/YYYY.",
        "row 6, column planned_end: “tomorrow” is not a date: write YYYY-MM-DD or DD/MM/YYYY.",
        "row 7, column planned_end: The planned end date is before the start date.",
        "row 8, column assessor_email: learner1@north.test is not an active assessor in this "
        "centre.",
        "row 8, column iqa_email: admin@north.test is not an active internal quality assurer in "
        "this centre.",
        "row 9, column assessor_email: iqa2@north.test is not an active assessor in this centre.",
        "row 9, column iqa_email: iqa2@north.test is not an active internal quality assurer in "
        "this centre.",
        "row 10, column iqa_email: The IQA cannot be the learner's assessor: an IQA never "
        "samples their own assessment decisions.",
        "row 11, column registration_number: Registration number "
        f"{people.enrolment1.registration_number} is already in use.",
        f"row 12, column email: learner1@{DOMAIN} is also on row 2.",
        "row 13, column registration_number: IMP-0001 is also on row 2.",
        "row 14, column name: This cell is empty.",
        f"row 15, column email: There is already an account for already@{DOMAIN}.",
        "row 16, column email: staff@south-academy.ac.uk cannot be given those roles in this "
        "centre.",
        "row 17: It has 9 cells where the header has 8.",
    ]
    session.expire_all()
    assert (enrolment_count(session), session.scalar(sa.select(sa.func.count(User.id))),
            session.scalar(sa.select(sa.func.count(AuditEvent.id)))) == before


def test_a_learner_from_another_centre_is_enrolled_here_like_a_new_one(session, people):
    elsewhere = make_user(session, people.other_centre, "lee@south-academy.ac.uk", "learner")
    before = elsewhere.password_hash
    result = import_learners(session, people.centre, csv_file(
        line(1), line(2, email="Lee@South-Academy.ac.uk")), actor=people.admin)
    assert result.summary == "Imported 2 learners with their enrolments."
    session.expire_all()
    elsewhere = session.get(User, elsewhere.id)
    assert elsewhere.holds("learner", people.centre.id) and elsewhere.password_hash == before
    assert elsewhere.id not in result.new_user_ids  # no set-password link: they have one
    assert session.scalar(sa.select(Enrolment.centre_id).where(
        Enrolment.learner_id == elsewhere.id, Enrolment.registration_number == "IMP-0002")) \
        == people.centre.id


@pytest.mark.parametrize(("data", "expected"), [
    (b"", ["row 1: The file is empty: the first row names the columns " + ", ".join(COLUMNS)
           + "."]),
    ((HEADER.replace("planned_end", "end") + ",Email\n").encode(), [
        "row 1, column end: There is no column called “end”: the columns are "
        + ", ".join(COLUMNS) + ".",
        "row 1, column Email: There is no column called “Email”: the columns are "
        + ", ".join(COLUMNS) + ".",
        "row 1, column planned_end: This column is missing."]),
    ((HEADER + ",name\n").encode(), ["row 1, column name: This column is named twice."]),
    (csv_file(line(1)).replace(b"Learner 1", "Zoë".encode("cp1252")),
     ["row 2: The file is not UTF-8 text: save it from the spreadsheet as “CSV UTF-8 (Comma "
      "delimited)”."]),
    (csv_file(*(line(n) for n in range(MAX_ROWS + 1))),
     [f"The file has more than {MAX_ROWS:,} learners: split it into smaller files."]),
    (b"x" * (5 * 1024 * 1024 + 1), ["The file is larger than 5 MB: split it into smaller files."]),
])
def test_a_file_of_the_wrong_shape_is_refused_with_what_to_do(data, expected):
    with pytest.raises(ImportRefused) as caught:
        rows, problems = read_rows(data)
        raise ImportRefused(problems)
    assert [str(problem) for problem in caught.value.problems] == expected


def test_columns_in_any_order_and_blank_rows_are_read(session, people):
    order = list(reversed(COLUMNS))
    cells = dict(zip(COLUMNS, line(1).split(","), strict=True))
    data = (",".join(order) + "\n" + ",".join(cells[c] for c in order) + "\n,,,,,,,\n\n").encode()
    rows, problems = read_rows(data)
    assert problems == [] and [row.email for row in rows] == [f"learner1@{DOMAIN}"]


def test_the_command_imports_or_exits_2_with_every_problem(cli, session, people, tmp_path):
    session.commit()  # the command rolls back what it refuses: the fixtures stay
    path = tmp_path / "learners.csv"
    path.write_bytes(csv_file(line(1), line(2, qualification="nope")))
    bad = cli.invoke(args=["users", "import", "--centre", "North College", str(path)])
    assert bad.exit_code == 2
    assert bad.stderr.splitlines() == [
        "row 3, column qualification: nope is not a qualification number in this centre's "
        "catalogue.",
        "Error: Nothing was imported: 1 problem in this file."]

    path.write_bytes(csv_file(line(1), line(2)))
    dry = cli.invoke(args=["users", "import", "--centre", "North College", "--dry-run",
                           str(path)])
    assert dry.exit_code == 0, dry.output
    assert "ready to import 2 learners" in dry.stdout
    assert not session.scalar(sa.select(User.id).where(User.email.like(f"%@{DOMAIN}")))

    done = cli.invoke(args=["users", "import", "--centre", "North College", str(path)])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("Imported 2 learners with their enrolments.")
    assert session.scalar(sa.select(sa.func.count(RoleGrant.id)).join(RoleGrant.user).where(
        User.email.like(f"%@{DOMAIN}"), RoleGrant.centre_id == people.centre.id)) == 2

    unknown = cli.invoke(args=["users", "import", "--centre", "Nowhere", str(path)])
    assert (unknown.exit_code, unknown.stderr) == (2, "Error: There is no centre called "
                                                      "'Nowhere'.\n")


def test_the_statements_run_do_not_grow_with_the_file(session, people):
    """The look-ups are made for the whole file; PostgreSQL takes each table's rows in one
    INSERT (SQLAlchemy's batches), SQLite, in process, one at a time."""
    def statements(first: int, count: int) -> list[str]:
        data = csv_file(*(line(n) for n in range(first, first + count)))
        with count_queries() as run:
            import_learners(session, people.centre, data, actor=people.admin)
        return [s for s in run if on_postgres() or not s.lstrip().startswith("INSERT")]

    small, large = statements(0, 5), statements(100, 60)
    assert len(small) == len(large) and len(small) <= (12 if on_postgres() else 7)
