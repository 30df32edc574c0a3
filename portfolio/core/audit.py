"""The append-only audit trail, written by services in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from portfolio.core.db import Base, UTCDateTime, utcnow


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

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.object_type}:{self.object_id}>"


def record(session: Session, action: str, *, actor=None, centre_id: int | None = None,
           learner_id: int | None = None, obj=None, object_type: str | None = None,
           data: dict[str, Any] | None = None, address: str | None = None) -> AuditEvent:
    """Add an audit event to the session; the caller's commit makes it and the change durable."""
    if obj is not None:
        object_type = object_type or obj.__tablename__.rstrip("s")
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        centre_id=centre_id if centre_id is not None else getattr(actor, "centre_id", None),
        learner_id=learner_id,
        object_type=object_type,
        object_id=getattr(obj, "id", None),
        data=data or {},
        address=address,
    )
    session.add(event)
    return event


@sa.event.listens_for(Session, "before_flush")
def _refuse_changes(session, flush_context, instances):
    for instance in list(session.dirty) + list(session.deleted):
        if isinstance(instance, AuditEvent):
            raise PermissionError("audit events are append-only")
