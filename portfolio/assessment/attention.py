"""The caseload in the order of what needs the assessor: evidence waiting (oldest first), then
units ready to sign off, then learners quiet for a while, then everyone else; each row says in
words why it stands where it does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portfolio.assessment.caseload import CaseloadRow
from portfolio.core.dates import short_date

#: A learner with no activity for this long is worth a word from the assessor.
QUIET_AFTER = dt.timedelta(days=30)
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Attention:
    #: 0 evidence waiting, 1 units ready, 2 quiet, 3 the rest.
    rank: int
    reason: str
    #: Orders rows of the same rank.
    tiebreak: tuple


def attention(row: CaseloadRow, now: dt.datetime) -> Attention:
    if row.awaiting:
        items = f"{row.awaiting} item" + ("" if row.awaiting == 1 else "s")
        return Attention(0, f"Evidence waiting since {short_date(row.oldest_awaiting)} "
                            f"({items})", (row.oldest_awaiting, row.enrolment.id))
    if row.units_ready:
        units = f"{row.units_ready} unit" + (" is" if row.units_ready == 1 else "s are")
        return Attention(1, f"{units} ready to sign off", (-row.units_ready, _name(row)))
    if row.last_activity is None or now - row.last_activity >= QUIET_AFTER:
        since = (f"since {short_date(row.last_activity)}" if row.last_activity
                 else "at all yet")
        return Attention(2, f"No activity for 30 days or more: nothing {since}",
                         (row.last_activity or _NEVER, _name(row)))
    return Attention(3, "Up to date: nothing waits for you", (_name(row),))


def by_attention(rows: list[CaseloadRow], now: dt.datetime
                 ) -> list[tuple[CaseloadRow, Attention]]:
    ranked = [(row, attention(row, now)) for row in rows]
    ranked.sort(key=lambda pair: (pair[1].rank, pair[1].tiebreak))
    return ranked


def _name(row: CaseloadRow) -> str:
    return row.enrolment.learner.name.lower()
