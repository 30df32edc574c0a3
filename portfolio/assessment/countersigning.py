"""Countersignature: where a qualification's document asks for it, the decisions and sign-offs of
an assessor working towards their assessor qualification are provisional until a qualified
assessor of the centre countersigns them; from then on they count (:mod:`.progress` reads
:func:`~portfolio.assessment.criterion_states.awaiting_countersignature`). Past the time the document
allows to qualify, the assessor may not decide at all.

A record is countersigned at most once: the service refuses a second countersignature, and the
unique indexes on ``countersignatures`` refuse the same race between the check and the commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.services import lock_enrolment
from portfolio.accounts.staff import StaffRecord, authority, current_standing
from portfolio.assessment.criterion_states import awaiting_countersignature, not_superseded
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.events import decision_countersigned, sign_off_countersigned
from portfolio.assessment.models import Countersignature, Decision, UnitSignOff, UnitUnlock
from portfolio.catalogue.models import QualificationVersion
from portfolio.catalogue.tree import version_tree
from portfolio.core.dates import LONDON
from portfolio.core.db import utcnow

NOTHING_CHOSEN = "Choose at least one decision or sign-off to countersign."


def london_today() -> dt.date:
    return utcnow().astimezone(LONDON).date()


def assessor_authority(session: Session, assessor: User, enrolment: Enrolment) -> bool:
    """Refuse, with the reason, an assessor who may not decide on the enrolment's qualification
    today; otherwise answer whether what they record needs countersignature."""
    version = session.get(QualificationVersion, enrolment.version_id)
    found = authority(session, assessor, version, "assessor", london_today())
    if not found.may_decide:
        raise AssessmentError(found.reason)
    return found.needs_countersignature


def qualified_for(session: Session, user: User, on: dt.date, role: str = "assessor") -> set[int]:
    """The qualifications on which ``user``'s staff record in force on ``on`` says qualified in
    ``role`` (one look-up per qualification they have records for: a handful)."""
    qualification_ids = session.scalars(
        sa.select(StaffRecord.qualification_id).distinct()
        .where(StaffRecord.user_id == user.id, StaffRecord.role == role))
    return {qualification_id for qualification_id in list(qualification_ids)
            if (record := current_standing(session, user.id, qualification_id, role, on))
            is not None and record.status == "qualified"}


@dataclass(frozen=True)
class AwaitingRecord:
    """A decision or a sign-off awaiting countersignature, as the countersigning page lists it."""

    enrolment: Enrolment
    decision: Decision | None = None
    sign_off: UnitSignOff | None = None

    @property
    def record(self) -> Decision | UnitSignOff:
        return self.decision or self.sign_off

    @property
    def maker(self) -> User:
        return self.record.assessor

    @property
    def made_at(self) -> dt.datetime:
        return self.decision.decided_at if self.decision else self.sign_off.signed_at

    @property
    def what(self) -> str:
        """``unit 301 criterion 2.3`` or ``unit 301``."""
        tree = version_tree_of(self.enrolment)
        if self.decision is not None:
            return tree.label(self.decision.criterion_id)
        return f"unit {tree.units_by_id[self.sign_off.unit_id].number}"


def version_tree_of(enrolment: Enrolment):
    return version_tree(sa.inspect(enrolment).session, enrolment.version_id)


def awaiting_for(session: Session, user: User) -> tuple[list[AwaitingRecord],
                                                         list[AwaitingRecord]]:
    """The current decisions and sign-offs of ``user``'s centre awaiting countersignature on the
    qualifications they are a qualified assessor for today, never their own, oldest first; in a
    fixed number of queries."""
    qualifications = qualified_for(session, user, london_today())
    if not qualifications or not user.holds("assessor", user.centre_id):
        return [], []

    def in_scope(select: sa.Select, record) -> sa.Select:
        return (select.join(Enrolment, Enrolment.id == record.enrolment_id)
                .where(Enrolment.centre_id == user.centre_id, Enrolment.ended_at.is_(None),
                       Enrolment.qualification_id.in_(qualifications),
                       record.assessor_id != user.id, awaiting_countersignature(record))
                .options(joinedload(record.assessor), joinedload(Enrolment.learner)))

    decisions = session.execute(in_scope(
        sa.select(Decision, Enrolment).where(not_superseded()), Decision)
        .options(joinedload(Decision.item)).order_by(Decision.decided_at, Decision.id))
    sign_offs = session.execute(in_scope(
        sa.select(UnitSignOff, Enrolment)
        .outerjoin(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
        .where(UnitUnlock.id.is_(None)), UnitSignOff)
        .order_by(UnitSignOff.signed_at, UnitSignOff.id))
    return ([AwaitingRecord(enrolment, decision=decision) for decision, enrolment in decisions],
            [AwaitingRecord(enrolment, sign_off=sign_off) for sign_off, enrolment in sign_offs])


def countersign(session: Session, countersigner: User, decisions: Sequence[Decision] = (),
                sign_offs: Sequence[UnitSignOff] = ()) -> list[Countersignature]:
    """Countersign decisions and sign-offs, all or none: each must await countersignature, be
    current, be someone else's, and be on a qualification ``countersigner`` is a qualified
    assessor for today. Raises :class:`AssessmentError` naming every refusal."""
    if not decisions and not sign_offs:
        raise AssessmentError(NOTHING_CHOSEN)
    qualifications = qualified_for(session, countersigner, london_today())
    enrolments = {record.enrolment_id: session.get(Enrolment, record.enrolment_id)
                  for record in (*decisions, *sign_offs)}
    for enrolment in sorted(enrolments.values(), key=lambda e: e.id):  # one order: no deadlock
        lock_enrolment(session, enrolment)
    records = [*decisions, *sign_offs]
    for record in records:
        session.refresh(record)
    problems = [problem for record in records
                if (problem := _problem(session, countersigner, record,
                                        enrolments[record.enrolment_id], qualifications))]
    if problems:
        raise AssessmentError(" ".join(problems))
    made = [Countersignature(decision_id=record.id, by_id=countersigner.id)
            if isinstance(record, Decision)
            else Countersignature(sign_off_id=record.id, by_id=countersigner.id)
            for record in records]
    session.add_all(made)
    session.flush()
    for record, signature in zip(records, made, strict=True):
        enrolment = enrolments[record.enrolment_id]
        what = AwaitingRecord(enrolment, **{_kind(record): record}).what
        event = decision_countersigned if isinstance(record, Decision) else sign_off_countersigned
        event.emit(session, actor=countersigner, centre_id=enrolment.centre_id,
                   learner_id=enrolment.learner_id, subject=signature, what=what,
                   record_id=record.id, maker_id=record.assessor_id)
    return made


def _kind(record: Decision | UnitSignOff) -> str:
    return "decision" if isinstance(record, Decision) else "sign_off"


def _problem(session: Session, countersigner: User, record: Decision | UnitSignOff,
             enrolment: Enrolment, qualifications: set[int]) -> str | None:
    """Why ``countersigner`` may not countersign ``record``, or None."""
    label = AwaitingRecord(enrolment, **{_kind(record): record}).what
    what = (f"The decision on {label}" if isinstance(record, Decision)
            else f"The sign-off of {label}")
    if not record.needs_countersignature:
        return f"{what} needs no countersignature."
    existing = session.scalar(sa.select(Countersignature).where(
        (Countersignature.decision_id if isinstance(record, Decision)
         else Countersignature.sign_off_id) == record.id))
    if existing is not None:
        return f"{what} is already countersigned, by {existing.by.name}."
    if record.assessor_id == countersigner.id:
        return f"{what} is your own: a qualified colleague must countersign it."
    if enrolment.qualification_id not in qualifications:
        qualification = session.get(QualificationVersion, enrolment.version_id)
        return (f"Only an assessor your centre records as qualified for "
                f"{qualification.qualification_number} may countersign {what[0].lower()}"
                f"{what[1:]}.")
    if not _is_current(session, record):
        return f"{what} has been replaced since: there is nothing to countersign."
    return None


def _is_current(session: Session, record: Decision | UnitSignOff) -> bool:
    if isinstance(record, Decision):
        return session.scalar(sa.select(Decision.id).where(Decision.id == record.id,
                                                           not_superseded())) is not None
    return session.scalar(sa.select(UnitUnlock.id).where(
        UnitUnlock.sign_off_id == record.id)) is None
