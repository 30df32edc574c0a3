"""Standardisation activities for the tests: planned through the services, with a learner's item
and an exemplar whose file rows point at keys never stored (the services do not read them)."""

from __future__ import annotations

import datetime as dt
import hashlib

from portfolio.accounts.models import Centre
from portfolio.evidence.uploads import StoredUpload
from portfolio.extensions import object_store
from portfolio.quality import standardisation as services
from tests.helpers.assessment import add_item, criteria_of


def plan(session, lead, participants, enrolment, actor=None, title="Observations of unit 301",
         held_on=None):
    """An activity on ``enrolment``'s qualification led by ``lead`` with ``participants``."""
    return services.plan_activity(
        session, session.get(Centre, lead.centre_id), services.NewActivity(
            enrolment.qualification_id, title, held_on or dt.date(2026, 12, 10), lead.id,
            tuple(p.id for p in participants)), actor or lead)


def with_item(session, activity, enrolment, unit="301", criteria=2, title="Handling a complaint"):
    """A new item of ``enrolment`` claiming the first ``criteria`` of ``unit``, added by the
    lead."""
    item = add_item(session, enrolment, criteria_of(session, enrolment, unit, criteria),
                    title=title)
    return services.add_item(session, activity, item, activity.lead)


def with_exemplar(session, activity, criterion_ids, title="A model call log"):
    key = f"{services.EXEMPLAR_PREFIX}{activity.id}/test-{len(activity.evidence)}"
    stored = StoredUpload(key, hashlib.sha256(key.encode()).hexdigest(), 120,
                          "application/pdf", "model.pdf")
    return services.add_exemplar(session, object_store(), activity, stored, title,
                                 criterion_ids, activity.lead)


def judge_all(session, activity, judge, outcome="met", rationale="Shows it in the call log."):
    """``judge``'s judgement of every piece of evidence, each criterion ``outcome``."""
    for evidence in activity.evidence:
        services.record_judgement(session, activity, evidence, judge, {
            c.criterion_id: services.CriterionJudgement(outcome, rationale)
            for c in evidence.criteria})


def seed_standardisations(session, iqa, assessor, enrolment, item) -> tuple[int, int, int]:
    """For the pages that show every state: an activity still blind (``iqa`` has judged
    ``item``, ``assessor`` not yet) and one past, open, with an action and minutes. Returns the
    blind one's id, its evidence's id and the open one's id."""
    today = dt.date.today()
    blind = plan(session, iqa, [assessor], enrolment, title="Billing complaints",
                 held_on=today + dt.timedelta(days=14))
    evidence = services.add_item(session, blind, item, iqa)
    judge_all(session, blind, iqa)
    agreed = plan(session, iqa, [assessor], enrolment, title="Complaint handling",
                  held_on=today - dt.timedelta(days=30))
    services.add_item(session, agreed, item, iqa)
    judge_all(session, agreed, iqa)
    judge_all(session, agreed, assessor, outcome="not_yet_met", rationale="No call log.")
    services.agree_action(session, agreed, "Ask for the call log with every complaint.",
                          assessor.id, today + dt.timedelta(days=30), iqa)
    services.record_minutes(session, agreed, "We differed on the call log.", iqa)
    return blind.id, evidence.id, agreed.id
