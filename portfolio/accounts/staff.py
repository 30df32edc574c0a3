"""Staff records: for each assessor and IQA, per qualification they may assess or quality-assure,
whether they are qualified or working towards it, since when, and the qualification they hold.

Append-only: a change adds a row, and the current record of a person, qualification and role is
the latest one. Quality assurance asks :func:`current_standing` what someone's standing was on
the day they made a decision."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from portfolio.accounts.events import staff_record_made
from portfolio.accounts.models import ROLE_LABELS, User
from portfolio.accounts.people import FieldRefused, require_manager
from portfolio.catalogue import services as catalogue
from portfolio.catalogue.models import Qualification, QualificationVersion
from portfolio.catalogue.spec import WorkingTowards
from portfolio.core.dates import long_date
from portfolio.core.db import Base, UTCDateTime, utcnow

STAFF_ROLES = ("assessor", "iqa")
STANDINGS = {"qualified": "Qualified", "working_towards": "Working towards"}


class StaffRecord(Base):
    """One statement of a person's standing in a role for one qualification, never changed:
    a later row for the same person, qualification and role supersedes it from the day it takes
    effect (:attr:`in_force_from`)."""

    __tablename__ = "staff_records"
    __table_args__ = (
        sa.CheckConstraint("role IN ('assessor', 'iqa')", name="known_role"),
        sa.CheckConstraint("status IN ('qualified', 'working_towards')", name="known_status"),
        sa.CheckConstraint("status = 'qualified' OR (held_qualification = '' AND "
                           "qualified_on IS NULL)", name="held_only_when_qualified"),
        sa.Index("ix_staff_records_user_qualification_role", "user_id", "qualification_id",
                 "role"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The assessor or IQA.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: The qualification (every version of it) they assess or quality-assure.
    qualification_id: Mapped[int] = mapped_column(sa.ForeignKey("qualifications.id"))
    #: ``assessor`` or ``iqa``.
    role: Mapped[str] = mapped_column(sa.String(20))
    #: ``qualified`` or ``working_towards``.
    status: Mapped[str] = mapped_column(sa.String(20))
    #: The day they started in the role for this qualification.
    started_on: Mapped[dt.date]
    #: The assessor or IQA qualification they hold, such as "TAQA" (empty when not given).
    held_qualification: Mapped[str] = mapped_column(sa.String(200), default="",
                                                    server_default="")
    #: When they achieved it, when given.
    qualified_on: Mapped[dt.date | None]
    #: Who recorded this row.
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    qualification: Mapped[Qualification] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])

    @property
    def in_force_from(self) -> dt.date:
        """The first day this row describes: the start in the role, or for someone qualified
        after starting, the day they qualified (before it they were working towards)."""
        if self.status == "qualified" and self.qualified_on and self.qualified_on > self.started_on:
            return self.qualified_on
        return self.started_on

    @property
    def standing_label(self) -> str:
        return STANDINGS[self.status]

    @property
    def short_role_label(self) -> str:
        return "Assessor" if self.role == "assessor" else "IQA"

    def __repr__(self) -> str:
        return (f"<StaffRecord user={self.user_id} qualification={self.qualification_id} "
                f"{self.role} {self.status} from {self.started_on}>")


@dataclass(frozen=True)
class Standing:
    qualification_id: int
    role: str
    status: str
    started_on: dt.date
    held_qualification: str = ""
    qualified_on: dt.date | None = None


def qualifications_for(session: Session, centre_id: int) -> list[Qualification]:
    """The qualifications a centre's staff records may name: those its catalogue shows."""
    return [version.qualification
            for version in catalogue.qualification_versions(session, centre_id)]


def record_standing(session: Session, person: User, new: Standing, actor: User,
                    today: dt.date | None = None) -> StaffRecord:
    """Append ``person``'s standing for a qualification and role, checked field by field."""
    require_manager(person, actor)
    today = today or dt.date.today()
    if new.role not in STAFF_ROLES:
        raise FieldRefused("role", "Choose assessor or IQA.")
    if new.status not in STANDINGS:
        raise FieldRefused("status", "Choose qualified or working towards.")
    qualification = next((q for q in qualifications_for(session, person.centre_id)
                          if q.id == new.qualification_id), None)
    if qualification is None:
        raise FieldRefused("qualification_id", "Choose a qualification from the catalogue.")
    label = ROLE_LABELS[new.role].lower()
    if not person.holds(new.role, person.centre_id):
        raise FieldRefused("role", f"{person.name} does not hold the {label} role here: give "
                                   f"them the role first.")
    if new.started_on > today:
        raise FieldRefused("started_on", "That date is still to come: record the start once "
                                         "it has happened.")
    held = new.held_qualification.strip()
    if new.status == "working_towards" and (held or new.qualified_on):
        field = "held_qualification" if held else "qualified_on"
        raise FieldRefused(field, "Only for someone qualified: leave it empty for someone "
                                  "working towards.")
    if new.qualified_on and new.qualified_on > today:
        raise FieldRefused("qualified_on", "That date is still to come.")
    current = _latest(session, person.id, new.qualification_id, new.role)
    if current is not None and (current.status, current.started_on, current.held_qualification,
                                current.qualified_on) == (new.status, new.started_on, held,
                                                          new.qualified_on):
        raise FieldRefused("status", "That is already their record: nothing changed.")
    record = StaffRecord(user_id=person.id, qualification_id=new.qualification_id,
                         role=new.role, status=new.status, started_on=new.started_on,
                         held_qualification=held, qualified_on=new.qualified_on,
                         recorded_by_id=actor.id)
    session.add(record)
    session.flush()
    staff_record_made.emit(
        session, actor=actor, centre_id=person.centre_id, subject=record, name=person.name,
        role=new.role, status=new.status, qualification=qualification.qualification_number,
        started_on=new.started_on.isoformat(), held_qualification=held,
        qualified_on=new.qualified_on and new.qualified_on.isoformat())
    return record


def _records(user_id: int, qualification_id: int, role: str) -> sa.Select:
    return sa.select(StaffRecord).where(
        StaffRecord.user_id == user_id, StaffRecord.qualification_id == qualification_id,
        StaffRecord.role == role).order_by(StaffRecord.id.desc())


def _latest(session: Session, user_id: int, qualification_id: int, role: str
            ) -> StaffRecord | None:
    return session.scalars(_records(user_id, qualification_id, role).limit(1)).first()


def current_standing(session: Session, user_id: int, qualification_id: int, role: str,
                     on: dt.date) -> StaffRecord | None:
    """The record in force on ``on``: of the rows already in force that day, the latest
    recorded; None before they started. A row recorded later but in force from a later day
    (qualifying) leaves earlier days to the rows before it."""
    return next((record for record in session.scalars(_records(user_id, qualification_id, role))
                 if record.in_force_from <= on), None)


def history_of(session: Session, user_id: int) -> list[StaffRecord]:
    """Every record of a person, latest first, with its qualification."""
    return list(session.scalars(
        sa.select(StaffRecord).where(StaffRecord.user_id == user_id)
        .options(selectinload(StaffRecord.qualification),
                 selectinload(StaffRecord.recorded_by))
        .order_by(StaffRecord.id.desc())))


def current_records(history: list[StaffRecord]) -> list[StaffRecord]:
    """The current record per qualification and role, from :func:`history_of`'s rows, by
    qualification number then role."""
    latest: dict[tuple[int, str], StaffRecord] = {}
    for record in history:
        latest.setdefault((record.qualification_id, record.role), record)
    return sorted(latest.values(), key=lambda record: (
        record.qualification.qualification_number, STAFF_ROLES.index(record.role)))


@dataclass(frozen=True)
class Authority:
    """What someone may do as an assessor or IQA on a qualification on a day, and why."""

    may_decide: bool
    needs_countersignature: bool
    reason: str


def authority(session: Session, user: User, version: QualificationVersion, role: str,
              on: dt.date) -> Authority:
    """Whether ``user`` may decide as ``role`` (``assessor`` or ``iqa``) on ``version`` on the day
    ``on``, and whether their decisions need a qualified colleague's countersignature.

    It reads the staff record in force that day (:func:`current_standing`) and what the version's
    document says of staff working towards their qualification (its ``working_towards``).
    Qualified: full authority. Working towards: they may decide, countersigned where the document
    asks, until the months it allows from their start in the role have passed; after that day they
    may not decide, and the reason says so. Someone with no staff record in force that day, like
    every assessor of a centre that has not recorded its staff's standings, keeps full authority:
    such centres keep working as before, and the rule starts to apply once their records exist.
    """
    label = "an assessor" if role == "assessor" else "an IQA"
    qualification = version.qualification_number
    record = current_standing(session, user.id, version.qualification_id, role, on)
    if record is None:
        return Authority(True, False, f"No staff record as {label} for {qualification}: "
                                      f"decisions count as made.")
    if record.status == "qualified":
        return Authority(True, False, f"Qualified as {label} for {qualification}.")
    rule = WorkingTowards.from_document(version.working_towards)
    if rule is None:
        return Authority(True, False, f"Working towards qualifying as {label}: the "
                                      f"specification of {qualification} sets no condition.")
    if rule.within_months is not None:
        deadline = add_months(record.started_on, rule.within_months)
        if on > deadline:
            return Authority(False, False, (
                f"Your {rule.within_months} months to qualify as {label} for {qualification} "
                f"ended on {long_date(deadline)}: a qualified {role_word(role)} must decide, or "
                f"record your qualification first."))
        until = f" until {long_date(deadline)}"
    else:
        until = ""
    if rule.countersigned:
        return Authority(True, True, (
            f"Working towards qualifying as {label} for {qualification}{until}: your decisions "
            f"count once a qualified {role_word(role)} countersigns them."))
    return Authority(True, False, f"Working towards qualifying as {label} for "
                                  f"{qualification}{until}.")


def role_word(role: str) -> str:
    return "assessor" if role == "assessor" else "IQA"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day where it is shorter (31 August
    and six months is the end of February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
