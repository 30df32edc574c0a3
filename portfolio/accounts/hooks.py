"""What the accounts feature asks of the features built on it (they answer when imported)."""

from __future__ import annotations

from portfolio.core.hooks import Hook

#: ``check(session, enrolment)`` raises a DomainError to refuse completing an enrolment
#: (assessment: no evidence may still await a decision).
completion_checks = Hook("accounts.completion_checks")
