"""The sampling trail: what an external quality assurer inspects of a centre's internal quality
assurance over a period, per assessor and qualification.

For each assessor x qualification: planned samples due in the period (those no revision removed)
against those carried out, ad-hoc samples, the outcomes of the samples recorded in the period,
the actions still open (and overdue) from samples recorded up to its end, CAMERA coverage (of
the learners, assessors, methods, units, records and settings of the decisions made in the
period, those that a sample recorded in the period looked at) and what still waits for a
countersignature (decisions and sign-offs made in the period, samples recorded in it). Then the
same over the whole selection.

Every figure comes from a set-based query grouped by assessor and qualification, so a trail
costs the same dozen statements for a centre of ten learners or ten thousand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import Centre, Enrolment, User
from portfolio.assessment.models import Countersignature, Decision, UnitSignOff, UnitUnlock
from portfolio.catalogue.models import Qualification
from portfolio.core.dates import LONDON
from portfolio.core.db import utcnow
from portfolio.evidence.models import EvidenceItem
from portfolio.quality.models import (
    SAMPLE_OUTCOMES,
    PlannedSample,
    SampleAction,
    SampleCountersignature,
    SampledDecision,
    SamplingPlan,
)
from portfolio.quality.models import Sample as SampleRecord

#: CAMERA's dimensions, as the trail names them.
COVERAGE = {"learners": "Learners", "assessors": "Assessors", "methods": "Methods",
            "units": "Units", "records": "Records (decisions)", "settings": "Settings"}


@dataclass(frozen=True)
class Period:
    """UK days from ``starts_on`` to ``ends_on``, both included."""

    starts_on: dt.date
    ends_on: dt.date

    @classmethod
    def choose(cls, starts_on: dt.date | None, ends_on: dt.date | None,
               today: dt.date) -> Period:
        """The days asked for; a missing end is today, a missing start a year before the end.
        Raises :class:`ValueError` with a sentence for a period that ends before it starts."""
        ends_on = ends_on or today
        starts_on = starts_on or _year_before(ends_on) + dt.timedelta(days=1)
        if starts_on > ends_on:
            raise ValueError(f"The period cannot start ({starts_on:%d/%m/%Y}) after it ends "
                             f"({ends_on:%d/%m/%Y}).")
        return cls(starts_on, ends_on)

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.starts_on, dt.time(), tzinfo=LONDON)

    @property
    def ends_at(self) -> dt.datetime:
        """The first moment after the period (midnight in London after its last day)."""
        return dt.datetime.combine(self.ends_on + dt.timedelta(days=1), dt.time(), tzinfo=LONDON)

    def holds(self, column) -> sa.ColumnElement:
        return sa.and_(column >= self.starts_at, column < self.ends_at)


def _year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (28 February for 29 February)."""
    return day.replace(year=day.year - 1, day=min(day.day, 28) if day.month == 2 else day.day)


@dataclass(frozen=True)
class TrailQuery:
    """Whose trail: a centre over a period, optionally one qualification and one assessor.
    ``today`` decides which open actions are overdue."""

    centre_id: int
    period: Period
    today: dt.date
    qualification_id: int | None = None
    assessor_id: int | None = None


@dataclass
class Coverage:
    sampled: int = 0
    total: int = 0

    def __str__(self) -> str:
        return f"{self.sampled} of {self.total}"


@dataclass
class Figures:
    """One line of the trail. Counts add up over lines; coverage does not (one learner can be
    assessed by two assessors), so the totals' coverage is counted over the whole selection."""

    planned: int = 0
    planned_done: int = 0
    ad_hoc: int = 0
    samples: int = 0
    agree: int = 0
    agree_with_feedback: int = 0
    action_required: int = 0
    open_actions: int = 0
    overdue_actions: int = 0
    decisions_pending: int = 0
    sign_offs_pending: int = 0
    samples_pending: int = 0
    coverage: dict[str, Coverage] = field(
        default_factory=lambda: {name: Coverage() for name in COVERAGE})

    def add(self, other: Figures) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


#: The additive figures, in the order the CSV and the PDF print them.
COUNTS = tuple(f.name for f in fields(Figures) if f.name != "coverage")


@dataclass
class TrailLine:
    assessor_id: int | None
    assessor: str
    qualification_id: int | None
    qualification: str
    figures: Figures


@dataclass
class Trail:
    centre: str
    query: TrailQuery
    qualification: str
    assessor: str
    generated_at: dt.datetime
    lines: list[TrailLine]
    totals: Figures


def today_in_london() -> dt.date:
    return utcnow().astimezone(LONDON).date()


def sampling_trail(session: Session, query: TrailQuery) -> Trail:
    """The trail of ``query``: a line per assessor x qualification with anything in the period,
    in order of assessor and qualification, and the totals."""
    lines: dict[tuple[int, int], Figures] = {}

    def figures(key) -> Figures:
        return lines.setdefault(tuple(key), Figures())

    for assessor_id, qualification_id, planned, done in session.execute(_planned(query)):
        line = figures((assessor_id, qualification_id))
        line.planned, line.planned_done = planned, done
    for key, *counts in _rows(session, _samples(query)):
        line = figures(key)
        (line.samples, line.ad_hoc, line.agree, line.agree_with_feedback, line.action_required,
         line.samples_pending) = counts
    for key, open_actions, overdue in _rows(session, _actions(query)):
        figures(key).open_actions, figures(key).overdue_actions = open_actions, overdue
    for key, pending in _rows(session, _sign_offs_pending(query)):
        figures(key).sign_offs_pending = pending
    whole = ()
    for key, pending, *counts in _rows(session, _coverage(query)):
        if key == (None, None):
            whole = counts
            continue
        figures(key).decisions_pending = pending
        _cover(figures(key), counts)

    totals = Figures()
    for line in lines.values():
        totals.add(line)
    _cover(totals, whole)

    names = _names(session, User, User.name, {a for a, _ in lines} | {query.assessor_id})
    numbers = _names(session, Qualification, Qualification.qualification_number,
                     {q for _, q in lines} | {query.qualification_id})
    ordered = sorted(lines.items(), key=lambda kv: (names[kv[0][0]], numbers[kv[0][1]]))
    return Trail(
        centre=session.get(Centre, query.centre_id).name, query=query,
        qualification=numbers.get(query.qualification_id, "All qualifications"),
        assessor=names.get(query.assessor_id, "All assessors"), generated_at=utcnow(),
        lines=[TrailLine(a, names[a], q, numbers[q], f) for (a, q), f in ordered],
        totals=totals)


def _rows(session: Session, statement) -> Iterator[tuple]:
    """Rows whose first two columns are the (assessor, qualification) key."""
    for assessor_id, qualification_id, *rest in session.execute(statement):
        yield (assessor_id, qualification_id), *rest


def _names(session: Session, model, column, ids: set[int | None]) -> dict[int, str]:
    ids.discard(None)
    if not ids:
        return {}
    return dict(session.execute(sa.select(model.id, column).where(model.id.in_(ids))).all())


def _count_where(condition) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _planned(query: TrailQuery):
    """Active planned samples due in the period, and those a sample recorded by its end carried
    out (at most one sample carries out a planned sample)."""
    scope = [SamplingPlan.centre_id == query.centre_id, PlannedSample.removed_in_id.is_(None),
             PlannedSample.due_on >= query.period.starts_on,
             PlannedSample.due_on <= query.period.ends_on]
    if query.qualification_id:
        scope.append(SamplingPlan.qualification_id == query.qualification_id)
    if query.assessor_id:
        scope.append(SamplingPlan.assessor_id == query.assessor_id)
    keys = (SamplingPlan.assessor_id, SamplingPlan.qualification_id)
    return (sa.select(*keys, sa.func.count(PlannedSample.id), sa.func.count(SampleRecord.id))
            .join(SamplingPlan, SamplingPlan.id == PlannedSample.plan_id)
            .outerjoin(SampleRecord, sa.and_(SampleRecord.planned_sample_id == PlannedSample.id,
                                             SampleRecord.recorded_at < query.period.ends_at))
            .where(*scope).group_by(*keys))


def sample_scope(query: TrailQuery, period: bool = True) -> list[sa.ColumnElement]:
    scope = [SampleRecord.centre_id == query.centre_id,
             query.period.holds(SampleRecord.recorded_at) if period
             else SampleRecord.recorded_at < query.period.ends_at]
    if query.qualification_id:
        scope.append(SampleRecord.qualification_id == query.qualification_id)
    if query.assessor_id:
        scope.append(SampleRecord.assessor_id == query.assessor_id)
    return scope


def _samples(query: TrailQuery):
    """Samples recorded in the period: how many, ad hoc, per outcome, awaiting countersignature."""
    keys = (SampleRecord.assessor_id, SampleRecord.qualification_id)
    return (sa.select(*keys, sa.func.count(SampleRecord.id),
                      _count_where(SampleRecord.planned_sample_id.is_(None)),
                      *(_count_where(SampleRecord.outcome == outcome)
                        for outcome in SAMPLE_OUTCOMES),
                      # The countersignature's sample, not its id: the unique index answers
                      # alone, so the planner probes it per sample rather than hash the table.
                      _count_where(sa.and_(SampleRecord.needs_countersignature,
                                           SampleCountersignature.sample_id.is_(None))))
            .outerjoin(SampleCountersignature,
                       SampleCountersignature.sample_id == SampleRecord.id)
            .where(*sample_scope(query)).group_by(*keys))


def _actions(query: TrailQuery):
    """Actions open now from samples recorded up to the period's end, and those past due."""
    keys = (SampleRecord.assessor_id, SampleRecord.qualification_id)
    return (sa.select(*keys, sa.func.count(SampleAction.id),
                      _count_where(SampleAction.due_on < query.today))
            .join(SampleRecord, SampleRecord.id == SampleAction.sample_id)
            .where(SampleAction.closed.is_(False), *sample_scope(query, period=False))
            .group_by(*keys))


def _enrolment_scope(query: TrailQuery, assessor_id) -> list[sa.ColumnElement]:
    scope = [Enrolment.centre_id == query.centre_id]
    if query.qualification_id:
        scope.append(Enrolment.qualification_id == query.qualification_id)
    if query.assessor_id:
        scope.append(assessor_id == query.assessor_id)
    return scope


def _sign_offs_pending(query: TrailQuery):
    """Sign-offs made in the period that need a countersignature and have none (an unlocked
    sign-off no longer counts, so it needs none)."""
    keys = (UnitSignOff.assessor_id, Enrolment.qualification_id)
    return (sa.select(*keys, sa.func.count(UnitSignOff.id))
            .join(Enrolment, Enrolment.id == UnitSignOff.enrolment_id)
            .outerjoin(Countersignature, Countersignature.sign_off_id == UnitSignOff.id)
            .outerjoin(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
            # Tested on the joined columns, which PostgreSQL reads as anti-joins (on the ids it
            # keeps every sign-off and guesses a handful left, then probes each one's enrolment).
            .where(UnitSignOff.needs_countersignature, Countersignature.sign_off_id.is_(None),
                   UnitUnlock.sign_off_id.is_(None), query.period.holds(UnitSignOff.signed_at),
                   *_enrolment_scope(query, UnitSignOff.assessor_id))
            .group_by(*keys))


def _coverage(query: TrailQuery):
    """CAMERA over the decisions made in the period, a row per assessor and qualification and
    one over the whole selection (keyed None, None): the decisions awaiting countersignature,
    then how many distinct learners (enrolments), assessors, methods, units, decisions and
    settings they have, then how many of each a sample recorded in the period looked at.

    A centre's trail must cost the same however many centres share the database, so the
    evidence items and countersignatures are gathered through the centre's enrolments and the
    sampled decisions through its samples. The decisions are first counted per learner, unit,
    method and setting: the distinct counts, per line and over the whole selection, then read
    those few cells rather than every decision twice."""
    centre_enrolments = sa.select(Enrolment.id).where(Enrolment.centre_id == query.centre_id)
    items = _gathered(sa.select(EvidenceItem.id, EvidenceItem.method, EvidenceItem.setting)
                      .where(EvidenceItem.enrolment_id.in_(centre_enrolments)), "items")
    signed = _gathered(sa.select(Countersignature.decision_id)
                       .where(Countersignature.enrolment_id.in_(centre_enrolments),
                              Countersignature.decision_id.is_not(None)), "signed")
    sampled = _gathered(sa.select(SampledDecision.decision_id).distinct()
                        .join(SampleRecord, SampleRecord.id == SampledDecision.sample_id)
                        .where(SampleRecord.centre_id == query.centre_id,
                               query.period.holds(SampleRecord.recorded_at)), "sampled")
    keys = (Decision.assessor_id, Enrolment.qualification_id)
    dimensions = (Decision.enrolment_id, Decision.unit_id, items.c.method, items.c.setting)
    cells = (sa.select(*keys, *dimensions, sa.func.count().label("records"),
                       sa.func.count(sampled.c.decision_id).label("sampled"),
                       _count_where(sa.and_(Decision.needs_countersignature,
                                            signed.c.decision_id.is_(None))).label("pending"))
             .join(Enrolment, Enrolment.id == Decision.enrolment_id)
             .join(items, items.c.id == Decision.item_id)
             .outerjoin(signed, signed.c.decision_id == Decision.id)
             .outerjoin(sampled, sampled.c.decision_id == Decision.id)
             .where(query.period.holds(Decision.decided_at),
                    *_enrolment_scope(query, Decision.assessor_id))
             .group_by(*keys, *dimensions).cte("cells")).c
    distinct = {"learners": cells.enrolment_id, "assessors": cells.assessor_id,
                "methods": cells.method, "units": cells.unit_id, "settings": cells.setting}

    def counts(sampled: bool):
        for name in COVERAGE:
            if name == "records":
                yield _sum(cells.sampled if sampled else cells.records)
            else:
                column = distinct[name]
                yield sa.func.count(sa.distinct(
                    sa.case((cells.sampled > 0, column)) if sampled else column))

    figures = (_sum(cells.pending), *counts(False), *counts(True))
    return sa.union_all(
        sa.select(cells.assessor_id, cells.qualification_id, *figures)
        .group_by(cells.assessor_id, cells.qualification_id),
        sa.select(sa.null(), sa.null(), *figures))


def _gathered(statement, name: str):
    """``statement`` as a common table expression worked out once, before the join: PostgreSQL
    would otherwise fold it in and, at scale, look each decision's row up by its own index probe
    or hash the whole table."""
    return statement.cte(name).prefix_with("MATERIALIZED", dialect="postgresql")


def _sum(column) -> sa.ColumnElement[int]:
    """A sum of counts as an integer (PostgreSQL sums big integers as numeric), 0 over none."""
    return sa.cast(sa.func.coalesce(sa.func.sum(column), 0), sa.Integer)


def _cover(figures: Figures, counts) -> None:
    """Set the coverage of ``figures`` from the totals of :data:`COVERAGE`'s dimensions followed
    by the sampled ones, as :func:`_coverage` gives them."""
    totals, sampled = counts[:len(COVERAGE)], counts[len(COVERAGE):]
    for name, total, looked_at in zip(COVERAGE, totals, sampled, strict=True):
        figures.coverage[name] = Coverage(looked_at, total)
