"""An action's life: the owner responds, the IQA closes and reopens it, each an entry appended
and audited, the other side told; and while it is open the unit cannot be signed off."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.assessment.units import declare_unit, record_prior_achievement, sign_off_unit
from portfolio.core.audit import AuditEvent
from portfolio.notifications.models import Notification
from portfolio.quality import actions
from portfolio.quality.errors import QualityError
from portfolio.quality.models import ActionEntry
from tests.helpers.assessment import unit_node
from tests.helpers.sampling import ACTION, judged_unit, sample_with_action


@pytest.fixture()
def raised(session, people):
    """Unit 204 of learner1 met throughout and declared, sampled by iqa1 with an action for
    assessor1; returns the action."""
    item, decisions = judged_unit(session, people.enrolment1, people.assessor1)
    unit_id = decisions[0].unit_id
    declare_unit(session, people.enrolment1, unit_id, people.learner1)
    sample = sample_with_action(session, people.iqa1, people.enrolment1, unit_id, decisions,
                                [item], days=10)
    return sample.actions[0]


def _told(session, kind="sample_action"):
    return [(n.recipient_id, n.text) for n in session.scalars(
        sa.select(Notification).where(Notification.kind == kind).order_by(Notification.id))]


def test_respond_close_and_reopen_append_entries(session, people, raised):
    actions.respond(session, raised, people.assessor1, "  Witness statement added.  ")
    actions.close(session, raised, people.iqa1, "Checked the statement.")
    assert raised.closed
    with pytest.raises(QualityError, match="closed: ask the IQA to reopen"):
        actions.respond(session, raised, people.assessor1, "More.")
    with pytest.raises(QualityError, match="already closed"):
        actions.close(session, raised, people.iqa1)
    with pytest.raises(QualityError, match="Say why"):
        actions.reopen(session, raised, people.iqa1, " ")
    actions.reopen(session, raised, people.iqa1, "The statement is unsigned.")
    assert not raised.closed
    with pytest.raises(QualityError, match="open already"):
        actions.reopen(session, raised, people.iqa1, "Again.")
    with pytest.raises(QualityError, match="Say what you have done"):
        actions.respond(session, raised, people.assessor1, "")
    entries = session.scalars(sa.select(ActionEntry).order_by(ActionEntry.id)).all()
    assert [(e.kind, e.by_id, e.text) for e in entries] == [
        ("response", people.assessor1.id, "Witness statement added."),
        ("closed", people.iqa1.id, "Checked the statement."),
        ("reopened", people.iqa1.id, "The statement is unsigned.")]
    assert [a for (a,) in session.execute(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("sample_action.%"))
        .order_by(AuditEvent.id))] == ["sample_action.responded", "sample_action.closed",
                                       "sample_action.reopened"]
    # The response tells the IQA; closing and reopening tell the owner; nobody their own.
    assert [r for r, _ in _told(session)] == [people.iqa1.id, people.assessor1.id,
                                              people.assessor1.id]
    assert "Assessor1 responded to IQA action" in _told(session)[0][1]


def test_an_open_action_blocks_sign_off_until_closed(session, people, raised):
    enrolment, unit_id = people.enrolment1, raised.sample.unit_id
    with pytest.raises(QualityError) as refused:
        sign_off_unit(session, enrolment, unit_id, people.assessor1)
    message = str(refused.value)
    assert message.startswith("Unit 204 cannot be signed off while it has an open IQA action")
    assert f"“{ACTION}” for Assessor1, due " in message and "raised by Iqa1" in message
    with pytest.raises(QualityError, match="cannot be signed off"):
        record_prior_achievement(session, enrolment, unit_id, people.assessor1, "rpl",
                                 "Certificate")
    assert actions.open_actions_by_unit(session, enrolment.id) == {unit_id: [raised]}
    actions.close(session, raised, people.iqa1)
    assert actions.open_actions_by_unit(session, enrolment.id) == {}
    assert sign_off_unit(session, enrolment, unit_id, people.assessor1).unit_id == unit_id


def test_open_actions_are_by_unit_and_learner(session, people, raised):
    other_unit = unit_node(session, people.enrolment1, "301").id
    assert actions.open_actions_by_unit(session, people.enrolment2.id) == {}
    assert other_unit not in actions.open_actions_by_unit(session, people.enrolment1.id)
