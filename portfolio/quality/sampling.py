"""Recording a sample of an assessor's decisions on a learner's unit: what was sampled (the
decisions, the evidence items with their files' hashes now), the five checks, the outcome, the
feedback to the assessor and the actions raised, in one transaction, once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.services import lock_enrolment
from portfolio.accounts.staff import authority
from portfolio.assessment.countersigning import london_today
from portfolio.catalogue.models import QualificationVersion
from portfolio.core.dates import long_date
from portfolio.quality.errors import QualityError, SampleRefused
from portfolio.quality.events import sample_recorded
from portfolio.quality.models import (
    CHECKS,
    SAMPLE_OUTCOMES,
    PlannedSample,
    Sample,
    SampleAction,
    SampleCheck,
    SampledDecision,
    SampledItem,
)
from portfolio.quality.reading import SampleContext, sample_context


@dataclass(frozen=True)
class CheckAnswer:
    #: Whether the check is satisfied; None when the IQA has not said.
    satisfied: bool | None
    note: str = ""


@dataclass(frozen=True)
class ActionRequest:
    text: str
    due_on: dt.date | None
    #: Who must act; None for the sampled assessor.
    owner_id: int | None = None


@dataclass(frozen=True)
class SampleRecord:
    """The IQA's answers, as the form sent them."""

    decision_ids: Sequence[int]
    item_ids: Sequence[int]
    checks: dict[str, CheckAnswer]
    outcome: str
    feedback: str = ""
    actions: Sequence[ActionRequest] = field(default_factory=tuple)


def record_sample(session: Session, iqa: User, enrolment: Enrolment, unit_id: int,
                  record: SampleRecord, planned: PlannedSample | None = None,
                  today: dt.date | None = None) -> Sample:
    """Record the sample whole, or refuse it: :class:`SampleRefused` names every answer that
    cannot be recorded, by form field. A planned sample is carried out once; two submissions at
    the same moment are kept to one by the database's unique index."""
    if enrolment.is_open:
        # Serialised with a sign-off of the same unit, which an action raised here blocks. An
        # ended record takes no sign-off, and a completed learner's units are still sampled.
        lock_enrolment(session, enrolment)
    standing = authority(session, iqa, session.get(QualificationVersion, enrolment.version_id),
                         "iqa", today or london_today())
    if not standing.may_decide:
        raise QualityError(standing.reason)
    if planned is not None:
        _check_planned(session, planned, enrolment, unit_id)
    context = sample_context(session, enrolment, unit_id, iqa, planned)
    if context is None:
        raise QualityError("That unit is not part of this learner's qualification.")
    problems: dict[str, str] = {}
    chosen = _chosen_decisions(context, record.decision_ids, problems)
    _check_items(context, record.item_ids, problems)
    _check_answers(record, problems)
    assessor_ids = {d.assessor_id for d in chosen}
    owners = _action_owners(session, enrolment, record.actions, problems, today)
    if problems:
        raise SampleRefused(problems)
    assessor_id = assessor_ids.pop()
    sample = Sample(
        centre_id=enrolment.centre_id, enrolment_id=enrolment.id, unit_id=context.unit.id,
        qualification_id=enrolment.qualification_id, iqa_id=iqa.id, assessor_id=assessor_id,
        stage=context.stage, planned_sample_id=planned.id if planned else None,
        outcome=record.outcome, feedback=record.feedback.strip(),
        needs_countersignature=standing.needs_countersignature)
    session.add(sample)
    session.flush()
    session.add_all(SampledDecision(sample_id=sample.id, decision_id=d.id, iqa_id=iqa.id,
                                    decision_assessor_id=d.assessor_id) for d in chosen)
    items = {item.id: item for item in context.items}
    session.add_all(SampledItem(sample_id=sample.id, item_id=item_id,
                                file_hashes=[f.sha256 for f in items[item_id].files])
                    for item_id in dict.fromkeys(record.item_ids))
    session.add_all(SampleCheck(sample_id=sample.id, check=name,
                                satisfied=bool(record.checks[name].satisfied),
                                note=record.checks[name].note.strip()) for name in CHECKS)
    session.add_all(SampleAction(sample_id=sample.id, owner_id=owner or assessor_id,
                                 text=action.text.strip(), due_on=action.due_on)
                    for action, owner in zip(_given(record.actions), owners, strict=True))
    session.flush()
    session.expire(sample, ["checks", "actions"])
    sample_recorded.emit(
        session, actor=iqa, centre_id=enrolment.centre_id, learner_id=enrolment.learner_id,
        subject=sample, unit=context.unit.number, stage=context.stage, outcome=record.outcome,
        assessor=chosen[0].assessor.name, assessor_id=assessor_id,
        decision_ids=[d.id for d in chosen], item_ids=list(dict.fromkeys(record.item_ids)),
        planned_sample_id=sample.planned_sample_id, actions=len(owners))
    return sample


def _check_planned(session: Session, planned: PlannedSample, enrolment: Enrolment,
                   unit_id: int) -> None:
    if planned.enrolment_id != enrolment.id or planned.unit_id != unit_id:
        raise QualityError("That planned sample is of another learner's unit.")
    if planned.removed_in_id is not None:
        raise QualityError("That sample was taken out of the plan: record an ad-hoc sample "
                           "instead if it is still needed.")
    done = session.scalar(sa.select(Sample).where(Sample.planned_sample_id == planned.id))
    if done is not None:
        raise QualityError(f"This planned sample was carried out by {done.iqa.name} on "
                           f"{long_date(done.recorded_at)}.")


def _chosen_decisions(context: SampleContext, decision_ids: Sequence[int],
                      problems: dict[str, str]) -> list:
    """The decisions chosen, checked one by one: the IQA's own or countersigned ones are refused
    by name, whatever else the unit holds."""
    known = context.decisions
    chosen = [known[i] for i in dict.fromkeys(decision_ids) if i in known]
    tree_label = {c.criterion.id: c.criterion.code for c in context.criteria}
    if len(chosen) != len(set(decision_ids)):
        problems["decisions"] = "Choose decisions on this unit of this learner only."
    elif not chosen:
        problems["decisions"] = "Choose at least one of the assessor's decisions to sample."
    refused = [f"{context.unit.number} {tree_label[d.criterion_id]}, {context.refusals[d.id]}"
               for d in chosen if d.id in context.refusals]
    if refused:
        problems["decisions"] = "You may not sample " + "; ".join(refused) + "."
    elif len({d.assessor_id for d in chosen}) > 1:
        names = sorted({d.assessor.name for d in chosen})
        problems["decisions"] = (f"A sample is of one assessor's decisions: these are by "
                                 f"{' and '.join(names)}. Sample each assessor's separately.")
    return chosen


def _check_items(context: SampleContext, item_ids: Sequence[int],
                 problems: dict[str, str]) -> None:
    if set(item_ids) - set(context.item_ids):
        problems["items"] = "Choose evidence that claims this unit's criteria only."


def _check_answers(record: SampleRecord, problems: dict[str, str]) -> None:
    for name, label in CHECKS.items():
        answer = record.checks.get(name, CheckAnswer(None))
        if answer.satisfied is None:
            problems[name] = f"Say whether the sample is {label.lower()}."
        elif not answer.satisfied and not answer.note.strip():
            problems[f"{name}_note"] = f"Say why the sample is not {label.lower()}."
    if record.outcome not in SAMPLE_OUTCOMES:
        problems["outcome"] = "Choose the outcome."
    elif record.outcome != "agree" and not record.feedback.strip():
        problems["feedback"] = "Give the assessor feedback: the outcome is not a plain agree."
    if record.outcome == "action_required" and not _given(record.actions):
        problems["actions"] = "Raise at least one action: the outcome is action required."


def _given(actions: Sequence[ActionRequest]) -> list[ActionRequest]:
    """The action rows filled in (a blank row of the form is no action)."""
    return [a for a in actions if a.text.strip() or a.due_on is not None]


def _action_owners(session: Session, enrolment: Enrolment, actions: Sequence[ActionRequest],
                   problems: dict[str, str], today: dt.date | None) -> list[int | None]:
    today = today or dt.date.today()
    owners = []
    for index, action in enumerate(actions):
        if not (action.text.strip() or action.due_on is not None):
            continue
        if not action.text.strip():
            problems[f"actions-{index}-text"] = "Say what must be done."
        if action.due_on is None:
            problems[f"actions-{index}-due_on"] = "Give the day it is due."
        elif action.due_on < today:
            problems[f"actions-{index}-due_on"] = "The day it is due cannot be in the past."
        owner = session.get(User, action.owner_id) if action.owner_id is not None else None
        if action.owner_id is not None and not _may_own(owner, enrolment.centre_id):
            problems[f"actions-{index}-owner_id"] = ("Choose an assessor or IQA of the "
                                                     "learner's centre.")
        owners.append(action.owner_id)
    return owners


def _may_own(user: User | None, centre_id: int) -> bool:
    return bool(user is not None and user.is_enabled
                and (user.holds("assessor", centre_id) or user.holds("iqa", centre_id)))
