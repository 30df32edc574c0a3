"""A centre's sampling strategy: the cycle, the share of each assessor band's learner x unit
pairs to sample per cycle, the interim/summative split, and whether every unit of a qualification
new to the centre is sampled.

Settings a centre admin edits, kept append-only: each save adds a revision and the latest is in
force; until the first save the defaults below apply. An assessor's band comes from their staff
record (``accounts.staff.current_standing``); with no record they are held to the strictest
band, and the pages say the record is missing."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import asdict, dataclass, fields

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portfolio.accounts.models import User
from portfolio.accounts.staff import current_standing
from portfolio.core.db import Base, UTCDateTime, utcnow
from portfolio.core.errors import DomainError
from portfolio.quality.plan_events import strategy_revised

#: The assessor bands, strictest first.
BANDS = {"working_towards": "Working towards", "new": "New", "experienced": "Experienced"}


class StrategyRefused(DomainError):
    """A refused answer of the strategy form: the page shows it next to ``field``."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months, kept within the month it lands in."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Strategy:
    """The settings in force, as plain values (the generator needs nothing else)."""

    #: Length of a sampling cycle in months.
    cycle_months: int = 12
    #: The month and day a cycle starts (the day at most 28, so every month has it).
    cycle_start_month: int = 9
    cycle_start_day: int = 1
    #: An assessor qualified less than this many months ago is "new".
    new_assessor_months: int = 12
    #: The share, in per cent, of each band's learner x unit pairs to sample per cycle.
    working_towards_percent: int = 100
    new_percent: int = 100
    experienced_percent: int = 25
    #: The share of planned samples at the interim stage (the rest summative).
    interim_percent: int = 50
    #: Whether every learner x unit pair of a qualification new to the centre is sampled.
    every_unit_of_new_qualification: bool = True

    def rate(self, band: str) -> int:
        return getattr(self, f"{band}_percent")

    def cycle_containing(self, day: dt.date) -> tuple[dt.date, dt.date]:
        """The first day of the cycle ``day`` falls in, and the day after its last."""
        start = dt.date(day.year, self.cycle_start_month, self.cycle_start_day)
        while start > day:
            start = add_months(start, -self.cycle_months)
        while add_months(start, self.cycle_months) <= day:
            start = add_months(start, self.cycle_months)
        return start, add_months(start, self.cycle_months)

    def cycle_starting(self, start: dt.date) -> tuple[dt.date, dt.date]:
        return start, add_months(start, self.cycle_months)

    def is_cycle_start(self, day: dt.date) -> bool:
        return self.cycle_containing(day)[0] == day


DEFAULTS = Strategy()


class SamplingStrategy(Base):
    """One revision of a centre's sampling strategy; the latest is in force."""

    __tablename__ = "sampling_strategies"
    __table_args__ = (
        sa.Index("ix_sampling_strategies_centre_id_id", "centre_id", "id"),
        sa.CheckConstraint("cycle_months BETWEEN 1 AND 36", name="cycle_length"),
        sa.CheckConstraint("cycle_start_month BETWEEN 1 AND 12 AND cycle_start_day BETWEEN 1 "
                           "AND 28", name="cycle_start"),
        sa.CheckConstraint("working_towards_percent BETWEEN 0 AND 100 AND new_percent BETWEEN 0 "
                           "AND 100 AND experienced_percent BETWEEN 0 AND 100 AND "
                           "interim_percent BETWEEN 0 AND 100", name="percentages"),
    )

    #: Primary key; a centre's revisions read in this order.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The centre.
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"))
    #: Length of a sampling cycle in months.
    cycle_months: Mapped[int]
    #: The month a cycle starts.
    cycle_start_month: Mapped[int]
    #: The day of that month.
    cycle_start_day: Mapped[int]
    #: An assessor qualified less than this many months ago is "new".
    new_assessor_months: Mapped[int]
    #: Share, in per cent, of a working-towards assessor's learner x unit pairs per cycle.
    working_towards_percent: Mapped[int]
    #: Of a new assessor's.
    new_percent: Mapped[int]
    #: Of an experienced assessor's.
    experienced_percent: Mapped[int]
    #: Share of planned samples at the interim stage.
    interim_percent: Mapped[int]
    #: Whether every pair of a qualification new to the centre is sampled.
    every_unit_of_new_qualification: Mapped[bool] = mapped_column(server_default=sa.false())
    #: The admin who saved it.
    made_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    made_by: Mapped[User] = relationship()

    @property
    def settings(self) -> Strategy:
        return Strategy(**{f.name: getattr(self, f.name) for f in fields(Strategy)})

    def __repr__(self) -> str:
        return f"<SamplingStrategy {self.id} centre={self.centre_id}>"


def strategy_history(session: Session, centre_id: int) -> list[SamplingStrategy]:
    """Every revision of the centre's strategy, latest (the one in force) first."""
    return list(session.scalars(sa.select(SamplingStrategy).where(
        SamplingStrategy.centre_id == centre_id).order_by(SamplingStrategy.id.desc())))


def strategy_in_force(session: Session, centre_id: int) -> Strategy:
    latest = session.scalars(sa.select(SamplingStrategy).where(
        SamplingStrategy.centre_id == centre_id).order_by(SamplingStrategy.id.desc())
        .limit(1)).first()
    return latest.settings if latest else DEFAULTS


_PERCENTAGES = ("working_towards_percent", "new_percent", "experienced_percent",
                "interim_percent")


def _check(new: Strategy) -> None:
    if not 1 <= new.cycle_months <= 36:
        raise StrategyRefused("cycle_months", "A cycle lasts from 1 to 36 months.")
    if not 1 <= new.cycle_start_month <= 12:
        raise StrategyRefused("cycle_start_month", "Choose a month.")
    if not 1 <= new.cycle_start_day <= 28:
        raise StrategyRefused("cycle_start_day", "Choose a day from 1 to 28, which every month "
                                                 "has.")
    if not 1 <= new.new_assessor_months <= 120:
        raise StrategyRefused("new_assessor_months", "Give from 1 to 120 months.")
    for name in _PERCENTAGES:
        if not 0 <= getattr(new, name) <= 100:
            raise StrategyRefused(name, "Give a share from 0 to 100 per cent.")
    if new.working_towards_percent < new.experienced_percent:
        raise StrategyRefused("working_towards_percent", "Sample an assessor still working "
                                                         "towards their qualification at least "
                                                         "as much as an experienced one.")


def revise_strategy(session: Session, centre_id: int, actor: User, new: Strategy
                    ) -> SamplingStrategy:
    """Put ``new`` in force for the centre, as a revision after the current one."""
    if not actor.holds("centre_admin", centre_id):
        raise DomainError("Only the centre's admins set its sampling strategy.")
    _check(new)
    if new == strategy_in_force(session, centre_id):
        raise StrategyRefused("cycle_months", "That is the strategy in force: nothing changed.")
    revision = SamplingStrategy(centre_id=centre_id, made_by_id=actor.id, **asdict(new))
    session.add(revision)
    session.flush()
    strategy_revised.emit(session, actor=actor, centre_id=centre_id, subject=revision,
                          **asdict(new))
    return revision


@dataclass(frozen=True)
class Band:
    """An assessor's band for a qualification on a day, and its rate."""

    name: str
    rate: int
    #: No staff record: held to the strictest band.
    record_missing: bool = False

    @property
    def label(self) -> str:
        return BANDS[self.name]


def band_of(session: Session, strategy: Strategy, assessor_id: int, qualification_id: int,
            on: dt.date) -> Band:
    """The band from the assessor's staff record in force on ``on``; with none, the band with
    the highest rate (the strictest)."""
    record = current_standing(session, assessor_id, qualification_id, "assessor", on)
    if record is None:
        strictest = max(BANDS, key=lambda band: (strategy.rate(band), -list(BANDS).index(band)))
        return Band(strictest, strategy.rate(strictest), record_missing=True)
    if record.status == "working_towards":
        name = "working_towards"
    elif add_months(record.in_force_from, strategy.new_assessor_months) > on:
        name = "new"
    else:
        name = "experienced"
    return Band(name, strategy.rate(name))
