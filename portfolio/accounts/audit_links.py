"""Where the thing an audit event is about can be seen: the trail links each event to its
evidence item or enrolment, and each learner to their page. Endpoints are named, not imported,
so the trail in accounts links to evidence without depending on it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from portfolio.core.audit import AuditEvent


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def _evidence(item_id: int, title: str | None = None) -> Link:
    label = f"Evidence “{title}”" if title else f"Evidence #{item_id}"
    return Link(label, url_for("evidence.show", item_id=item_id))


def thing_link(event: AuditEvent) -> Link | None:
    """The page of what ``event`` changed, when it has one: an evidence item (a decision's is
    the item judged), an enrolment, an IQA sample (an action's entry's is its sample) or a
    standardisation activity."""
    if event.object_id is None:
        return None
    if event.object_type == "evidence_item":
        return _evidence(event.object_id, event.data.get("title"))
    if event.object_type == "decision" and event.data.get("item_id"):
        return _evidence(event.data["item_id"])
    if event.object_type == "enrolment":
        return Link("Enrolment record", url_for("enrolments.show", enrolment_id=event.object_id))
    if event.object_type == "sample":
        return Link(f"IQA sample #{event.object_id}",
                    url_for("quality.sample", sample_id=event.object_id))
    if event.object_type == "action_entry" and event.data.get("sample_id"):
        return Link(f"IQA sample #{event.data['sample_id']}",
                    url_for("quality.sample", sample_id=event.data["sample_id"]))
    if (event.object_type or "").startswith("standardisation") and event.data.get("activity_id"):
        return Link("Standardisation", url_for("standardisation.show",
                                               activity_id=event.data["activity_id"]))
    return None


def learner_link(event: AuditEvent, names: dict[int, str]) -> Link | None:
    """The learner whose record changed, linked to their page in the centre."""
    if event.learner_id is None or event.learner_id not in names:
        return None
    return Link(names[event.learner_id], url_for("people.show", user_id=event.learner_id))
