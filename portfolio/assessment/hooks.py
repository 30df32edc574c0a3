"""What the assessment feature asks of the features built on it (they answer when imported)."""

from __future__ import annotations

from dataclasses import dataclass

from portfolio.core.hooks import Hook

#: ``check(session, enrolment, unit_id)`` raises a DomainError to refuse signing off a unit or
#: recording it achieved (quality: an open IQA action on the unit's sample).
sign_off_checks = Hook("assessment.sign_off_checks")


@dataclass(frozen=True)
class UnitNote:
    """A line on a unit's row of the progress page, with a link when it leads somewhere."""

    text: str
    link: str | None = None
    #: A class for the line: ``warning`` draws attention, ``action`` offers something to do.
    kind: str = "warning"


#: ``notes(session, viewer, enrolment)`` answers ``{unit id: [UnitNote, ...]}`` for the progress
#: page's unit rows (quality: an open IQA action; sampling a unit, for its IQA).
unit_notes = Hook("assessment.unit_notes")
