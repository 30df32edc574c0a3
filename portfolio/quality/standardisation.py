"""Standardisation: planning an activity, adding the evidence discussed, recording independent
judgements, opening the round, and the minutes and actions agreed.

Judgements are blind: until the round opens nobody sees anyone else's, whether they have
judged or not, the lead included (:func:`judgements_seen_by`, :func:`agreement`). The round
opens once, when the last participant's judgement completes it or when the lead closes it; from
then on nothing more is judged. A judgement is recorded once and never changed: a second of the
same criterion is refused (the unique index holds it against a concurrent double submission).
Changes to one activity take its row's lock, so two last judgements at once open it once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import Centre, User
from portfolio.catalogue.models import Criterion, QualificationVersion, Unit
from portfolio.catalogue.services import qualification_versions
from portfolio.core.errors import DomainError
from portfolio.core.storage import ObjectStore
from portfolio.evidence.models import EvidenceItem
from portfolio.evidence.uploads import StoredUpload, forget_on_rollback
from portfolio.quality.standardisation_events import (
    action_agreed,
    activity_planned,
    evidence_added,
    evidence_judged,
    minutes_recorded,
    round_opened,
)
from portfolio.quality.standardisation_models import (
    JUDGEMENT_OUTCOMES,
    StandardisationAction,
    StandardisationActivity,
    StandardisationCriterion,
    StandardisationEvidence,
    StandardisationJudgement,
    StandardisationMinutes,
    StandardisationParticipant,
    StandardisationRoundOpening,
)
from portfolio.quality.standardisation_permissions import is_lead, is_participant

#: Where exemplars are stored: not under ``evidence/``, whose sweep removes objects no evidence
#: file names.
EXEMPLAR_PREFIX = "standardisation/"


#: How the audit trail names an activity (its table's name made singular reads oddly).
ACTIVITY = "standardisation_activity"


class StandardisationRefused(DomainError):
    """A standardisation change refused, with what to do instead."""


@dataclass(frozen=True)
class NewActivity:
    qualification_id: int
    title: str
    held_on: dt.date
    lead_id: int
    participant_ids: tuple[int, ...]


@dataclass(frozen=True)
class CriterionJudgement:
    outcome: str
    rationale: str


def staff_of(session: Session, centre_id: int, roles=("assessor", "iqa")) -> list[User]:
    """The centre's enabled people holding one of ``roles`` now, by name."""
    return list(session.scalars(
        sa.select(User).where(User.is_enabled,
                              sa.or_(*(User.holding(role, centre_id) for role in roles)))
        .order_by(User.name, User.id)))


def plan_activity(session: Session, centre: Centre, new: NewActivity,
                  actor: User) -> StandardisationActivity:
    """An activity with its participants (the lead among them), who are told they are invited."""
    if not (actor.id == new.lead_id or actor.holds("centre_admin", centre.id)):
        raise StandardisationRefused("An IQA plans a standardisation they lead; a centre admin "
                                     "may plan one for any of the centre's IQAs.")
    staff = {user.id: user for user in staff_of(session, centre.id)}
    lead = staff.get(new.lead_id)
    if lead is None or not lead.holds("iqa", centre.id):
        raise StandardisationRefused("The lead must be an internal quality assurer of the centre.")
    strangers = set(new.participant_ids) - staff.keys()
    if strangers:
        raise StandardisationRefused("Only the centre's assessors and IQAs can take part.")
    participant_ids = list(dict.fromkeys([lead.id, *new.participant_ids]))
    if len(participant_ids) < 2:
        raise StandardisationRefused("Invite at least one assessor or IQA besides the lead: "
                                     "standardisation compares judgements.")
    if new.qualification_id not in {v.qualification_id
                                    for v in qualification_versions(session, centre.id)}:
        raise StandardisationRefused("Choose one of the centre's qualifications.")
    activity = StandardisationActivity(
        centre_id=centre.id, qualification_id=new.qualification_id, title=new.title.strip(),
        held_on=new.held_on, lead_id=lead.id, created_by_id=actor.id,
        participants=[StandardisationParticipant(user_id=uid) for uid in participant_ids])
    session.add(activity)
    session.flush()
    activity_planned.emit(session, actor=actor, centre_id=centre.id, subject=activity,
                          object_type=ACTIVITY, activity_id=activity.id, title=activity.title, held_on=activity.held_on.isoformat(),
                          lead=lead.name, participants=participant_ids)
    return activity


def add_item(session: Session, activity: StandardisationActivity, item: EvidenceItem,
             actor: User) -> StandardisationEvidence:
    """A learner's item on the activity's qualification, with the criteria it claims and the
    digests of its files as they are now."""
    _lock_for_change(session, activity, actor)
    enrolment = item.enrolment
    if (enrolment.centre_id != activity.centre_id
            or enrolment.qualification_id != activity.qualification_id or item.is_withdrawn):
        raise StandardisationRefused("Choose evidence from a portfolio of this centre on the "
                                     "activity's qualification.")
    if not item.claims:
        raise StandardisationRefused(f"“{item.title}” claims no criteria to judge.")
    if any(e.item_id == item.id for e in activity.evidence):
        raise StandardisationRefused(f"“{item.title}” is already in this activity.")
    evidence = StandardisationEvidence(
        item_id=item.id, title=item.title,
        file_hashes=[f.sha256 for f in item.files], added_by_id=actor.id,
        criteria=[StandardisationCriterion(criterion_id=c.criterion_id) for c in item.claims])
    return _added(session, activity, evidence, actor, learner_id=enrolment.learner_id)


def add_exemplar(session: Session, store: ObjectStore, activity: StandardisationActivity,
                 stored: StoredUpload, title: str, criterion_ids: Iterable[int],
                 actor: User) -> StandardisationEvidence:
    """An exemplar already validated and stored (``evidence.uploads.store_file`` under
    :data:`EXEMPLAR_PREFIX`), meant to show criteria of the activity's qualification. Its
    objects are removed if this does not commit."""
    forget_on_rollback(session, store, [stored])
    _lock_for_change(session, activity, actor)
    criterion_ids = sorted(set(criterion_ids))
    known = set(session.scalars(
        sa.select(Criterion.id).join(Criterion.unit).join(Unit.version)
        .where(Criterion.id.in_(criterion_ids),
               QualificationVersion.qualification_id == activity.qualification_id)))
    if not criterion_ids or known != set(criterion_ids):
        raise StandardisationRefused("Choose the criteria of the activity's qualification that "
                                     "the exemplar is meant to show.")
    evidence = StandardisationEvidence(
        title=title.strip() or stored.original_name,
        object_key=stored.key, sha256=stored.sha256, size=stored.size,
        content_type=stored.content_type, original_name=stored.original_name,
        thumbnail_key=stored.thumbnail_key, preview_key=stored.preview_key, added_by_id=actor.id,
        criteria=[StandardisationCriterion(criterion_id=cid) for cid in criterion_ids])
    return _added(session, activity, evidence, actor)


def _added(session: Session, activity: StandardisationActivity,
           evidence: StandardisationEvidence, actor: User,
           learner_id: int | None = None) -> StandardisationEvidence:
    activity.evidence.append(evidence)
    session.flush()
    evidence_added.emit(session, actor=actor, centre_id=activity.centre_id,
                        learner_id=learner_id, subject=evidence, activity_id=activity.id,
                        title=evidence.title,
                        activity=activity.title, exemplar=evidence.is_exemplar,
                        criteria=len(evidence.criteria))
    return evidence


def _lock_for_change(session: Session, activity: StandardisationActivity, actor: User) -> None:
    """The lead's changes to evidence: refused once the round is open."""
    if not is_lead(actor, activity):
        raise StandardisationRefused("Only the lead changes the evidence of a standardisation.")
    _lock_while_blind(session, activity, "The round is open: no evidence can be added now.")


def _lock_while_blind(session: Session, activity: StandardisationActivity, refusal: str) -> None:
    """Take the activity's lock, then refuse if the round has opened meanwhile."""
    session.execute(sa.select(StandardisationActivity.id)
                    .where(StandardisationActivity.id == activity.id).with_for_update())
    if session.scalar(sa.select(StandardisationRoundOpening.id)
                      .where(StandardisationRoundOpening.activity_id == activity.id)):
        session.expire(activity, ["opening"])
        raise StandardisationRefused(refusal)


def record_judgement(session: Session, activity: StandardisationActivity,
                     evidence: StandardisationEvidence, judge: User,
                     judged: Mapping[int, CriterionJudgement]) -> list[StandardisationJudgement]:
    """One participant's judgement of every criterion of one piece of evidence, recorded once.
    When it completes the round (everyone has judged everything), the round opens."""
    if not is_participant(judge, activity):
        raise StandardisationRefused("Only the participants judge the evidence.")
    _lock_while_blind(session, activity, "The round is open: judgements can no longer be added.")
    wanted = [c.criterion_id for c in evidence.criteria]
    if set(judged) != set(wanted):
        raise StandardisationRefused("Judge every criterion the evidence is meant to show.")
    if any(j.outcome not in JUDGEMENT_OUTCOMES or not j.rationale.strip()
           for j in judged.values()):
        raise StandardisationRefused("Give each criterion an outcome and your rationale.")
    if session.scalar(sa.select(StandardisationJudgement.id).where(
            StandardisationJudgement.evidence_id == evidence.id,
            StandardisationJudgement.judge_id == judge.id).limit(1)):
        raise StandardisationRefused(f"You have judged “{evidence.title}” already: a judgement "
                                     "is recorded once and never changed.")
    rows = [StandardisationJudgement(evidence_id=evidence.id, criterion_id=cid,
                                     judge_id=judge.id, outcome=judged[cid].outcome,
                                     rationale=judged[cid].rationale.strip()) for cid in wanted]
    session.add_all(rows)
    session.flush()
    evidence_judged.emit(session, actor=judge, centre_id=activity.centre_id, subject=evidence,
                         activity_id=activity.id, title=evidence.title,
                         activity=activity.title, criteria=len(rows))
    if judged_count(session, activity) == expected_count(activity):
        _open(session, activity, judge, closed_by_lead=False)
    return rows


def close_round(session: Session, activity: StandardisationActivity, actor: User) -> None:
    """The lead opens the judgements to everyone before all have judged."""
    if not is_lead(actor, activity):
        raise StandardisationRefused("Only the lead closes the round.")
    _lock_while_blind(session, activity, "The round is open already.")
    if not activity.evidence:
        raise StandardisationRefused("Add the evidence to judge before closing the round.")
    _open(session, activity, actor, closed_by_lead=True)


def _open(session: Session, activity: StandardisationActivity, actor: User,
          closed_by_lead: bool) -> None:
    activity.opening = StandardisationRoundOpening(activity_id=activity.id, by_id=actor.id,
                                                   closed_by_lead=closed_by_lead)
    session.flush()
    round_opened.emit(session, actor=actor, centre_id=activity.centre_id, subject=activity,
                      object_type=ACTIVITY, activity_id=activity.id, activity=activity.title, closed_by_lead=closed_by_lead)


def judged_count(session: Session, activity: StandardisationActivity,
                 judge_id: int | None = None) -> int:
    """Judgements recorded in the activity (by ``judge_id`` when given)."""
    query = (sa.select(sa.func.count()).select_from(StandardisationJudgement)
             .join(StandardisationEvidence,
                   StandardisationEvidence.id == StandardisationJudgement.evidence_id)
             .where(StandardisationEvidence.activity_id == activity.id))
    if judge_id is not None:
        query = query.where(StandardisationJudgement.judge_id == judge_id)
    return session.scalar(query)


def expected_count(activity: StandardisationActivity, per_participant: bool = False) -> int:
    """Judgements that complete the round (or one participant's part of it)."""
    criteria = sum(len(e.criteria) for e in activity.evidence)
    return criteria if per_participant else criteria * len(activity.participants)


def record_minutes(session: Session, activity: StandardisationActivity, text: str,
                   actor: User) -> StandardisationMinutes:
    """A part of the minutes, added after the earlier ones."""
    if not is_lead(actor, activity):
        raise StandardisationRefused("Only the lead records the minutes.")
    if not text.strip():
        raise StandardisationRefused("Write the minutes to record.")
    minutes = StandardisationMinutes(text=text.strip(), by_id=actor.id)
    activity.minutes.append(minutes)
    session.flush()
    minutes_recorded.emit(session, actor=actor, centre_id=activity.centre_id, subject=minutes,
                          object_type="standardisation_minutes", activity_id=activity.id,
                          activity=activity.title)
    return minutes


def agree_action(session: Session, activity: StandardisationActivity, text: str, owner_id: int,
                 due_on: dt.date, actor: User) -> StandardisationAction:
    """An action the participants agreed once they had compared their judgements."""
    if not is_lead(actor, activity):
        raise StandardisationRefused("Only the lead records the actions agreed.")
    if not activity.is_open:
        raise StandardisationRefused("Actions are agreed once the round is open.")
    owner = next((p.user for p in activity.participants if p.user_id == owner_id), None)
    if owner is None:
        raise StandardisationRefused("The owner of an action is one of the participants.")
    if not text.strip():
        raise StandardisationRefused("Say what is to be done.")
    action = StandardisationAction(text=text.strip(), owner_id=owner.id, due_on=due_on,
                                   recorded_by_id=actor.id)
    activity.actions.append(action)
    session.flush()
    action_agreed.emit(session, actor=actor, centre_id=activity.centre_id, subject=action,
                       activity_id=activity.id, text=action.text, owner=owner.name, due_on=due_on.isoformat(),
                       activity=activity.title)
    return action
