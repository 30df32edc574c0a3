"""What the evidence feature asks of the features built on it (they answer when imported)."""

from __future__ import annotations

from portfolio.core.hooks import Hook

#: ``check(session, enrolment, unit_ids)`` raises a DomainError to refuse new claims on criteria
#: of those units (assessment: a signed-off unit takes no more evidence).
claim_checks = Hook("evidence.claim_checks")

#: ``decisions(session, item)`` answers ``{criterion id: [decisions on it for this item, oldest
#: first]}`` (assessment).
item_decisions = Hook("evidence.item_decisions")
