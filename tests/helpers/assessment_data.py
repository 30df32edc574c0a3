"""A fast bulk seeder of large portfolios, for query-count tests and benchmarks.

:func:`seed_portfolio` fills one enrolment with evidence items (one file row each, under fake
``evidence/bench/...`` keys: no object is stored), criterion claims spread over the
qualification's criteria, and decisions in a realistic mix: the older items judged, the newer ones
awaiting a decision, a few withdrawn; per criterion a linear chain of decisions (not yet met, then
met on further evidence, sometimes met then judged again), each superseding the one before; and
the units whose every criterion ends met signed off (a third of them left ready for sign-off).

Everything is planned in Python and written with SQLAlchemy Core bulk inserts
(``session.execute(insert(table), [dicts])``), so 2,000 items and 5,000 claims take well under a
second. The plan respects what the database enforces: one first decision per (enrolment,
criterion), each decision superseded at most once, the decision's ``unit_id`` repeating its
criterion's unit, one claim per (item, criterion); a second call on the same enrolment extends the
chains and claims nothing in a unit already signed off. It never commits, and writes no audit
events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import Enrolment
from portfolio.assessment.caseload import refresh_awaiting
from portfolio.assessment.models import Decision, UnitDeclaration, UnitSignOff, UnitUnlock
from portfolio.catalogue.models import Criterion, QualificationVersion, Unit
from portfolio.evidence.models import (
    METHODS,
    SETTINGS,
    CriterionClaim,
    EvidenceFile,
    EvidenceItem,
)

DIPLOMA = "600/9662/7"
FEEDBACK = ("Your account describes what you did but not why: explain how it met the customer's "
            "needs, and add a witness statement from your supervisor.")
FILE_TYPES = (("application/pdf", "pdf"), ("image/jpeg", "jpg"), ("image/jpeg", "jpg"),
              ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"))
#: Most items claim a few criteria of one unit; a few claim many.
CLAIMS_PER_ITEM_CAP = 12


@dataclass(frozen=True)
class SeedSummary:
    items: int
    claims: int
    decisions: int
    superseded: int
    not_yet_met: int
    withdrawn: int
    awaiting_items: int
    sign_offs: int
    ready_units: int

    def __str__(self) -> str:
        return (f"{self.items} items, {self.claims} claims, {self.decisions} decisions "
                f"({self.superseded} superseded, {self.not_yet_met} not yet met), "
                f"{self.withdrawn} withdrawn, {self.awaiting_items} awaiting, "
                f"{self.sign_offs} units signed off, {self.ready_units} ready")


def seed_portfolio(session: Session, enrolment: Enrolment, items: int = 2000, claims: int = 5000,
                   decided_fraction: float = 0.5, rng_seed: int = 0,
                   now: dt.datetime | None = None) -> SeedSummary:
    """Add ``items`` evidence items with ``claims`` criterion claims between them to
    ``enrolment``; about ``decided_fraction`` of the items are judged."""
    rng = random.Random(rng_seed)
    now = now or dt.datetime.now(dt.UTC)
    enrolment_id, learner_id, assessor_id = (enrolment.id, enrolment.learner_id,
                                             enrolment.assessor_id)
    version_id = enrolment.version_id
    by_unit: dict[int, list[int]] = defaultdict(list)
    for criterion_id, unit_id in session.execute(
            sa.select(Criterion.id, Criterion.unit_id).join(Unit, Unit.id == Criterion.unit_id)
            .where(Unit.version_id == version_id).order_by(Unit.position, Criterion.position)):
        by_unit[unit_id].append(criterion_id)
    declarations_needed = session.scalar(
        sa.select(QualificationVersion.unit_declarations)
        .where(QualificationVersion.id == version_id))

    # A second call continues the portfolio: later items, the chains extended, and no new claim
    # in a unit already signed off (the application refuses those too).
    existing = _existing(session, enrolment_id)
    for unit_id in existing.signed_units:
        by_unit.pop(unit_id, None)
    unit_of = {c: u for u, cs in by_unit.items() for c in cs}
    unit_ids = list(by_unit)
    weights = [len(by_unit[u]) for u in unit_ids]
    if not unit_ids:
        raise ValueError("Every unit of this portfolio is signed off: nothing left to claim.")

    # Items, oldest first, over the last year; the older ones judged a few days after upload.
    start = max(now - dt.timedelta(days=395), existing.latest + dt.timedelta(days=1))
    span = max(now - dt.timedelta(days=30) - start, dt.timedelta(days=1))
    created = sorted(start + span * rng.random() for _ in range(items))
    judged_count = round(decided_fraction * items)
    judged = set(sorted(range(items), key=lambda i: i / max(items, 1) + rng.uniform(0, 0.3))
                 [:judged_count])
    judged_at = {i: created[i] + dt.timedelta(days=rng.uniform(1, 14)) for i in judged}
    withdrawn = {i for i in range(items) if i not in judged and rng.random() < 0.02}

    # Claims: at least one per item (while they last), the rest spread at random.
    cap = min(CLAIMS_PER_ITEM_CAP, len(unit_of))
    counts = [1 if i < claims else 0 for i in range(items)]
    for _ in range(min(max(0, claims - items), items * (cap - 1))):
        while True:
            i = rng.randrange(items)
            if counts[i] < cap:
                counts[i] += 1
                break
    claimed: list[list[int]] = []
    for count in counts:
        chosen: list[int] = []
        while len(chosen) < count:
            pool = [c for c in by_unit[rng.choices(unit_ids, weights)[0]] if c not in chosen]
            chosen += rng.sample(pool, min(len(pool), count - len(chosen)))
        claimed.append(chosen)

    methods, settings = list(METHODS), list(SETTINGS)
    item_ids = _insert_returning(session, EvidenceItem, [
        {"enrolment_id": enrolment_id, "title": f"Evidence {n + 1}: {_title(rng)}",
         "description": "Seeded for the assessment benchmarks.",
         "evidence_date": (created[n] - dt.timedelta(days=rng.randint(0, 20))).date(),
         "method": rng.choice(methods), "setting": rng.choice(settings),
         "declared_at": created[n], "created_at": created[n], "updated_at": created[n],
         "withdrawn_at": created[n] + dt.timedelta(days=2) if n in withdrawn else None,
         "judged_at": judged_at.get(n)} for n in range(items)])

    hashes = [hashlib.sha256(f"{enrolment_id}-{n}-{rng_seed}".encode()).hexdigest()
              for n in range(items)]
    files = []
    for n, item_id in enumerate(item_ids):
        content_type, extension = rng.choice(FILE_TYPES)
        key = f"evidence/bench/{enrolment_id}/{item_id}"
        image = content_type == "image/jpeg"
        files.append({
            "item_id": item_id, "enrolment_id": enrolment_id, "uploader_id": learner_id,
            "object_key": key, "sha256": hashes[n], "size": rng.randint(20_000, 4_000_000),
            "content_type": content_type, "original_name": f"evidence-{n + 1}.{extension}",
            "thumbnail_key": f"{key}-thumbnail.jpg" if image else None,
            "preview_key": f"{key}-preview.jpg" if image else None,
            "uploaded_at": created[n]})
    if files:
        session.execute(sa.insert(EvidenceFile.__table__), files)
    claim_rows = [{"item_id": item_ids[n], "enrolment_id": enrolment_id, "criterion_id": c,
                   "created_at": created[n]}
                  for n in range(items) for c in claimed[n]]
    if claim_rows:
        session.execute(sa.insert(CriterionClaim.__table__), claim_rows)

    # Per criterion, the judged items claiming it in the order they were judged: one chain.
    chains: dict[int, list[int]] = defaultdict(list)
    for n in sorted(judged, key=judged_at.__getitem__):
        for c in claimed[n]:
            chains[c].append(n)
    # Units whose every criterion was judged at least once: most of them end fully met.
    complete = {u for u, cs in by_unit.items()
                if all(c in chains or existing.outcomes.get(c) == "met" for c in cs)
                and rng.random() < 0.7}
    outcomes: dict[int, list[str]] = {}
    for c, chain in chains.items():
        links = ["not_yet_met" if rng.random() < 0.7 else "met" for _ in chain[:-1]]
        last = "met" if unit_of[c] in complete or rng.random() < 0.75 else "not_yet_met"
        outcomes[c] = [*links, last]

    decisions = superseded = 0
    previous = dict(existing.current)
    depth = 0
    while True:
        layer = [c for c, chain in chains.items() if len(chain) > depth]
        if not layer:
            break
        rows = []
        for c in layer:
            n = chains[c][depth]
            outcome = outcomes[c][depth]
            rows.append({
                "enrolment_id": enrolment_id, "criterion_id": c, "unit_id": unit_of[c],
                "item_id": item_ids[n], "assessor_id": assessor_id, "decided_at": judged_at[n],
                "outcome": outcome, "feedback": FEEDBACK if outcome == "not_yet_met" else "",
                "file_hashes": [hashes[n]], "supersedes_id": previous.get(c),
                "reason": (f"Judged further evidence: Evidence {n + 1}"
                           if c in previous else "")})
        for c, decision_id in zip(layer, _insert_returning(session, Decision, rows), strict=True):
            previous[c] = decision_id
        decisions += len(rows)
        superseded += sum(1 for row in rows if row["supersedes_id"] is not None)
        depth += 1

    # Sign off two thirds of the fully met units, after their last claim or decision.
    final = {**existing.outcomes, **{c: o[-1] for c, o in outcomes.items()}}
    met_units = [u for u, cs in by_unit.items() if all(final.get(c) == "met" for c in cs)]
    signed = [u for u in met_units if rng.random() < 2 / 3]
    last_activity = defaultdict(lambda: start)
    for n in range(items):
        for c in claimed[n]:
            last_activity[unit_of[c]] = max(last_activity[unit_of[c]], judged_at.get(n, created[n]))
    declaration_ids: dict[int, int | None] = dict.fromkeys(signed)
    if declarations_needed and signed:
        declaration_ids = dict(zip(signed, _insert_returning(session, UnitDeclaration, [
            {"enrolment_id": enrolment_id, "unit_id": u, "learner_id": learner_id,
             "declared_at": last_activity[u] + dt.timedelta(hours=12)} for u in signed]),
            strict=True))
    if signed:
        session.execute(sa.insert(UnitSignOff.__table__), [
            {"enrolment_id": enrolment_id, "unit_id": u, "method": "assessment",
             "assessor_id": assessor_id, "signed_at": last_activity[u] + dt.timedelta(days=1),
             "declaration_id": declaration_ids[u], "details": "", "item_id": None}
            for u in signed])
    # The queue the services keep: items wait from their creation until every claim is decided.
    session.execute(sa.update(EvidenceItem).where(EvidenceItem.id.in_(item_ids))
                    .values(awaiting_decision_since=EvidenceItem.created_at))
    refresh_awaiting(session, enrolment_id, item_ids)
    return SeedSummary(
        items=items, claims=len(claim_rows), decisions=decisions,
        superseded=superseded,
        not_yet_met=sum(o.count("not_yet_met") for o in outcomes.values()),
        withdrawn=len(withdrawn), awaiting_items=items - len(judged) - len(withdrawn),
        sign_offs=len(signed), ready_units=len(met_units) - len(signed))


@dataclass(frozen=True)
class _Existing:
    #: Per criterion, the id and outcome of its current decision.
    current: dict[int, int]
    outcomes: dict[int, str]
    signed_units: set[int]
    latest: dt.datetime


def _existing(session: Session, enrolment_id: int) -> _Existing:
    later = sa.orm.aliased(Decision)
    current, outcomes = {}, {}
    for decision_id, criterion_id, outcome in session.execute(
            sa.select(Decision.id, Decision.criterion_id, Decision.outcome).where(
                Decision.enrolment_id == enrolment_id,
                ~sa.exists().where(later.supersedes_id == Decision.id))):
        current[criterion_id], outcomes[criterion_id] = decision_id, outcome
    signed = set(session.scalars(sa.select(UnitSignOff.unit_id).where(
        UnitSignOff.enrolment_id == enrolment_id,
        ~sa.exists().where(UnitUnlock.sign_off_id == UnitSignOff.id))))
    latest = [session.scalar(sa.select(sa.func.max(column)).where(where == enrolment_id))
              for column, where in ((EvidenceItem.created_at, EvidenceItem.enrolment_id),
                                    (Decision.decided_at, Decision.enrolment_id),
                                    (UnitSignOff.signed_at, UnitSignOff.enrolment_id))]
    return _Existing(current, outcomes, signed,
                     max((_aware(t) for t in latest if t is not None),
                         default=dt.datetime.min.replace(tzinfo=dt.UTC)))


def _aware(value) -> dt.datetime:
    """Aggregates bypass the column type: SQLite returns text or naive UTC values."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _insert_returning(session: Session, model, rows: list[dict]) -> list[int]:
    """Insert many rows at once (batched ``INSERT ... VALUES ... RETURNING``); their new ids in
    the order of ``rows``."""
    if not rows:
        return []
    table = model.__table__
    return list(session.scalars(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))


_WORDS = ("Supporting a jobseeker's action plan", "Reviewing a CV with a client",
          "Group session on interview skills", "Case notes after an advisory meeting",
          "Referral to a partner organisation", "Witness statement from my supervisor",
          "Reflective account of a difficult call", "Safeguarding concern raised",
          "Labour market information pack", "Observation of a one-to-one review")


def _title(rng: random.Random) -> str:
    return rng.choice(_WORDS)
