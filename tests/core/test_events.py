"""Named events: receivers in the sender's transaction (the audit trail among them), after-commit
receivers only once the change is durable, and a sentence for each stored occurrence."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from portfolio.accounts.models import Centre
from portfolio.core.audit import AuditEvent
from portfolio.core.events import Event, describe

_names = itertools.count()


def event(describe_as="did {thing}") -> Event:
    return Event(f"test.event_{next(_names)}", describe_as)


def audit_rows(session, name):
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == name)))


def test_an_event_is_audited_in_the_senders_transaction(session):
    happened = event()
    centre = Centre(name="Events College")
    session.add(centre)
    session.flush()
    happened.emit(session, centre_id=centre.id, subject=centre, thing="a thing")
    session.rollback()
    assert audit_rows(session, happened.name) == []

    happened.emit(session, thing="it again")
    session.commit()
    [row] = audit_rows(session, happened.name)
    assert row.data == {"thing": "it again"} and row.sentence == "did it again"


def test_receivers_run_in_the_transaction_and_after_commit_only_once_committed(session):
    happened = event()
    seen_inside, seen_after = [], []
    happened.connect(lambda s, occurrence: seen_inside.append(s().in_transaction()))
    happened.connect_after_commit(lambda occurrence: seen_after.append(occurrence.data))

    happened.emit(session, thing="rolled back")
    session.rollback()
    assert seen_inside == [True] and seen_after == []

    happened.emit(session, thing="kept")
    assert seen_after == []
    session.commit()
    assert seen_after == [{"thing": "kept"}]


def test_sentences_tolerate_missing_data_and_unknown_events():
    happened = event("judged {criterion} {outcome}")
    assert describe(happened.name, {"criterion": "1.1"}) == "judged 1.1 ?"
    assert describe("gone.away_now", {}) == "gone away now"
    worded = event(lambda data: f"{len(data)} things")
    assert describe(worded.name, {"a": 1, "b": 2}) == "2 things"


def test_an_event_name_is_declared_once():
    happened = event()
    with pytest.raises(ValueError, match="declared twice"):
        Event(happened.name, "again")
