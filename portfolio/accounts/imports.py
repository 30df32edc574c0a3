"""Bulk import of learners and their enrolments from a CSV file, as centres export them from
their management information system (MIS).

The whole file is checked before anything is written, and every problem is reported with its
row (the header is row 1, as a spreadsheet numbers them) and column; nothing is imported unless
every row is right. The checks are those of ``create_user`` (an account in another centre is
given the learner role here, and the answer does not say so), ``grant_role`` and ``enrol``, with
their messages, made for the whole file in a handful of queries (``tests/accounts/
test_user_import_rules.py`` holds the two to the same answers); the rows are then written in
batches, each with the events those services emit.

New learners get no usable password (hashing thousands of random passwords with Argon2 would
take minutes and serve nobody); when mail is set up, each is mailed a set-your-password link in
the import's transaction, a few statements for the whole file. ``ImportResult.new_user_ids`` names
them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session, selectinload

from portfolio.accounts import invitations
from portfolio.accounts.events import enrolment_created, user_created, users_imported
from portfolio.accounts.models import Centre, Enrolment, RoleGrant, User
from portfolio.accounts.services import (
    UNUSABLE_PASSWORD,
    AccountError,
    centre_staff,
    first_holders,
    normalise_email,
)
from portfolio.catalogue.models import QualificationVersion
from portfolio.catalogue.services import qualification_versions
from portfolio.core.db import utcnow

COLUMNS = ("email", "name", "qualification", "registration_number", "start", "planned_end",
           "assessor_email", "iqa_email")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
#: The longest value each column's database field takes.
MAX_LENGTHS = {"email": 254, "name": 200, "registration_number": 40, "assessor_email": 254,
               "iqa_email": 254}
#: ISO dates, and the day-first form UK MIS exports and spreadsheets write.
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: ``row`` as a spreadsheet numbers it (None: the whole file)
    and ``column`` by its header name (None: the whole row)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(part for part in (
            f"row {self.row}" if self.row is not None else "",
            f"column {self.column}" if self.column is not None else "") if part)
        return f"{where}: {self.message}" if where else self.message


class ImportRefused(AccountError):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = len(problems)
        super().__init__(f"Nothing was imported: {count} problem{'s' if count != 1 else ''} "
                         f"in this file.")


@dataclass(frozen=True)
class Row:
    """One learner's row, its cells trimmed and parsed."""

    number: int
    email: str
    name: str
    qualification: str
    registration_number: str
    start: dt.date
    planned_end: dt.date
    assessor_email: str
    iqa_email: str


@dataclass(frozen=True)
class PlannedRow:
    """A checked row with what it names in the database."""

    row: Row
    version: QualificationVersion
    assessor: User
    iqa: User
    #: The account of a person from another centre, who is given the learner role here
    #: (never shown: see ``create_user``); None for a new account.
    existing: User | None


@dataclass(frozen=True)
class ImportResult:
    rows: list[PlannedRow]
    #: The accounts created (not those from another centre, who keep their own password).
    new_user_ids: list[int]

    @property
    def summary(self) -> str:
        count = len(self.rows)
        return f"Imported {count} learner{'s' if count != 1 else ''} with their enrolments."


def read_rows(data: bytes) -> tuple[list[Row], list[Problem]]:
    """The rows of a CSV file (UTF-8, with or without Excel's byte order mark) that are well
    formed, and the problems of the others; :class:`ImportRefused` for a file that cannot be
    read at all."""
    if len(data) > MAX_BYTES:
        raise ImportRefused([Problem(None, None, f"The file is larger than "
                                     f"{MAX_BYTES // (1024 * 1024)} MB: split it into smaller files.")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[:error.start].count(b"\n") + 1
        raise ImportRefused([Problem(row, None, "The file is not UTF-8 text: save it from the "
                                     "spreadsheet as “CSV UTF-8 (Comma delimited)”.")]) from None
    records = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(records, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportRefused([Problem(1, None, "The file is empty: the first row names the "
                                         f"columns {', '.join(COLUMNS)}.")])
        positions, problems = _read_header(header)
        header_read = not problems
        rows: list[Row] = []
        for number, cells in enumerate(records, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # spreadsheets leave blank rows at the end
            if number - 1 > MAX_ROWS:
                problems.append(Problem(None, None, f"The file has more than {MAX_ROWS:,} "
                                        "learners: split it into smaller files."))
                break
            if len(cells) != len(header):
                problems.append(Problem(number, None, f"It has {len(cells)} cells where the "
                                        f"header has {len(header)}."))
                continue
            if header_read:  # under a wrong header every cell would be a guess
                row = _read_row(number, {c: cells[i].strip() for c, i in positions.items()},
                                problems)
                if row is not None:
                    rows.append(row)
    except csv.Error as error:
        raise ImportRefused([Problem(records.line_num, None,
                                     f"This is not a CSV file the import can read ({error}).")]
                            ) from None
    return rows, problems + _duplicates(rows)


def _read_header(header: list[str]) -> tuple[dict[str, int], list[Problem]]:
    positions: dict[str, int] = {}
    problems = []
    for index, name in enumerate(header):
        if name not in COLUMNS:
            problems.append(Problem(1, name, f"There is no column called “{name}”: the columns "
                                    f"are {', '.join(COLUMNS)}."))
        elif name in positions:
            problems.append(Problem(1, name, "This column is named twice."))
        else:
            positions[name] = index
    problems += [Problem(1, name, "This column is missing.")
                 for name in COLUMNS if name not in positions]
    return positions, problems


def _read_row(number: int, cells: dict[str, str], problems: list[Problem]) -> Row | None:
    """The row, or None after adding its problems."""
    found = len(problems)

    def problem(column: str, message: str) -> None:
        problems.append(Problem(number, column, message))

    for column in COLUMNS:
        if not cells[column]:
            problem(column, "This cell is empty.")
        elif len(cells[column]) > MAX_LENGTHS.get(column, 200):
            problem(column, f"This is longer than {MAX_LENGTHS.get(column, 200)} characters.")
    # Staff are only looked up: an address that is none of theirs is reported as that.
    email = cells["email"]
    if email and len(email) <= MAX_LENGTHS["email"] and (message := _email_problem(email)):
        problem("email", message)
    dates = {}
    for column in ("start", "planned_end"):
        if cells[column]:
            dates[column] = _parse_date(cells[column])
            if dates[column] is None:
                problem(column, f"“{cells[column]}” is not a date: write YYYY-MM-DD or DD/MM/YYYY.")
    if len(problems) > found:
        return None
    return Row(number=number, email=normalise_email(cells["email"]), name=cells["name"],
               qualification=cells["qualification"],
               registration_number=cells["registration_number"], start=dates["start"],
               planned_end=dates["planned_end"],
               assessor_email=normalise_email(cells["assessor_email"]),
               iqa_email=normalise_email(cells["iqa_email"]))


def _email_problem(email: str) -> str | None:
    """Why ``email`` is not an address, checked as the admin's form checks one."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        return f"“{email}” is not an email address: {error}"
    return None


def _parse_date(text: str) -> dt.date | None:
    for form in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            pass
    return None


def _duplicates(rows: list[Row]) -> list[Problem]:
    """A learner or a registration number on two rows: the second is reported, naming the
    first."""
    problems = []
    for column in ("email", "registration_number"):
        first: dict[str, int] = {}
        for row in rows:
            value = getattr(row, column)  # emails are lower-case by now
            if value in first:
                problems.append(Problem(row.number, column,
                                        f"{value} is also on row {first[value]}."))
            else:
                first[value] = row.number
    return problems


def check_rows(session: Session, centre: Centre,
               rows: list[Row]) -> tuple[list[PlannedRow], list[Problem]]:
    """The rows with what they name, and the problems of the others: each row checked against
    the database in a few queries for the whole file, with the messages ``create_user`` and
    ``enrol`` would give, placed on their column."""
    versions = {v.qualification_number: v for v in qualification_versions(session, centre.id)}
    assessors = {u.email: u for u in centre_staff(session, centre.id, "assessor")}
    iqas = {u.email: u for u in centre_staff(session, centre.id, "iqa")}
    existing = {u.email: u for u in _in_chunks(session, [r.email for r in rows], lambda chunk: (
        sa.select(User).where(User.email.in_(chunk)).options(selectinload(User.grants))))}
    used = set(_in_chunks(session, [r.registration_number for r in rows], lambda chunk: (
        sa.select(Enrolment.registration_number).where(
            Enrolment.centre_id == centre.id, Enrolment.registration_number.in_(chunk)))))
    enrolled = set(session.execute(sa.select(Enrolment.learner_id, Enrolment.qualification_id)
                                   .where(Enrolment.learner_id.in_([u.id for u in existing.values()]),
                                          Enrolment.ended_at.is_(None))).tuples())
    now = utcnow()
    problems: list[Problem] = []
    planned = []
    for row in rows:
        found = len(problems)

        def problem(column: str, message: str, row=row) -> None:
            problems.append(Problem(row.number, column, message))

        if (user := existing.get(row.email)) is not None:
            if user.centre_id == centre.id or any(g.centre_id == centre.id for g in user.grants):
                problem("email", f"There is already an account for {row.email}.")
            elif any(g.role != "learner" and g.is_active_at(now) for g in user.grants):
                # As create_user answers: nothing about the other centre.
                problem("email", f"{row.email} cannot be given those roles in this centre.")
        version = versions.get(row.qualification)
        if version is None:
            problem("qualification", f"{row.qualification} is not a qualification number in "
                                     "this centre's catalogue.")
        # Judged on the day the learner started, as ``enrol(today=...)``: a centre moving its
        # learners from its MIS registered them then.
        elif not version.is_open_for_registration(row.start):
            problem("start", f"{version.title} closed to new registrations on "
                             f"{version.operational_end:%d %B %Y}.")
        elif user is not None and (user.id, version.qualification_id) in enrolled:
            problem("qualification", f"{row.email} is already enrolled on {version.title}.")
        if row.planned_end < row.start:
            problem("planned_end", "The planned end date is before the start date.")
        if row.registration_number in used:
            problem("registration_number",
                    f"Registration number {row.registration_number} is already in use.")
        assessor, iqa = assessors.get(row.assessor_email), iqas.get(row.iqa_email)
        if assessor is None:
            problem("assessor_email", f"{row.assessor_email} is not an active assessor in "
                                      "this centre.")
        if iqa is None:
            problem("iqa_email", f"{row.iqa_email} is not an active internal quality assurer "
                                 "in this centre.")
        elif iqa is assessor:
            problem("iqa_email", "The IQA cannot be the learner's assessor: an IQA never "
                                 "samples their own assessment decisions.")
        if len(problems) == found:
            planned.append(PlannedRow(row, version, assessor, iqa, existing=user))
    return planned, problems


def plan_import(session: Session, centre: Centre, data: bytes) -> list[PlannedRow]:
    """What the CSV file ``data`` would import, or :class:`ImportRefused` with every problem of
    the file, in the order of its rows and columns."""
    rows, problems = read_rows(data)
    planned, more = check_rows(session, centre, rows)
    if problems or more:
        order = {column: index for index, column in enumerate(COLUMNS)}
        raise ImportRefused(sorted(problems + more, key=lambda p: (
            p.row or 0, order.get(p.column, len(COLUMNS)))))
    return planned


def _in_chunks(session: Session, values: list, query, size: int = 1000) -> Iterable:
    """The results of ``query(chunk)`` over ``values`` a chunk at a time: a few thousand bound
    parameters in one statement is more than some databases take."""
    for start in range(0, len(values), size):
        yield from session.scalars(query(values[start:start + size]))


def import_learners(session: Session, centre: Centre, data: bytes,
                    actor: User | None) -> ImportResult:
    """Create every learner of the CSV file ``data`` in ``centre`` with their enrolment, or
    nothing (:class:`ImportRefused` with every problem). Flushes; the caller commits, or rolls
    back for a dry run.

    The rows were checked by :func:`check_rows`, so the rows are written together: one flush
    inserts them a batch at a time, where ``create_user`` and ``enrol`` would take nine round
    trips a row (a minute for a large centre). Each learner and enrolment still emits the event
    those services emit, so the audit trail reads the same."""
    planned = plan_import(session, centre, data)
    now = utcnow()
    created = []
    for entry in planned:
        row = entry.row
        learner = entry.existing
        if learner is None:
            learner = User(centre_id=centre.id, email=row.email, name=row.name,
                           password_hash=UNUSABLE_PASSWORD, grants=[])
            session.add(learner)
        learner.grants.append(RoleGrant(centre_id=centre.id, role="learner", granted_at=now,
                                        granted_by_id=actor.id if actor else None))
        enrolment = Enrolment(
            centre_id=centre.id, learner=learner, version_id=entry.version.id,
            qualification_id=entry.version.qualification_id,
            registration_number=row.registration_number, start_date=row.start,
            planned_end_date=row.planned_end, assessor_id=entry.assessor.id,
            iqa_id=entry.iqa.id)
        session.add(enrolment)
        created.append((entry, learner, enrolment))
    session.flush()
    session.add_all(holder for _, _, enrolment in created
                    for holder in first_holders(enrolment, actor))
    for entry, learner, enrolment in created:
        version = entry.version
        user_created.emit(session, actor=actor, centre_id=centre.id, subject=learner,
                          email=learner.email, roles=["learner"])
        enrolment_created.emit(
            session, actor=actor, centre_id=centre.id, learner_id=learner.id, subject=enrolment,
            qualification=version.qualification_number, version=version.version,
            registration_number=enrolment.registration_number, assessor_id=entry.assessor.id,
            iqa_id=entry.iqa.id)
    users_imported.emit(session, actor=actor, centre_id=centre.id, learners=len(planned),
                        enrolments=len(planned))
    new_learners = [learner for entry, learner, _ in created if entry.existing is None]
    if invitations.mail_is_configured():
        invitations.send_links(session, new_learners, "set", actor=actor)
        for entry, learner, _ in created:
            if entry.existing is not None:
                invitations.added_elsewhere_mail(session, learner, centre)
    session.flush()
    return ImportResult(planned, [learner.id for learner in new_learners])
