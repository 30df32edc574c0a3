"""Refusals of the quality feature."""

from __future__ import annotations

from portfolio.core.errors import DomainError


class QualityError(DomainError):
    """A request refused with a message for the person who made it."""


class SampleRefused(QualityError):
    """Answers of the sample form that cannot be recorded, each with its reason, by the form's
    field name; nothing of the sample is recorded."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        count = len(problems)
        super().__init__(f"Nothing was recorded: {count} "
                         f"{'answer needs' if count == 1 else 'answers need'} changing. "
                         f"Everything you entered is kept below.")
