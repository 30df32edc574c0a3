"""The one base class for refusals that a person can act on."""

from __future__ import annotations


class DomainError(ValueError):
    """A request refused by a rule of the domain; the message is for the person who made it.

    The web edge (:func:`portfolio.core.web.committing`) rolls the transaction back and shows the
    message; the command line prints it and exits 2.
    """

    #: The refusal is itself a record to keep (a failed login counts towards throttling), so the
    #: edge commits instead of rolling back.
    keeps_changes: bool = False


class Conflict(DomainError):
    """Someone else changed the same thing first; nothing of this request was saved."""
