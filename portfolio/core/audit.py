"""The append-only audit trail: every domain event, written in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from portfolio.core.dates import date_time, long_date
from portfolio.core.db import Base, UTCDateTime, utcnow
from portfolio.core.events import Occurrence, connect_every_event, describe


class AuditEvent(Base):
    """One change, never updated or deleted (enforced in :func:`_refuse_changes`)."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_centre_id_at", "centre_id", "at"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: When the change was made.
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who made it; empty for anonymous events such as a failed login for an unknown account.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: The centre whose data changed, so admins see only their own.
    centre_id: Mapped[int | None] = mapped_column(sa.ForeignKey("centres.id"))
    #: The learner whose record changed, for filtering by learner.
    learner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: What happened, e.g. ``evidence.created``.
    action: Mapped[str] = mapped_column(sa.String(60))
    #: Kind of object changed, e.g. ``evidence_item``.
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    #: Id of the object changed.
    object_id: Mapped[int | None]
    #: Before/after values and context.
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: Client address, when the change came from a request.
    address: Mapped[str | None] = mapped_column(sa.String(64))

    @property
    def sentence(self) -> str:
        """What happened, in words (the actor is shown beside it)."""
        return describe(self.action, {"object_id": self.object_id, **readable(self.data)})

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.object_type}:{self.object_id}>"


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def readable(value: Any) -> Any:
    """``value`` with the ISO dates and times that events store (JSON has no date type) as UK
    readers expect them: "2 December 2026", "2 Dec 2026, 14:05" in London time. Recurses into
    the before/after mappings and lists some events carry."""
    if isinstance(value, dict):
        return {key: readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item) for item in value]
    if isinstance(value, str):
        if _ISO_DATE.fullmatch(value):
            return long_date(dt.date.fromisoformat(value))
        if _ISO_TIME.fullmatch(value):
            moment = dt.datetime.fromisoformat(value)
            return date_time(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
    return value


@connect_every_event
def record(session: Session, occurrence: Occurrence) -> None:
    """Every domain event becomes an audit row in the sender's transaction: the change and its
    record commit or roll back together."""
    session.add(AuditEvent(
        action=occurrence.name, actor_id=occurrence.actor_id, centre_id=occurrence.centre_id,
        learner_id=occurrence.learner_id, object_type=occurrence.object_type,
        object_id=occurrence.object_id, data=occurrence.data, address=occurrence.address))


@sa.event.listens_for(Session, "before_flush")
def _refuse_changes(session, flush_context, instances):
    for instance in list(session.dirty) + list(session.deleted):
        if isinstance(instance, AuditEvent):
            raise PermissionError("audit events are append-only")
