"""What the evidence feature asks of the features built on it (they answer when imported)."""

from __future__ import annotations

from portfolio.core.hooks import Hook

#: ``check(session, enrolment, unit_ids)`` raises a DomainError to refuse new claims on criteria
#: of those units (assessment: a signed-off unit takes no more evidence).
claim_checks = Hook("evidence.claim_checks")

#: ``decisions(session, item)`` answers ``{criterion id: [decisions on it for this item, oldest
#: first]}`` (assessment).
item_decisions = Hook("evidence.item_decisions")

#: ``statuses(enrolment_id, item_ids=None)`` answers a subquery of ``(item_id, status)`` over
#: the enrolment's items (those of ``item_ids``, a list, when given; either may be a bound
#: parameter, so that the list's statement is built once), the status
#: one of the keys of :data:`portfolio.evidence.listing.ITEM_STATUSES` other than ``withdrawn``
#: (assessment, from its decisions).
item_statuses = Hook("evidence.item_statuses")

#: ``statuses(session, enrolment)`` answers ``{criterion id: "met" or "awaiting"}`` for the
#: criteria of the enrolment already met or awaiting a decision (assessment).
criterion_statuses = Hook("evidence.criterion_statuses")
