"""The plan generator: the facts of an assessor's work on a qualification, read in a handful of
set-based queries whatever the number of learners (plain tuples, no ORM object per decision),
handed to the pure selection (:mod:`portfolio.quality.selection`).

The pairs are the learner x unit pairs of the assessor's enrolments on the qualification (open,
or ended within the cycle): the units of the learner's chosen pathway where there is one, else
the units their evidence claims. Never the IQA's own enrolment as a learner, and never a pair
the IQA judged or signed off themselves (they cannot sample their own decisions)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import Enrolment, User
from portfolio.assessment.models import Decision, PathwayChoice, UnitSignOff, UnitUnlock
from portfolio.catalogue.models import Criterion, LearningOutcome, Qualification
from portfolio.catalogue.tree import version_tree
from portfolio.evidence.models import CriterionClaim, EvidenceItem
from portfolio.quality.selection import NO_EVIDENCE, Pair, Selection, select
from portfolio.quality.strategy import Band, Strategy, add_months, band_of

#: A unit with at least this share of its criteria met is likely to be signed off this cycle.
LIKELY_SHARE = 0.75
OWN_WORK = "you judged or signed off some of it: an IQA never samples their own decisions"


@dataclass(frozen=True)
class Proposal:
    band: Band
    #: The rate applied: the band's, or 100 for a qualification new to the centre.
    rate: int
    new_qualification: bool
    cycle_starts_on: dt.date
    cycle_ends_on: dt.date
    pairs: list[Pair]
    selection: Selection


def _enrolments(centre_id: int, iqa_id: int, assessor_id: int, qualification_id: int,
                cycle_start: dt.date) -> sa.Select:
    return sa.select(Enrolment.id).where(
        Enrolment.centre_id == centre_id, Enrolment.assessor_id == assessor_id,
        Enrolment.qualification_id == qualification_id, Enrolment.learner_id != iqa_id,
        sa.or_(Enrolment.ended_at.is_(None), Enrolment.ended_on >= cycle_start))


def gather_pairs(session: Session, centre_id: int, iqa_id: int, assessor_id: int,
                 qualification_id: int, cycle_start: dt.date) -> list[Pair]:
    """Every learner x unit pair of the assessor's work the plan could sample, with its facts."""
    ids = _enrolments(centre_id, iqa_id, assessor_id, qualification_id, cycle_start)
    versions = dict(session.execute(
        sa.select(Enrolment.id, Enrolment.version_id).where(Enrolment.id.in_(ids))).all())
    trees = {version: version_tree(session, version) for version in set(versions.values())}
    latest = (sa.select(sa.func.max(PathwayChoice.id)).where(PathwayChoice.enrolment_id.in_(ids))
              .group_by(PathwayChoice.enrolment_id))
    units: dict[int, set[int]] = defaultdict(set)
    for enrolment_id, numbers in session.execute(sa.select(
            PathwayChoice.enrolment_id, PathwayChoice.units).where(PathwayChoice.id.in_(latest))):
        by_number = {unit.number: unit.id for unit in trees[versions[enrolment_id]].units}
        units[enrolment_id] = {by_number[n] for n in numbers if n in by_number}
    chosen = set(units)
    for enrolment_id, unit_id in session.execute(
            sa.select(EvidenceItem.enrolment_id, LearningOutcome.unit_id).distinct()
            .join(CriterionClaim, CriterionClaim.item_id == EvidenceItem.id)
            .join(Criterion, Criterion.id == CriterionClaim.criterion_id)
            .join(LearningOutcome, LearningOutcome.id == Criterion.outcome_id)
            .where(EvidenceItem.enrolment_id.in_(ids), EvidenceItem.withdrawn_at.is_(None))):
        if enrolment_id not in chosen:
            units[enrolment_id].add(unit_id)

    judged: dict[tuple[int, int], tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    own: set[tuple[int, int]] = set()
    for enrolment_id, unit_id, by, method, setting in session.execute(
            sa.select(Decision.enrolment_id, Decision.unit_id, Decision.assessor_id,
                      EvidenceItem.method, EvidenceItem.setting).distinct()
            .join(EvidenceItem, EvidenceItem.id == Decision.item_id)
            .where(Decision.enrolment_id.in_(ids), Decision.assessor_id.in_((assessor_id, iqa_id)))):
        if by == iqa_id:
            own.add((enrolment_id, unit_id))
        else:
            judged[enrolment_id, unit_id][0].add(method)
            judged[enrolment_id, unit_id][1].add(setting)

    superseded = sa.select(Decision.supersedes_id).where(Decision.supersedes_id.is_not(None),
                                                         Decision.enrolment_id.in_(ids))
    met = dict(((e, u), n) for e, u, n in session.execute(
        sa.select(Decision.enrolment_id, Decision.unit_id,
                  sa.func.count(sa.distinct(Decision.criterion_id)))
        .where(Decision.enrolment_id.in_(ids), Decision.outcome == "met",
               Decision.id.not_in(superseded))
        .group_by(Decision.enrolment_id, Decision.unit_id)))

    signed_off: set[tuple[int, int]] = set()
    for enrolment_id, unit_id, by in session.execute(
            sa.select(UnitSignOff.enrolment_id, UnitSignOff.unit_id, UnitSignOff.assessor_id)
            .outerjoin(UnitUnlock, UnitUnlock.sign_off_id == UnitSignOff.id)
            .where(UnitSignOff.enrolment_id.in_(ids), UnitUnlock.id.is_(None))):
        units[enrolment_id].add(unit_id)
        signed_off.add((enrolment_id, unit_id))
        if by == iqa_id:
            own.add((enrolment_id, unit_id))

    pairs = []
    for enrolment_id, unit_ids in units.items():
        tree = trees[versions[enrolment_id]]
        for unit_id in unit_ids:
            key = (enrolment_id, unit_id)
            methods, settings = judged.get(key, (set(), set()))
            criteria = tree.units_by_id[unit_id].criteria_count if unit_id in tree.units_by_id else 0
            blocked = (OWN_WORK if key in own
                       else None if methods or key in signed_off else NO_EVIDENCE)
            pairs.append(Pair(enrolment_id, unit_id, frozenset(methods), frozenset(settings),
                              signed_off=key in signed_off,
                              likely_signed_off=bool(criteria)
                              and met.get(key, 0) >= LIKELY_SHARE * criteria,
                              blocked=blocked))
    return sorted(pairs, key=lambda pair: pair.key)


def is_new_to_centre(session: Session, centre_id: int, qualification_id: int,
                     strategy: Strategy, cycle_start: dt.date) -> bool:
    """Whether the centre's first learner on the qualification started within the cycle before
    this one or later: a qualification the centre has delivered for less than a cycle."""
    first = session.scalar(sa.select(sa.func.min(Enrolment.start_date)).where(
        Enrolment.centre_id == centre_id, Enrolment.qualification_id == qualification_id))
    return first is not None and first >= add_months(cycle_start, -strategy.cycle_months)


def propose_plan(session: Session, strategy: Strategy, iqa: User, assessor: User,
                 qualification: Qualification, cycle_start: dt.date) -> Proposal:
    """The generator's proposal for ``iqa``'s plan of ``assessor``'s work on ``qualification`` in
    the cycle starting ``cycle_start``: samples meeting the band's rate and covering CAMERA, and
    what cannot be covered with why."""
    cycle_start, cycle_end = strategy.cycle_starting(cycle_start)
    band = band_of(session, strategy, assessor.id, qualification.id, cycle_start)
    new = (strategy.every_unit_of_new_qualification
           and is_new_to_centre(session, iqa.centre_id, qualification.id, strategy, cycle_start))
    rate = 100 if new else band.rate
    pairs = gather_pairs(session, iqa.centre_id, iqa.id, assessor.id, qualification.id,
                         cycle_start)
    return Proposal(band=band, rate=rate, new_qualification=new, cycle_starts_on=cycle_start,
                    cycle_ends_on=cycle_end, pairs=pairs,
                    selection=select(pairs, rate, strategy.interim_percent, cycle_start,
                                     cycle_end))
