"""Standardisation's services: planning, the evidence discussed, blind judgements recorded once,
the round opening once (by the last judgement or the lead), the agreement, minutes and actions,
their audit sentences and notifications."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from portfolio.catalogue.tree import version_tree
from portfolio.core.audit import AuditEvent
from portfolio.core.events import describe
from portfolio.evidence.services import withdraw
from portfolio.notifications.models import Notification
from portfolio.quality import standardisation as services
from portfolio.quality.standardisation_agreement import (
    agreement,
    agreement_share,
    judged_by,
    own_judgements,
)
from portfolio.quality.standardisation_models import StandardisationJudgement
from tests.helpers.assessment import add_item, criteria_of
from tests.helpers.queries import count_queries, count_rows
from tests.helpers.standardisation import judge_all, plan, with_exemplar, with_item

Refused = services.StandardisationRefused


def other_qualification_criterion(session, people) -> int:
    """A criterion of learner2's qualification (600/1257/2), not the activity's."""
    return version_tree(session, people.enrolment2.version_id).units[0].criteria[0].id


def told(session, kind):
    return sorted(session.scalars(sa.select(Notification.recipient_id)
                                  .where(Notification.kind == kind)))


def sentences(session, action):
    return [describe(e.action, e.data) for e in session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


@pytest.fixture()
def activity(session, people):
    """Led by iqa1 with assessor1 and assessor2; one item of learner1 with two criteria."""
    planned = plan(session, people.iqa1, [people.assessor1, people.assessor2], people.enrolment1)
    with_item(session, planned, people.enrolment1)
    return planned


def test_planning_invites_the_attendees_and_the_lead_takes_part(session, people, activity):
    assert [p.user_id for p in activity.participants] == [
        people.iqa1.id, people.assessor1.id, people.assessor2.id]
    assert told(session, "standardisation_invited") == sorted(
        [people.assessor1.id, people.assessor2.id])
    assert sentences(session, "standardisation.planned") == [
        "planned the standardisation “Observations of unit 301” on 2026-12-10, led by Iqa1, "
        "with 3 participants"]


def test_an_admin_plans_for_an_iqa_and_is_told_nothing(session, people):
    planned = plan(session, people.iqa2, [people.assessor1], people.enrolment1,
                   actor=people.admin)
    assert planned.lead_id == people.iqa2.id and planned.created_by_id == people.admin.id
    assert people.admin.id not in {p.user_id for p in planned.participants}
    assert told(session, "standardisation_invited") == sorted(
        [people.iqa2.id, people.assessor1.id])


@pytest.mark.parametrize(("lead", "attendees", "actor", "message"), [
    ("assessor1", ["assessor2"], "assessor1", "The lead must be an internal quality assurer"),
    ("iqa2", ["assessor1"], "iqa1", "An IQA plans a standardisation they lead"),
    ("iqa1", ["learner1"], "iqa1", "Only the centre's assessors and IQAs"),
    ("iqa1", ["other_admin"], "iqa1", "Only the centre's assessors and IQAs"),
    ("iqa1", [], "iqa1", "Invite at least one"),
])
def test_planning_refusals(session, people, lead, attendees, actor, message):
    with pytest.raises(Refused, match=message):
        plan(session, getattr(people, lead), [getattr(people, a) for a in attendees],
             people.enrolment1, actor=getattr(people, actor))


def test_only_evidence_of_the_qualification_and_centre_is_added_once(session, people, activity):
    other_qualification = add_item(session, people.enrolment2,
                                   [other_qualification_criterion(session, people)])
    with pytest.raises(Refused, match="on the activity's qualification"):
        services.add_item(session, activity, other_qualification, people.iqa1)
    with pytest.raises(Refused, match="already in this activity"):
        services.add_item(session, activity, activity.evidence[0].item, people.iqa1)
    withdrawn = add_item(session, people.enrolment1, criteria_of(session, people.enrolment1,
                                                                 "301", 1))
    withdraw(session, withdrawn, people.learner1)
    with pytest.raises(Refused, match="on the activity's qualification"):
        services.add_item(session, activity, withdrawn, people.iqa1)
    fresh = add_item(session, people.enrolment1, criteria_of(session, people.enrolment1, "204", 1))
    with pytest.raises(Refused, match="Only the lead"):
        services.add_item(session, activity, fresh, people.assessor1)


def test_an_item_keeps_its_claims_and_file_digests_as_they_were(session, people, activity):
    evidence = activity.evidence[0]
    assert [c.criterion_id for c in evidence.criteria] == criteria_of(
        session, people.enrolment1, "301", 2)
    assert evidence.file_hashes == [f.sha256 for f in evidence.item.files]
    assert sentences(session, "standardisation.evidence_added") == [
        "added the evidence “Handling a complaint” (2 criteria) to the standardisation "
        "“Observations of unit 301”"]


def test_an_exemplar_shows_criteria_of_the_qualification_only(session, people, activity):
    with pytest.raises(Refused, match="criteria of the activity's qualification"):
        with_exemplar(session, activity, [other_qualification_criterion(session, people)])
    with pytest.raises(Refused, match="criteria of the activity's qualification"):
        with_exemplar(session, activity, [])
    exemplar = with_exemplar(session, activity, criteria_of(session, people.enrolment1, "204", 1))
    assert exemplar.is_exemplar and exemplar.object_key.startswith("standardisation/")


def test_judgements_are_blind_to_everyone_until_the_round_opens(session, people, activity):
    judge_all(session, activity, people.assessor1)
    judge_all(session, activity, people.iqa1, outcome="not_yet_met")
    assert not activity.is_open
    # Each sees their own; the one who has not judged sees nothing, the lead included.
    assert {j.judge_id for j in own_judgements(session, activity, people.iqa1).values()} == {
        people.iqa1.id}
    assert own_judgements(session, activity, people.assessor2) == {}
    with pytest.raises(Refused, match="stay hidden"):
        agreement(session, activity)
    # Who has judged is known; what they said is not.
    assert judged_by(session, activity) == {people.assessor1.id: 2, people.iqa1.id: 2}


def test_the_last_judgement_opens_the_round_and_everyone_is_told(session, people, activity):
    judge_all(session, activity, people.assessor1)
    judge_all(session, activity, people.iqa1)
    assert told(session, "standardisation_opened") == []
    judge_all(session, activity, people.assessor2, outcome="not_yet_met")
    assert activity.is_open and not activity.opening.closed_by_lead
    assert activity.opening.by_id == people.assessor2.id
    assert told(session, "standardisation_opened") == sorted([people.iqa1.id,
                                                              people.assessor1.id])
    assert sentences(session, "standardisation.round_opened") == [
        "completed the round of the standardisation “Observations of unit 301”: the judgements "
        "are open to every participant"]


def test_a_judgement_is_recorded_once_and_never_after_the_round(session, people, activity):
    judge_all(session, activity, people.assessor1)
    with pytest.raises(Refused, match="recorded once and never changed"):
        judge_all(session, activity, people.assessor1, outcome="not_yet_met")
    services.close_round(session, activity, people.iqa1)
    with pytest.raises(Refused, match="judgements can no longer be added"):
        judge_all(session, activity, people.assessor2)
    with pytest.raises(Refused, match="no evidence can be added"):
        with_item(session, activity, people.enrolment1, unit="204", criteria=1)
    assert {j.outcome for j in session.scalars(sa.select(StandardisationJudgement))} == {"met"}


def test_a_judgement_covers_every_criterion_with_a_rationale(session, people, activity):
    evidence = activity.evidence[0]
    first, second = (c.criterion_id for c in evidence.criteria)
    judged = services.CriterionJudgement("met", "Clear.")
    with pytest.raises(Refused, match="Judge every criterion"):
        services.record_judgement(session, activity, evidence, people.assessor1, {first: judged})
    with pytest.raises(Refused, match="an outcome and your rationale"):
        services.record_judgement(session, activity, evidence, people.assessor1, {
            first: judged, second: services.CriterionJudgement("met", "  ")})
    with pytest.raises(Refused, match="Only the participants"):
        services.record_judgement(session, activity, evidence, people.iqa2,
                                  {first: judged, second: judged})
    assert count_rows(session, StandardisationJudgement) == 0


def test_the_database_refuses_a_second_judgement_of_a_criterion(session, people, activity):
    evidence = activity.evidence[0]
    criterion_id = evidence.criteria[0].criterion_id
    for outcome in ("met", "not_yet_met"):
        session.add(StandardisationJudgement(evidence_id=evidence.id, criterion_id=criterion_id,
                                             judge_id=people.assessor1.id, outcome=outcome,
                                             rationale="Twice"))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()


def test_only_the_lead_closes_the_round_and_the_agreement_shows_who_said_what(
        session, people, activity):
    judge_all(session, activity, people.assessor1)
    judge_all(session, activity, people.iqa1)
    with pytest.raises(Refused, match="Only the lead"):
        services.close_round(session, activity, people.assessor1)
    services.close_round(session, activity, people.iqa1)
    assert activity.opening.closed_by_lead
    result = agreement(session, activity)
    [evidence] = result.evidence
    assert [c.share for c in evidence.criteria] == [1, 1]
    assert [[j.judge_id for j in c.judgements] for c in evidence.criteria] == [
        [people.assessor1.id, people.iqa1.id]] * 2
    assert result.unanimous == 2


def test_the_agreement_marks_where_people_differed(session, people, activity):
    judge_all(session, activity, people.assessor1)
    judge_all(session, activity, people.iqa1)
    judge_all(session, activity, people.assessor2, outcome="not_yet_met")
    [evidence] = agreement(session, activity).evidence
    assert [(c.share, c.percent, c.differed) for c in evidence.criteria] == [
        (Fraction(2, 3), 67, True)] * 2


@given(st.lists(st.sampled_from(["met", "not_yet_met"]), max_size=12))
def test_the_agreement_share_is_the_largest_group_of_the_same_judgement(outcomes):
    # Brute force: the share of judges agreeing with each judge in turn, at its best.
    best = max((Fraction(sum(o == mine for o in outcomes), len(outcomes)) for mine in outcomes),
               default=Fraction(0))
    assert agreement_share(outcomes) == best


def test_the_agreement_takes_the_same_queries_however_much_was_judged(session, people):
    def queries_for(pieces):
        planned = plan(session, people.iqa1, [people.assessor1, people.assessor2],
                       people.enrolment1, title=f"{pieces} pieces")
        for n in range(pieces):
            with_item(session, planned, people.enrolment1, criteria=2 + n)
        for judge in (people.iqa1, people.assessor1, people.assessor2):
            judge_all(session, planned, judge)
        session.expire_all()
        with count_queries() as statements:
            judgements = [j for c in agreement(session, planned).criteria for j in c.judgements]
        assert {j.judge.name for j in judgements} == {"Iqa1", "Assessor1", "Assessor2"}
        return len(statements)

    assert queries_for(1) == queries_for(3)


def test_minutes_and_actions_add_to_the_record(session, people, activity):
    services.record_minutes(session, activity, "We compared the call logs.", people.iqa1)
    with pytest.raises(Refused, match="Only the lead"):
        services.record_minutes(session, activity, "Mine.", people.assessor1)
    due = dt.date(2027, 1, 15)
    with pytest.raises(Refused, match="once the round is open"):
        services.agree_action(session, activity, "Use the checklist", people.assessor1.id, due,
                              people.iqa1)
    services.close_round(session, activity, people.iqa1)
    with pytest.raises(Refused, match="one of the participants"):
        services.agree_action(session, activity, "Use it", people.iqa2.id, due, people.iqa1)
    services.agree_action(session, activity, "Use the observation checklist",
                          people.assessor1.id, due, people.iqa1)
    services.record_minutes(session, activity, "Agreed the checklist.", people.iqa1)
    assert [m.text for m in activity.minutes] == ["We compared the call logs.",
                                                  "Agreed the checklist."]
    assert told(session, "standardisation_action") == [people.assessor1.id]
    assert sentences(session, "standardisation.action_agreed") == [
        "recorded the action “Use the observation checklist” for Assessor1 by 2027-01-15, "
        "agreed at the standardisation “Observations of unit 301”"]
