"""Named domain events: what happened, said once by the service that did it.

A feature declares its events (``evidence_created = Event("evidence.created", ...)``) and its
services emit them after changing the database. Receivers never need the sender's package:

- receivers of every event, such as the audit trail, and receivers of one event run at once, in
  the sender's transaction, so what they write commits or rolls back with the change;
- after-commit receivers run only once the change is durable, with the occurrence's plain
  values, never ORM objects. (Notifications are made in the sender's transaction instead, so
  that they and their outbox mail commit or roll back with the change.)

Each event also says how to describe an occurrence in a sentence, for the audit trail viewer.
"""

from __future__ import annotations

import functools
import logging
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from portfolio.core.transaction import after_commit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Occurrence:
    """One emitted event with its context; ``data`` holds JSON-ready values only."""

    name: str
    actor_id: int | None
    centre_id: int | None
    learner_id: int | None
    object_type: str | None
    object_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    address: str | None = None


Receiver = Callable[[Session, Occurrence], None]
AfterCommitReceiver = Callable[[Occurrence], None]
Describe = Callable[[Mapping[str, Any]], str]

_events: dict[str, Event] = {}
_every_event: list[Receiver] = []


class _Blank(dict):
    def __missing__(self, key):
        return "?"


class Event:
    """A named event. ``describe`` is a sentence template over the occurrence's data (``"withdrew
    evidence “{title}”"``) or a function of the data returning the sentence."""

    def __init__(self, name: str, describe: str | Describe):
        if name in _events:
            raise ValueError(f"event {name!r} is declared twice")
        self.name = name
        self._describe = describe
        self._receivers: list[Receiver] = []
        self._after_commit: list[AfterCommitReceiver] = []
        _events[name] = self

    def __repr__(self) -> str:
        return f"<Event {self.name}>"

    def connect(self, receiver: Receiver) -> Receiver:
        """Run ``receiver(session, occurrence)`` in the sender's transaction."""
        self._receivers.append(receiver)
        return receiver

    def connect_after_commit(self, receiver: AfterCommitReceiver) -> AfterCommitReceiver:
        """Run ``receiver(occurrence)`` once the sender's transaction has committed."""
        self._after_commit.append(receiver)
        return receiver

    def describe(self, data: Mapping[str, Any]) -> str:
        if callable(self._describe):
            return self._describe(data)
        return string.Formatter().vformat(self._describe, (), _Blank(data))

    def emit(self, session: Session, *, actor=None, centre_id: int | None = None,
             learner_id: int | None = None, subject=None, object_type: str | None = None,
             address: str | None = None, **data: Any) -> Occurrence:
        """Tell every receiver. ``subject`` is the object changed (flushed, so it has an id);
        the centre defaults to the actor's."""
        if subject is not None and object_type is None:
            object_type = subject.__tablename__.removesuffix("s")
        occurrence = Occurrence(
            name=self.name, actor_id=getattr(actor, "id", None),
            centre_id=centre_id if centre_id is not None else getattr(actor, "centre_id", None),
            learner_id=learner_id, object_type=object_type,
            object_id=getattr(subject, "id", None), data=data, address=address)
        logger.info("%s %s #%s by user %s", self.name, object_type, occurrence.object_id,
                    occurrence.actor_id)
        for receiver in (*_every_event, *self._receivers):
            receiver(session, occurrence)
        for late in self._after_commit:
            after_commit(session, functools.partial(late, occurrence))
        return occurrence


def connect_every_event(receiver: Receiver) -> Receiver:
    """Run ``receiver(session, occurrence)`` for every event, in the sender's transaction."""
    _every_event.append(receiver)
    return receiver


def describe(name: str, data: Mapping[str, Any]) -> str:
    """A sentence for a stored occurrence; an event no longer declared shows its name."""
    event = _events.get(name)
    return event.describe(data) if event else name.replace(".", " ").replace("_", " ")
