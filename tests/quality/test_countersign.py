"""Countersignature of decisions and sign-offs made by an assessor working towards their assessor
qualification on 600/9662/7: provisional until a qualified colleague countersigns them, counted
only from then on; refused past the 18 months allowed."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portfolio.assessment import countersigning
from portfolio.assessment.caseload import caseload
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.item_status import judged_statuses, met_or_awaiting
from portfolio.assessment.models import Countersignature, Decision
from portfolio.assessment.units import record_prior_achievement, sign_off_unit
from portfolio.core.audit import AuditEvent
from portfolio.notifications.models import Notification
from tests.helpers.assessment import add_item, criteria_of, decide, progress, unit_node
from tests.helpers.countersigning import COUNTERSIGNED_QN, record_staff
from tests.helpers.factories import make_enrolment, make_user
from tests.helpers.queries import count_rows

TODAY = countersigning.london_today()
RECENT_START = TODAY - dt.timedelta(days=100)


@pytest.fixture()
def diploma(session, people):
    """assessor1 working towards (started 100 days ago), assessor2 qualified, on 600/9662/7; a
    learner of assessor1's on it with an item claiming every criterion of unit 1."""
    learner = make_user(session, people.centre, "diploma@north.test", "learner",
                        name="Dee Ploma")
    enrolment = make_enrolment(session, learner, people.assessor1, people.iqa1, COUNTERSIGNED_QN)
    record_staff(session, people.assessor1, "working_towards", RECENT_START)
    record_staff(session, people.assessor2, "qualified", dt.date(2020, 1, 1))
    criteria = criteria_of(session, enrolment, "1")
    item = add_item(session, enrolment, criteria, title="Job search log")
    return SimpleNamespace(enrolment=enrolment, learner=learner, criteria=criteria, item=item)


def test_a_working_towards_decision_awaits_countersignature_and_does_not_count(
        session, people, diploma):
    first = diploma.criteria[0]
    [decision] = decide(session, diploma.item, people.assessor1, [first])
    assert decision.needs_countersignature
    state = progress(session, diploma.enrolment).state(first)
    assert (state.status, state.label) == ("awaiting_countersignature",
                                           "Met, awaiting countersignature")
    assert progress(session, diploma.enrolment).criteria_met == 0

    countersigning.countersign(session, people.assessor2, [decision])
    assert progress(session, diploma.enrolment).state(first).status == "met"
    assert progress(session, diploma.enrolment).criteria_met == 1


def test_a_qualified_assessor_s_decision_counts_at_once(session, people, diploma):
    diploma.enrolment.assessor_id = people.assessor2.id
    [decision] = decide(session, diploma.item, people.assessor2, diploma.criteria[:1])
    assert not decision.needs_countersignature
    assert progress(session, diploma.enrolment).criteria_met == 1


def test_without_a_staff_record_decisions_count_as_before(session, people):
    enrolment = people.enrolment1  # 600/1636/X, assessor1 has no record
    item = add_item(session, enrolment, criteria_of(session, enrolment, "301", 1))
    [decision] = decide(session, item, people.assessor1, criteria_of(session, enrolment, "301", 1))
    assert not decision.needs_countersignature


def test_past_the_18_months_the_assessor_is_refused_with_the_reason(session, people, diploma):
    record_staff(session, people.assessor1, "working_towards", dt.date(2024, 1, 2))
    with pytest.raises(AssessmentError) as refused:
        decide(session, diploma.item, people.assessor1, diploma.criteria[:1])
    assert str(refused.value) == (
        "Your 18 months to qualify as an assessor for 600/9662/7 ended on 2 July 2025: a "
        "qualified assessor must decide, or record your qualification first.")
    assert count_rows(session, Decision) == 0
    with pytest.raises(AssessmentError, match="ended on 2 July 2025"):
        record_prior_achievement(session, diploma.enrolment,
                                 unit_node(session, diploma.enrolment, "2").id,
                                 people.assessor1, "credit_transfer", "Certificate 7")


def test_the_unit_is_ready_only_once_every_decision_is_countersigned(session, people, diploma):
    decisions = decide(session, diploma.item, people.assessor1, diploma.criteria)
    unit_id = unit_node(session, diploma.enrolment, "1").id
    unit = progress(session, diploma.enrolment).unit(unit_id)
    assert not unit.ready_for_sign_off and unit.met == 0
    with pytest.raises(AssessmentError, match=f"{len(decisions)} of them awaiting "
                                              f"countersignature"):
        sign_off_unit(session, diploma.enrolment, unit_id, people.assessor1)
    countersigning.countersign(session, people.assessor2, decisions)
    assert progress(session, diploma.enrolment).unit(unit_id).ready_for_sign_off


def test_a_working_towards_sign_off_locks_the_unit_but_achieves_it_once_countersigned(
        session, people, diploma):
    decisions = decide(session, diploma.item, people.assessor1, diploma.criteria)
    countersigning.countersign(session, people.assessor2, decisions)
    unit_id = unit_node(session, diploma.enrolment, "1").id
    sign_off = sign_off_unit(session, diploma.enrolment, unit_id, people.assessor1)
    assert sign_off.needs_countersignature
    unit = progress(session, diploma.enrolment).unit(unit_id)
    assert (unit.is_signed_off, unit.is_achieved, unit.status) == (
        True, False, "awaiting_countersignature")
    assert not unit.ready_for_sign_off
    assert progress(session, diploma.enrolment).evaluation.total_credits == 0
    with pytest.raises(AssessmentError, match="already signed off"):
        sign_off_unit(session, diploma.enrolment, unit_id, people.assessor1)
    [row] = caseload(session, [diploma.enrolment])
    assert row.units_ready == 0 and row.credits == 0

    countersigning.countersign(session, people.assessor2, sign_offs=[sign_off])
    unit = progress(session, diploma.enrolment).unit(unit_id)
    assert unit.is_achieved and unit.status == "achieved"
    [row] = caseload(session, [diploma.enrolment])
    assert row.credits == unit.unit.credit


def test_the_caseload_and_the_learner_s_statuses_count_only_countersigned(
        session, people, diploma):
    [decision] = decide(session, diploma.item, people.assessor1, diploma.criteria[:1])
    [row] = caseload(session, [diploma.enrolment])
    assert row.criteria_met == 0
    statuses = dict(session.execute(sa.select(judged_statuses(diploma.enrolment.id))).all())
    # The item claims the unit's other criteria too, still undecided.
    assert statuses[diploma.item.id] == "awaiting"
    assert met_or_awaiting(session, diploma.enrolment)[diploma.criteria[0]] == "awaiting"

    only_one = add_item(session, diploma.enrolment, diploma.criteria[1:2], title="One")
    decide(session, only_one, people.assessor1, diploma.criteria[1:2])
    statuses = dict(session.execute(sa.select(judged_statuses(diploma.enrolment.id))).all())
    assert statuses[only_one.id] == "awaiting_countersignature"

    countersigning.countersign(session, people.assessor2,
                               list(session.scalars(sa.select(Decision))))
    [row] = caseload(session, [diploma.enrolment])
    assert row.criteria_met == 2
    statuses = dict(session.execute(sa.select(judged_statuses(diploma.enrolment.id))).all())
    assert statuses[only_one.id] == "met"
    assert met_or_awaiting(session, diploma.enrolment)[diploma.criteria[0]] == "met"


def test_countersigning_is_audited_and_tells_the_maker(session, people, diploma):
    [decision] = decide(session, diploma.item, people.assessor1, diploma.criteria[:1])
    [signature] = countersigning.countersign(session, people.assessor2, [decision])
    assert (signature.decision_id, signature.by_id) == (decision.id, people.assessor2.id)
    event = session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "decision.countersigned"))
    assert event.sentence == "countersigned the decision on unit 1 criterion 1.1"
    assert (event.actor_id, event.learner_id) == (people.assessor2.id, diploma.learner.id)
    told = session.scalars(sa.select(Notification).where(Notification.kind == "countersigned"))
    assert [(n.recipient_id, n.text) for n in told] == [(
        people.assessor1.id, "Assessor2 countersigned your decision on unit 1 criterion 1.1 for "
                             "Dee Ploma: it now counts.")]


def test_refusals_say_why_and_countersign_nothing(session, people, diploma):
    [decision] = decide(session, diploma.item, people.assessor1, diploma.criteria[:1])

    def refusal(countersigner, *records):
        with pytest.raises(AssessmentError) as refused:
            countersigning.countersign(session, countersigner, list(records))
        return str(refused.value)

    assert refusal(people.assessor2) == countersigning.NOTHING_CHOSEN
    assert refusal(people.iqa2, decision) == (
        "Only an assessor your centre records as qualified for 600/9662/7 may countersign the "
        "decision on unit 1 criterion 1.1.")
    record_staff(session, people.assessor1, "qualified", TODAY)
    assert refusal(people.assessor1, decision) == (
        "The decision on unit 1 criterion 1.1 is your own: a qualified colleague must "
        "countersign it.")
    countersigning.countersign(session, people.assessor2, [decision])
    assert refusal(people.assessor2, decision) == (
        "The decision on unit 1 criterion 1.1 is already countersigned, by Assessor2.")
    assert count_rows(session, Countersignature) == 1


def test_a_decision_that_needs_none_or_was_replaced_is_refused(session, people, diploma):
    [decision] = decide(session, diploma.item, people.assessor1, diploma.criteria[:1])
    decide(session, diploma.item, people.assessor1, diploma.criteria[:1], reason="Looked again")
    with pytest.raises(AssessmentError, match="has been replaced since"):
        countersigning.countersign(session, people.assessor2, [decision])
    decision.needs_countersignature = False
    with pytest.raises(AssessmentError, match="needs no countersignature"):
        countersigning.countersign(session, people.assessor2, [decision])


def test_the_database_keeps_one_countersignature_per_record(session, people, diploma):
    """Two submits at once both pass the service's check before either commits: the unique
    index refuses the second (the web edge answers it as a conflict)."""
    [decision] = decide(session, diploma.item, people.assessor1, diploma.criteria[:1])
    session.add(Countersignature(decision_id=decision.id, by_id=people.assessor2.id))
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Countersignature(decision_id=decision.id, by_id=people.iqa2.id))
        session.flush()


def test_the_list_is_the_centre_s_awaiting_records_never_the_viewer_s_own(
        session, people, diploma):
    [decision] = decide(session, diploma.item, people.assessor1, diploma.criteria[:1])
    assert countersigning.awaiting_for(session, people.assessor1) == ([], [])  # not qualified
    decisions, sign_offs = countersigning.awaiting_for(session, people.assessor2)
    assert [r.decision for r in decisions] == [decision] and sign_offs == []
    assert (decisions[0].what, decisions[0].maker) == ("unit 1 criterion 1.1", people.assessor1)
    countersigning.countersign(session, people.assessor2, [decision])
    assert countersigning.awaiting_for(session, people.assessor2) == ([], [])
