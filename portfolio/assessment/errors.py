"""Refusals of the assessment feature."""

from __future__ import annotations

from portfolio.core.errors import Conflict, DomainError


class AssessmentError(DomainError):
    """A request refused with a message for the person who made it."""


class DecisionConflict(AssessmentError, Conflict):
    """Someone else decided the same criterion first."""
