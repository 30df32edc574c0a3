"""An enrolment's life after it is made: editing its details, moving it to another assessor or
IQA, breaks in learning, withdrawal and completion. Each change is made by an admin of the
learner's centre under the enrolment lock, flushes and emits its event; the caller commits.
Nothing is deleted: holders and breaks are kept as rows, and an ended enrolment stays as the
read-only record of what the learner did (``accounts.services.lock_enrolment`` refuses every
later change to it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from portfolio.accounts.events import (
    enrolment_break_ended,
    enrolment_break_recorded,
    enrolment_completed,
    enrolment_edited,
    enrolment_moved,
    enrolment_withdrawn,
)
from portfolio.accounts.history import EnrolmentAssignment, EnrolmentBreak
from portfolio.accounts.hooks import completion_checks
from portfolio.accounts.models import (
    ROLE_LABELS,
    Enrolment,
    User,
)
from portfolio.accounts.permissions import is_centre_admin
from portfolio.accounts.services import (
    IQA_IS_ASSESSOR,
    AccountError,
    centre_member,
    check_enrolment_details,
    lock_enrolment,
)
from portfolio.core.db import utcnow


def _begin(session: Session, enrolment: Enrolment, actor: User) -> None:
    """Every change: by an admin of the learner's centre, under the lock, while open."""
    if not is_centre_admin(actor, enrolment.centre_id):
        raise AccountError("Only an admin of the learner's centre can change an enrolment.")
    lock_enrolment(session, enrolment)
    session.refresh(enrolment)


def _emit(event, session: Session, enrolment: Enrolment, actor: User, subject=None, **data):
    event.emit(session, actor=actor, centre_id=enrolment.centre_id,
               learner_id=enrolment.learner_id, subject=subject or enrolment, **data)


@dataclass(frozen=True)
class EnrolmentDetails:
    registration_number: str
    start_date: dt.date
    planned_end_date: dt.date


def edit_enrolment(session: Session, enrolment: Enrolment, details: EnrolmentDetails,
                   actor: User) -> None:
    """Correct the registration number and dates, checked as a new enrolment's are."""
    _begin(session, enrolment, actor)
    registration = check_enrolment_details(
        session, enrolment.centre_id, details.registration_number, details.start_date,
        details.planned_end_date, enrolment_id=enrolment.id)
    before = _details(enrolment)
    enrolment.registration_number = registration
    enrolment.start_date, enrolment.planned_end_date = details.start_date, details.planned_end_date
    after = _details(enrolment)
    if after == before:
        raise AccountError("Nothing changed: the details are the ones the enrolment has.")
    session.flush()
    _emit(enrolment_edited, session, enrolment, actor, before=before, **after)


def _details(enrolment: Enrolment) -> dict[str, str]:
    return {"registration_number": enrolment.registration_number,
            "start_date": enrolment.start_date.isoformat(),
            "planned_end_date": enrolment.planned_end_date.isoformat()}


def move_enrolment(session: Session, enrolment: Enrolment, actor: User, *, assessor_id: int,
                   iqa_id: int) -> None:
    """Give the enrolment to a new assessor and/or IQA (enabled staff of the learner's centre
    holding the role; the IQA never the assessor). The outgoing holder's assignment is closed
    and the incoming one's opened, so who held it when stays on record."""
    _begin(session, enrolment, actor)
    changes = {role: (getattr(enrolment, f"{role}_id"), new)
               for role, new in (("assessor", assessor_id), ("iqa", iqa_id))
               if getattr(enrolment, f"{role}_id") != new}
    if not changes:
        raise AccountError("Nothing to move: choose a different assessor or IQA.")
    for role, (_, new) in changes.items():
        centre_member(session, enrolment.centre_id, new, role)
    if assessor_id == iqa_id:
        raise AccountError(IQA_IS_ASSESSOR)
    now = utcnow()
    for role, (_, new) in changes.items():
        # Every open enrolment has one open assignment per role (made by ``enrol``, or the
        # migration for older ones), which the move closes.
        session.execute(sa.update(EnrolmentAssignment).where(
            EnrolmentAssignment.enrolment_id == enrolment.id, EnrolmentAssignment.role == role,
            EnrolmentAssignment.to_at.is_(None)).values(to_at=now)
            .execution_options(synchronize_session="fetch"))
        session.add(EnrolmentAssignment(enrolment_id=enrolment.id, role=role, user_id=new,
                                        from_at=now, assigned_by_id=actor.id))
        setattr(enrolment, f"{role}_id", new)
    session.flush()
    session.expire(enrolment, ["assessor", "iqa"])
    names = dict(session.execute(sa.select(User.id, User.name).where(
        User.id.in_([person for pair in changes.values() for person in pair]))).all())
    _emit(enrolment_moved, session, enrolment, actor,
          moved="; ".join(f"{ROLE_LABELS[role].lower()} {names[old]} to {names[new]}"
                          for role, (old, new) in changes.items()),
          **{f"{age}_{role}_id": pair[index] for role, pair in changes.items()
             for index, age in enumerate(("old", "new"))})


def record_break(session: Session, enrolment: Enrolment, actor: User, *, starts_on: dt.date,
                 ends_on: dt.date | None, reason: str,
                 planned_end_date: dt.date | None = None) -> EnrolmentBreak:
    """A break in learning from ``starts_on`` (to ``ends_on`` when known), optionally extending
    the planned end to make up for it. Breaks never overlap, so "on a break" has one answer."""
    _begin(session, enrolment, actor)
    reason = reason.strip()
    if not reason:
        raise AccountError("Say why the learner is taking a break.")
    if starts_on < enrolment.start_date:
        raise AccountError(f"The break starts before the enrolment did "
                           f"({enrolment.start_date:%d %B %Y}).")
    if ends_on is not None and ends_on < starts_on:
        raise AccountError("The break ends before it starts.")
    for other in breaks_of(session, enrolment):
        if (other.ends_on is None or other.ends_on >= starts_on) and (
                ends_on is None or ends_on >= other.starts_on):
            raise AccountError(f"That overlaps the break from {other.starts_on:%d %B %Y}: "
                               "end it first, or choose other days.")
    if planned_end_date is not None:
        if planned_end_date < enrolment.planned_end_date:
            raise AccountError("A break can extend the planned end date, not bring it forward.")
        enrolment.planned_end_date = planned_end_date
    pause = EnrolmentBreak(enrolment_id=enrolment.id, starts_on=starts_on, ends_on=ends_on,
                           reason=reason, recorded_by_id=actor.id)
    session.add(pause)
    session.flush()
    _emit(enrolment_break_recorded, session, enrolment, actor, subject=pause,
          starts_on=starts_on.isoformat(), ends_on=ends_on and ends_on.isoformat(), reason=reason,
          planned_end_date=enrolment.planned_end_date.isoformat())
    return pause


def end_break(session: Session, pause: EnrolmentBreak, actor: User, ends_on: dt.date) -> None:
    """Record the learner's return from a break whose end was not known."""
    enrolment = session.get(Enrolment, pause.enrolment_id)
    _begin(session, enrolment, actor)
    session.refresh(pause)
    if pause.ends_on is not None:
        raise AccountError(f"That break already ended on {pause.ends_on:%d %B %Y}.")
    if ends_on < pause.starts_on:
        raise AccountError("The break ends before it starts.")
    pause.ends_on = ends_on
    session.flush()
    _emit(enrolment_break_ended, session, enrolment, actor, subject=pause,
          ends_on=ends_on.isoformat())


def withdraw_enrolment(session: Session, enrolment: Enrolment, actor: User, *, on: dt.date,
                       reason: str, today: dt.date | None = None) -> None:
    """The learner left: the enrolment ends, read-only, whatever awaits a decision (their work
    stays as it stands)."""
    _begin(session, enrolment, actor)
    reason = reason.strip()
    if not reason:
        raise AccountError("Give the reason the learner is withdrawing.")
    _end(session, enrolment, "withdrawn", on, reason, today)
    _emit(enrolment_withdrawn, session, enrolment, actor, ended_on=on.isoformat(), reason=reason)


def complete_enrolment(session: Session, enrolment: Enrolment, actor: User, *, on: dt.date,
                       today: dt.date | None = None) -> None:
    """The learner finished. Refused while the features above have work outstanding (evidence
    awaiting a decision, see ``completion_checks``): completing would leave it unjudged for good,
    as an ended record takes no decisions. Withdrawal is the way to end with work outstanding."""
    _begin(session, enrolment, actor)
    completion_checks(session, enrolment)
    _end(session, enrolment, "completed", on, "", today)
    _emit(enrolment_completed, session, enrolment, actor, ended_on=on.isoformat())


def _end(session: Session, enrolment: Enrolment, status: str, on: dt.date, reason: str,
         today: dt.date | None) -> None:
    if on < enrolment.start_date:
        raise AccountError(f"That is before the enrolment started "
                           f"({enrolment.start_date:%d %B %Y}).")
    if on > (today or dt.date.today()):
        raise AccountError("That date is still to come: record the end once it has happened.")
    enrolment.status, enrolment.ended_on, enrolment.ended_reason = status, on, reason
    enrolment.ended_at = utcnow()
    now = enrolment.ended_at
    # The holders' assignments end with the enrolment: history shows until when they held it.
    session.execute(sa.update(EnrolmentAssignment).where(
        EnrolmentAssignment.enrolment_id == enrolment.id, EnrolmentAssignment.to_at.is_(None))
        .values(to_at=now).execution_options(synchronize_session="fetch"))
    session.flush()


def breaks_of(session: Session, enrolment: Enrolment) -> list[EnrolmentBreak]:
    return list(session.scalars(sa.select(EnrolmentBreak).where(
        EnrolmentBreak.enrolment_id == enrolment.id).order_by(EnrolmentBreak.starts_on)))


def current_break(breaks: list[EnrolmentBreak], today: dt.date | None = None
                  ) -> EnrolmentBreak | None:
    """The break the learner is on today, if any."""
    today = today or dt.date.today()
    return next((pause for pause in breaks if pause.is_open_on(today)), None)


def holders_of(session: Session, enrolment: Enrolment) -> list[EnrolmentAssignment]:
    """Who held the enrolment as assessor or IQA, earliest first."""
    return list(session.scalars(sa.select(EnrolmentAssignment).where(
        EnrolmentAssignment.enrolment_id == enrolment.id)
        .order_by(EnrolmentAssignment.from_at, EnrolmentAssignment.id)))


def needing_holders(session: Session, centre_id: int) -> list[Enrolment]:
    """Open enrolments of the centre whose assessor or IQA can no longer hold them (deactivated,
    or no longer holding the role): the admin's list for reassignment."""
    assessor, iqa = aliased(User), aliased(User)
    return list(session.scalars(
        sa.select(Enrolment).join(assessor, Enrolment.assessor_id == assessor.id)
        .join(iqa, Enrolment.iqa_id == iqa.id)
        .where(Enrolment.centre_id == centre_id, Enrolment.ended_at.is_(None),
               sa.or_(~assessor.is_enabled, ~iqa.is_enabled,
                      ~assessor.holding("assessor", centre_id), ~iqa.holding("iqa", centre_id)))
        .order_by(Enrolment.created_at)))
