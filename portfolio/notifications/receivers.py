"""Who each event needs, connected to the events of the features below: the receivers run in the
sender's transaction, so a notification and its mail commit or roll back with the change.

Every link is a path on this site, built from the endpoint's rule so that it can be made outside
a request too (a command that records a decision).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from portfolio.accounts.events import enrolment_moved
from portfolio.accounts.models import Enrolment, User
from portfolio.assessment.events import (
    decision_countersigned,
    decision_recorded,
    sign_off_countersigned,
    unit_declared,
    unit_signed_off,
    unit_unlocked,
)
from portfolio.assessment.models import Decision, UnitDeclaration, UnitSignOff
from portfolio.assessment.progress import progress_for
from portfolio.core.dates import long_date
from portfolio.core.events import Occurrence
from portfolio.evidence.events import claims_changed, evidence_created
from portfolio.evidence.models import EvidenceItem
from portfolio.notifications.services import first_time, notify
from portfolio.quality.events import (
    action_closed,
    action_reopened,
    action_responded,
    sample_countersigned,
    sample_recorded,
)
from portfolio.quality.models import SAMPLE_OUTCOMES
from portfolio.quality.plan_events import strategy_revised
from portfolio.quality.standardisation_events import action_agreed, activity_planned, round_opened
from portfolio.quality.standardisation_models import StandardisationAction, StandardisationActivity


def path(endpoint: str, **values) -> str:
    return current_app.url_map.bind("").build(endpoint, values)


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return user.name if user is not None else "Someone"


def _tell(session: Session, occurrence: Occurrence, recipients, kind: str, text: str,
          link: str, about: object = None) -> None:
    notify(session, recipients, actor_id=occurrence.actor_id, centre_id=occurrence.centre_id,
           kind=kind, text=text, link=link, about=about)


@evidence_created.connect
@claims_changed.connect
def evidence_awaiting_decision(session: Session, occurrence: Occurrence) -> None:
    """New evidence, or a learner's changed claims, wait for the learner's assessor."""
    item = session.get(EvidenceItem, occurrence.object_id)
    if item is None or item.awaiting_decision_since is None or item.is_withdrawn:
        return
    verb = "submitted" if occurrence.name == evidence_created.name else "changed the claims of"
    _tell(session, occurrence, [item.enrolment.assessor_id], "evidence_awaiting",
          f"{_name(session, occurrence.actor_id)} {verb} evidence “{item.title}”: it is "
          f"waiting for your decision.", path("assessment.judge", item_id=item.id))


@decision_recorded.connect
def decision_on_your_evidence(session: Session, occurrence: Occurrence) -> None:
    """One notification per item judged (decisions are emitted per criterion), then whether the
    unit of the decision is now ready."""
    decision = session.get(Decision, occurrence.object_id)
    item = session.get(EvidenceItem, decision.item_id)
    _tell(session, occurrence, [occurrence.learner_id], "decision_recorded",
          f"{_name(session, occurrence.actor_id)} recorded decisions on your evidence "
          f"“{item.title}”.", path("evidence.show", item_id=item.id))
    _unit_ready(session, occurrence, session.get(Enrolment, decision.enrolment_id),
                decision.unit_id)


@unit_declared.connect
def declared_unit_ready(session: Session, occurrence: Occurrence) -> None:
    declaration = session.get(UnitDeclaration, occurrence.object_id)
    _unit_ready(session, occurrence, session.get(Enrolment, declaration.enrolment_id),
                declaration.unit_id)


def _unit_ready(session: Session, occurrence: Occurrence, enrolment: Enrolment,
                unit_id: int) -> None:
    """Every criterion of the unit met: the learner declares it where the qualification asks,
    else (or once declared) the assessor signs it off."""
    if not first_time(session, ("unit ready", occurrence.name, enrolment.id, unit_id)):
        return
    progress = progress_for(session, [enrolment])[enrolment.id]
    unit = progress.unit(unit_id)
    if not unit.ready_for_sign_off:
        return
    link = path("assessment.progress", enrolment_id=enrolment.id)
    if progress.tree.unit_declarations and not unit.declared:
        _tell(session, occurrence, [enrolment.learner_id], "unit_ready_to_declare",
              f"Every criterion of unit {unit.unit.number} is met: declare that the work is "
              f"your own.", link, about=("unit", enrolment.id, unit_id))
    else:
        _tell(session, occurrence, [enrolment.assessor_id], "unit_ready_to_sign_off",
              f"Unit {unit.unit.number} of {enrolment.learner.name} is ready to sign off.",
              link, about=("unit", enrolment.id, unit_id))


@unit_signed_off.connect
def unit_signed_off_for_learner(session: Session, occurrence: Occurrence) -> None:
    sign_off = session.get(UnitSignOff, occurrence.object_id)
    _tell(session, occurrence, [occurrence.learner_id], "unit_signed_off",
          f"{_name(session, occurrence.actor_id)} signed off unit {occurrence.data['unit']}.",
          path("assessment.progress", enrolment_id=sign_off.enrolment_id))


@decision_countersigned.connect
@sign_off_countersigned.connect
def countersigned_for_maker(session: Session, occurrence: Occurrence) -> None:
    """The assessor who made the record learns it now counts; a countersigned decision may
    complete its unit, and a countersigned sign-off achieves it for the learner."""
    what = occurrence.data["what"]
    record = (session.get(Decision, occurrence.data["record_id"])
              if occurrence.name == decision_countersigned.name
              else session.get(UnitSignOff, occurrence.data["record_id"]))
    enrolment = session.get(Enrolment, record.enrolment_id)
    kind = "decision" if isinstance(record, Decision) else "sign-off"
    _tell(session, occurrence, [occurrence.data["maker_id"]], "countersigned",
          f"{_name(session, occurrence.actor_id)} countersigned your {kind} on {what} for "
          f"{enrolment.learner.name}: it now counts.",
          path("assessment.progress", enrolment_id=enrolment.id))
    if isinstance(record, Decision):
        _unit_ready(session, occurrence, enrolment, record.unit_id)
    else:
        _tell(session, occurrence, [enrolment.learner_id], "unit_signed_off",
              f"Unit {what.removeprefix('unit ')} is signed off and countersigned: it is "
              f"achieved.", path("assessment.progress", enrolment_id=enrolment.id))


@unit_unlocked.connect
def unit_unlocked_for_both(session: Session, occurrence: Occurrence) -> None:
    sign_off = session.get(UnitSignOff, occurrence.data["sign_off_id"])
    enrolment = session.get(Enrolment, sign_off.enrolment_id)
    _tell(session, occurrence, [enrolment.learner_id, enrolment.assessor_id], "unit_unlocked",
          f"{_name(session, occurrence.actor_id)} unlocked unit {occurrence.data['unit']} of "
          f"{enrolment.learner.name}: {occurrence.data.get('reason', '')}",
          path("assessment.progress", enrolment_id=enrolment.id))


@enrolment_moved.connect
def enrolment_moved_for_holders(session: Session, occurrence: Occurrence) -> None:
    """The new holders are linked to the learner's progress; the old ones, who may no longer
    see it, to their home page."""
    enrolment = session.get(Enrolment, occurrence.object_id)
    data = occurrence.data
    text = (f"{_name(session, occurrence.actor_id)} moved the enrolment of "
            f"{enrolment.learner.name}: {data.get('moved', '')}.")
    _tell(session, occurrence, [data.get("new_assessor_id"), data.get("new_iqa_id")],
          "enrolment_moved", text, path("assessment.progress", enrolment_id=enrolment.id))
    _tell(session, occurrence, [data.get("old_assessor_id"), data.get("old_iqa_id")],
          "enrolment_moved", text, path("accounts.home"))


@sample_recorded.connect
def sample_of_your_decisions(session: Session, occurrence: Occurrence) -> None:
    data = occurrence.data
    actions = data.get("actions", 0)
    _tell(session, occurrence, [data.get("assessor_id")], "sample_recorded",
          f"{_name(session, occurrence.actor_id)} sampled your decisions on unit "
          f"{data.get('unit', '?')}: {SAMPLE_OUTCOMES.get(data.get('outcome'), '?').lower()}"
          f"{f', {actions} action(s) for you to answer' if actions else ''}.",
          path("quality.sample", sample_id=occurrence.object_id))


@sample_countersigned.connect
def sample_countersigned_for_iqa(session: Session, occurrence: Occurrence) -> None:
    """The IQA working towards their qualification learns their sample now counts."""
    data = occurrence.data
    _tell(session, occurrence, [data.get("iqa_id")], "countersigned",
          f"{_name(session, occurrence.actor_id)} countersigned your sample of unit "
          f"{data.get('unit', '?')}: it now counts.",
          path("quality.sample", sample_id=data.get("sample_id")))


@action_responded.connect
@action_closed.connect
@action_reopened.connect
def action_changed(session: Session, occurrence: Occurrence) -> None:
    """The owner's response tells the IQA; the IQA closing or reopening tells the owner (the
    actor, whichever they are, is never told)."""
    data = occurrence.data
    verb = {action_responded.name: "responded to", action_closed.name: "closed",
            action_reopened.name: "reopened"}[occurrence.name]
    _tell(session, occurrence, [data.get("owner_id"), data.get("iqa_id")], "sample_action",
          f"{_name(session, occurrence.actor_id)} {verb} IQA action #{data.get('action_id')}.",
          path("quality.sample", sample_id=data.get("sample_id"))
          + f"#action-{data.get('action_id')}", about=("action entry", occurrence.object_id))
@activity_planned.connect
def standardisation_invitation(session: Session, occurrence: Occurrence) -> None:
    activity = session.get(StandardisationActivity, occurrence.object_id)
    _tell(session, occurrence, [p.user_id for p in activity.participants],
          "standardisation_invited",
          f"{_name(session, occurrence.actor_id)} invited you to the standardisation "
          f"“{activity.title}” on {long_date(activity.held_on)}.",
          path("standardisation.show", activity_id=activity.id))


@round_opened.connect
def standardisation_round_open(session: Session, occurrence: Occurrence) -> None:
    """Everyone may now compare: the participants are told (the one who opened it knows)."""
    activity = session.get(StandardisationActivity, occurrence.object_id)
    _tell(session, occurrence, [p.user_id for p in activity.participants],
          "standardisation_opened",
          f"The judgements of the standardisation “{activity.title}” are open: see where you "
          f"agreed.", path("standardisation.result", activity_id=activity.id))


@action_agreed.connect
def standardisation_action_owner(session: Session, occurrence: Occurrence) -> None:
    action = session.get(StandardisationAction, occurrence.object_id)
    _tell(session, occurrence, [action.owner_id], "standardisation_action",
          f"An action from the standardisation “{occurrence.data['activity']}” is yours, due "
          f"{long_date(action.due_on)}: {action.text}",
          path("standardisation.result", activity_id=action.activity_id))
@strategy_revised.connect
def strategy_revised_for_iqas(session: Session, occurrence: Occurrence) -> None:
    """The centre's IQAs plan by the strategy."""
    iqas = session.scalars(sa.select(User.id).where(User.holding("iqa", occurrence.centre_id)))
    _tell(session, occurrence, list(iqas), "sampling_strategy_revised",
          f"{_name(session, occurrence.actor_id)} changed the centre's sampling strategy: plans "
          f"you make from now on follow it.", path("plans.index"))
