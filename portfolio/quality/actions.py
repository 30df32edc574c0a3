"""An action's life after its sample: the owner responds, the IQA closes or reopens it. Each is
an :class:`ActionEntry` appended below the action, and ``SampleAction.closed`` follows the latest
one. While an action on a unit is open, the unit cannot be signed off (assessment asks through
:data:`portfolio.assessment.hooks.sign_off_checks`)."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import Session, joinedload

from portfolio.accounts.models import Enrolment, User
from portfolio.assessment.hooks import UnitNote, sign_off_checks, unit_notes
from portfolio.catalogue.tree import version_tree
from portfolio.core.dates import long_date
from portfolio.quality.errors import QualityError
from portfolio.quality.events import action_closed, action_reopened, action_responded
from portfolio.quality.models import ActionEntry, Sample, SampleAction
from portfolio.quality.permissions import can_sample


def respond(session: Session, action: SampleAction, owner: User, text: str) -> ActionEntry:
    """The owner says what they did."""
    _lock(session, action)
    if action.closed:
        raise QualityError("This action is closed: ask the IQA to reopen it if there is more "
                           "to say.")
    if not text.strip():
        raise QualityError("Say what you have done about the action.")
    return _append(session, action, owner, "response", text, action_responded)


def close(session: Session, action: SampleAction, iqa: User, text: str = "") -> ActionEntry:
    _lock(session, action)
    if action.closed:
        raise QualityError("This action is already closed.")
    action.closed = True
    return _append(session, action, iqa, "closed", text, action_closed)


def reopen(session: Session, action: SampleAction, iqa: User, text: str) -> ActionEntry:
    _lock(session, action)
    if not action.closed:
        raise QualityError("This action is open already.")
    if not text.strip():
        raise QualityError("Say why the action is reopened.")
    action.closed = False
    return _append(session, action, iqa, "reopened", text, action_reopened)


def _lock(session: Session, action: SampleAction) -> None:
    """Two people acting on one action at once take turns, each seeing the other's entry."""
    session.execute(sa.select(SampleAction.id).where(SampleAction.id == action.id)
                    .with_for_update())
    session.refresh(action)


def _append(session, action, user, kind, text, event) -> ActionEntry:
    entry = ActionEntry(action_id=action.id, kind=kind, by_id=user.id, text=text.strip())
    session.add(entry)
    session.flush()
    session.expire(action, ["entries"])
    sample = action.sample
    event.emit(session, actor=user, centre_id=sample.centre_id,
               learner_id=sample.enrolment.learner_id, subject=entry,
               object_type="action_entry", action_id=action.id,
               sample_id=sample.id, owner_id=action.owner_id, iqa_id=sample.iqa_id,
               text=entry.text)
    return entry


def open_actions_by_unit(session: Session, enrolment_id: int) -> dict[int, list[SampleAction]]:
    """The open actions raised on samples of the learner's units, by unit, oldest first (for
    sign-off now, and for claims later)."""
    found: dict[int, list[SampleAction]] = defaultdict(list)
    for unit_id, action in session.execute(_OPEN_ACTIONS, {"enrolment_id": enrolment_id}):
        found[unit_id].append(action)
    return dict(found)


#: Built once, the enrolment a parameter: every progress page runs it.
_OPEN_ACTIONS = (sa.select(Sample.unit_id, SampleAction)
                 .join(SampleAction, SampleAction.sample_id == Sample.id)
                 .where(Sample.enrolment_id == sa.bindparam("enrolment_id"), ~SampleAction.closed)
                 .options(joinedload(SampleAction.owner), joinedload(SampleAction.sample)
                          .joinedload(Sample.iqa))
                 .order_by(SampleAction.id))


def describe_open(action: SampleAction) -> str:
    return (f"open IQA action “{action.text}” for {action.owner.name}, due "
            f"{long_date(action.due_on)} (raised by {action.sample.iqa.name})")


@sign_off_checks.register
def refuse_sign_off_with_open_actions(session: Session, enrolment: Enrolment,
                                      unit_id: int) -> None:
    open_actions = open_actions_by_unit(session, enrolment.id).get(unit_id)
    if open_actions:
        unit = version_tree(session, enrolment.version_id).units_by_id[unit_id]
        listed = "; ".join(describe_open(a) for a in open_actions)
        raise QualityError(f"Unit {unit.number} cannot be signed off while it has an {listed}. "
                           f"The IQA closes the action once it is done.")


@unit_notes.register
def open_actions_and_sampling(session: Session, viewer: User, enrolment: Enrolment
                              ) -> dict[int, list[UnitNote]]:
    """The progress page's unit rows: each open IQA action, and for an IQA who may sample the
    learner, the way to sample each unit."""
    notes: dict[int, list[UnitNote]] = defaultdict(list)
    for unit_id, actions in open_actions_by_unit(session, enrolment.id).items():
        for action in actions:
            notes[unit_id].append(UnitNote(
                describe_open(action)[0].upper() + describe_open(action)[1:],
                url_for("quality.sample", sample_id=action.sample_id)))
    if can_sample(viewer, enrolment):
        for unit in version_tree(session, enrolment.version_id).units:
            notes[unit.id].append(UnitNote(
                f"Sample unit {unit.number}",
                url_for("quality.open_sample", enrolment_id=enrolment.id, unit_id=unit.id),
                kind="action"))
    return dict(notes)
