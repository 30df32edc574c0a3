"""A busy centre for the quality benchmarks, written with PostgreSQL's COPY: LEARNERS learners
on three qualifications (600/1636/X, 600/1257/2, 600/9662/7), ASSESSORS assessors (the first
few working towards their qualification, so their decisions wait for a countersignature, most of
them given), IQAS IQAs (the last working towards too), and over the last year:

- per learner, ITEMS_PER_LEARNER evidence items, each with one stored-file row (no object) and
  CLAIMS_PER_ITEM criteria claimed and decided (nine in ten met), every decision first in its
  chain: LEARNERS x 40 = 200,000 decisions at full size; methods and settings mixed as in
  practice (mostly products and observations in the workplace);
- per assessor and qualification a sampling plan by the assessor's IQA: an interim sample of
  every learner and a summative one of every other, due over the year, one in twenty removed by
  a second revision;
- samples of most planned samples now due (the unit's decisions and items, the five checks), a
  few ad-hoc ones, outcomes seven in ten agree, two with feedback, one action required; an
  action per action required, the older ones answered and closed.

Ids are chosen here (after the highest in each table) and the sequences moved past them, so the
application adds rows afterwards as usual. It never commits; it runs ANALYZE-free (the caller
analyses after committing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.catalogue import services as catalogue
from portfolio.catalogue.models import Criterion, Unit
from portfolio.core.db import utcnow
from portfolio.quality.models import CHECKS
from tests.helpers.factories import password_hash

QUALIFICATIONS = ("600/1636/X", "600/1257/2", "600/9662/7")
LEARNERS, ASSESSORS, IQAS = 5000, 40, 5
ITEMS_PER_LEARNER, CLAIMS_PER_ITEM = 10, 4
WORKING_TOWARDS = 4  # the first assessors; the last IQA too
METHODS = {"product": 30, "observation": 30, "witness_testimony": 12,
           "professional_discussion": 10, "questioning": 10, "reflective_account": 8}
SETTINGS = {"workplace": 70, "realistic_work_environment": 20, "simulated": 10}
OUTCOMES = {"agree": 70, "agree_with_feedback": 20, "action_required": 10}


@dataclass
class QualityCentre:
    centre_id: int
    name: str
    #: Email addresses of the IQAs (password: the factories' PASSWORD), and ids of the people.
    iqa_emails: list[str]
    iqa_ids: list[int]
    assessor_ids: list[int]
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        counts = ", ".join(f"{n:,} {table}" for table, n in self.rows.items())
        return f"{counts} in {self.seconds:.1f} s"


class _Writer:
    """Rows for each table, with ids chosen after the table's highest, written by COPY."""

    def __init__(self, session: Session):
        self.session = session
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.next_id: dict[str, int] = {}

    def add(self, table: str, **row) -> int:
        if table not in self.next_id:
            self.next_id[table] = self.session.execute(
                sa.text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")).scalar_one()
        row["id"] = self.next_id[table]
        self.next_id[table] += 1
        self.rows[table].append(row)
        return row["id"]

    def write(self, order: list[str]) -> dict[str, int]:
        cursor = self.session.connection().connection.driver_connection.cursor()
        for table in order:
            rows = self.rows.pop(table, [])
            if not rows:
                continue
            columns = list(rows[0])
            names = ", ".join(f'"{column}"' for column in columns)  # "check" is a keyword
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([json.dumps(v) if isinstance(v, list) else v
                                    for v in row.values()])
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT max(id) FROM {table}))")
            self.rows[table] = rows  # kept for the counts only
        cursor.close()
        return {table: len(self.rows[table]) for table in order if self.rows.get(table)}


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def fill_quality_centre(session: Session, name: str = "Bench College", *,
                        learners: int = LEARNERS, assessors: int = ASSESSORS, iqas: int = IQAS,
                        seed: int = 0) -> QualityCentre:
    started = time.perf_counter()
    rng = random.Random(seed)
    now = utcnow()
    today = now.date()
    year_ago = now - dt.timedelta(days=365)
    out = _Writer(session)
    slug = name.lower().replace(" ", "-")
    centre_id = out.add("centres", name=name, created_at=year_ago)
    hashed = password_hash()

    def person(local: str, display: str, role: str) -> int:
        user_id = out.add("users", centre_id=centre_id, email=f"{local}@{slug}.test",
                          name=display, password_hash=hashed, is_enabled=True,
                          created_at=year_ago)
        out.add("role_grants", user_id=user_id, centre_id=centre_id, role=role,
                granted_at=year_ago)
        return user_id

    person("admin", "Centre Admin", "centre_admin")
    iqa_ids = [person(f"iqa{n}", f"IQA {n:02d}", "iqa") for n in range(iqas)]
    assessor_ids = [person(f"assessor{n}", f"Assessor {n:02d}", "assessor")
                    for n in range(assessors)]
    iqa_of = {a: iqa_ids[n % iqas] for n, a in enumerate(assessor_ids)}
    working_towards = set(assessor_ids[:WORKING_TOWARDS])
    countersigner = assessor_ids[-1]

    versions = [catalogue.find_version(session, number) for number in QUALIFICATIONS]
    units = {}  # version id -> [(unit id, [criterion ids])]
    for version in versions:
        by_unit = defaultdict(list)
        for criterion_id, unit_id in session.execute(
                sa.select(Criterion.id, Criterion.unit_id).join(Unit)
                .where(Unit.version_id == version.id).order_by(Unit.position,
                                                               Criterion.position)):
            by_unit[unit_id].append(criterion_id)
        units[version.id] = list(by_unit.items())

    #: (enrolment, unit) -> [(decision id, item id, file hash, decided at)]
    decisions_of = defaultdict(list)
    learners_of = defaultdict(list)  # (assessor, qualification) -> [enrolment id]
    for n in range(learners):
        version = versions[n % len(versions)]
        assessor_id = assessor_ids[n % assessors]
        learner_id = person(f"learner{n}", f"Learner {n:05d}", "learner")
        start = year_ago - dt.timedelta(days=rng.randrange(0, 180))
        enrolment_id = out.add(
            "enrolments", centre_id=centre_id, learner_id=learner_id, version_id=version.id,
            qualification_id=version.qualification_id, registration_number=f"B{n:06d}",
            start_date=start.date(), planned_end_date=(start + dt.timedelta(days=540)).date(),
            assessor_id=assessor_id, iqa_id=iqa_of[assessor_id], created_at=start,
            status="open", ended_reason="")
        for role, holder in (("assessor", assessor_id), ("iqa", iqa_of[assessor_id])):
            out.add("enrolment_assignments", enrolment_id=enrolment_id, role=role,
                    user_id=holder, from_at=start)
        learners_of[assessor_id, version.qualification_id].append(enrolment_id)
        chosen = rng.sample(units[version.id], k=len(units[version.id]))
        criteria = [(unit_id, c) for unit_id, cs in chosen for c in cs]
        for i in range(ITEMS_PER_LEARNER):
            created = year_ago + dt.timedelta(seconds=rng.uniform(0, 330 * 86400))
            decided = created + dt.timedelta(days=rng.uniform(1, 14))
            item_id = out.add(
                "evidence_items", enrolment_id=enrolment_id, title=f"Evidence {i + 1}",
                description="What I did and why.", evidence_date=created.date(),
                method=_pick(rng, METHODS), setting=_pick(rng, SETTINGS), witness_is_expert=False,
                declared_at=created, created_at=created, updated_at=created, judged_at=decided)
            digest = hashlib.sha256(f"{enrolment_id}/{item_id}".encode()).hexdigest()
            out.add("evidence_files", item_id=item_id, enrolment_id=enrolment_id,
                    uploader_id=learner_id, object_key=f"evidence/bench/{item_id}",
                    sha256=digest, size=200_000, content_type="application/pdf",
                    original_name=f"evidence-{i + 1}.pdf", uploaded_at=created)
            for unit_id, criterion_id in criteria[i * CLAIMS_PER_ITEM:(i + 1) * CLAIMS_PER_ITEM]:
                out.add("criterion_claims", item_id=item_id, enrolment_id=enrolment_id,
                        criterion_id=criterion_id, created_at=created)
                met = rng.random() < 0.9
                decision_id = out.add(
                    "decisions", enrolment_id=enrolment_id, criterion_id=criterion_id,
                    unit_id=unit_id, item_id=item_id, assessor_id=assessor_id,
                    decided_at=decided, outcome="met" if met else "not_yet_met",
                    feedback="" if met else "Add the call log.", file_hashes=[digest],
                    reason="", needs_countersignature=assessor_id in working_towards)
                decisions_of[enrolment_id, unit_id].append(
                    (decision_id, item_id, digest, decided))
                if assessor_id in working_towards and rng.random() < 0.8:
                    out.add("countersignatures", enrolment_id=enrolment_id,
                            decision_id=decision_id, by_id=countersigner,
                            at=decided + dt.timedelta(days=2))

    sampled_units = defaultdict(list)  # enrolment -> units with decisions
    for enrolment_id, unit_id in decisions_of:
        sampled_units[enrolment_id].append(unit_id)

    def record_sample(iqa_id, assessor_id, qualification_id, enrolment_id, unit_id, stage,
                      at, planned_id):
        # Never before the decisions it samples, never in the future.
        at = min(max(at, max(d[3] for d in decisions_of[enrolment_id, unit_id])
                     + dt.timedelta(days=1)), now)
        outcome = _pick(rng, OUTCOMES)
        needs = iqa_id == iqa_ids[-1]
        sample_id = out.add(
            "samples", centre_id=centre_id, enrolment_id=enrolment_id, unit_id=unit_id,
            qualification_id=qualification_id, iqa_id=iqa_id, assessor_id=assessor_id,
            stage=stage, planned_sample_id=planned_id, recorded_at=at, outcome=outcome,
            feedback="Clear decisions." if outcome == "agree" else "See the note on 1.2.",
            needs_countersignature=needs)
        items = {}
        for decision_id, item_id, digest, _ in decisions_of[enrolment_id, unit_id]:
            out.add("sampled_decisions", sample_id=sample_id, decision_id=decision_id,
                    decision_assessor_id=assessor_id, iqa_id=iqa_id)
            items[item_id] = digest
        for item_id, digest in items.items():
            out.add("sampled_items", sample_id=sample_id, item_id=item_id, file_hashes=[digest])
        for check in CHECKS:
            out.add("sample_checks", sample_id=sample_id, check=check,
                    satisfied=outcome != "action_required" or check != "sufficient", note="")
        if needs and rng.random() < 0.7:
            out.add("sample_countersignatures", sample_id=sample_id, by_id=iqa_ids[0],
                    at=at + dt.timedelta(days=3))
        if outcome == "action_required":
            due = (at + dt.timedelta(days=14)).date()
            closed = due < today - dt.timedelta(days=7) and rng.random() < 0.8
            action_id = out.add("sample_actions", sample_id=sample_id, owner_id=assessor_id,
                                text="Re-assess with a witness statement.", due_on=due,
                                raised_at=at, closed=closed)
            if closed:
                out.add("action_entries", action_id=action_id, kind="response", by_id=assessor_id,
                        at=at + dt.timedelta(days=10), text="Done: see the new decision.")
                out.add("action_entries", action_id=action_id, kind="closed", by_id=iqa_id,
                        at=at + dt.timedelta(days=12), text="")

    for (assessor_id, qualification_id), enrolments in learners_of.items():
        iqa_id = iqa_of[assessor_id]
        plan_id = out.add(
            "sampling_plans", centre_id=centre_id, iqa_id=iqa_id, assessor_id=assessor_id,
            qualification_id=qualification_id, cycle_starts_on=year_ago.date(),
            cycle_ends_on=(now + dt.timedelta(days=365)).date(), created_by_id=iqa_id,
            created_at=year_ago)
        proposal = out.add("plan_revisions", plan_id=plan_id, made_by_id=iqa_id,
                           made_at=year_ago, note="The generator's proposal.")
        edit = out.add("plan_revisions", plan_id=plan_id, made_by_id=iqa_id,
                       made_at=year_ago + dt.timedelta(days=30), note="Moved to next cycle.")
        for index, enrolment_id in enumerate(enrolments):
            stages = ("interim", "summative") if index % 2 == 0 else ("interim",)
            for stage, unit_id in zip(stages, sampled_units[enrolment_id], strict=False):
                due = (year_ago + dt.timedelta(days=rng.uniform(30, 400))).date()
                removed = rng.random() < 0.05
                planned_id = out.add(
                    "planned_samples", plan_id=plan_id, enrolment_id=enrolment_id,
                    unit_id=unit_id, stage=stage, due_on=due, added_in_id=proposal,
                    removed_in_id=edit if removed else None)
                if not removed and due < today and rng.random() < 0.85:
                    at = dt.datetime.combine(due, dt.time(10), tzinfo=dt.UTC) - \
                        dt.timedelta(days=rng.uniform(0, 10))
                    record_sample(iqa_id, assessor_id, qualification_id, enrolment_id, unit_id,
                                  stage, at, planned_id)
        for enrolment_id in rng.sample(enrolments, k=max(1, len(enrolments) // 20)):
            record_sample(iqa_id, assessor_id, qualification_id, enrolment_id,
                          rng.choice(sampled_units[enrolment_id]), "interim",
                          now - dt.timedelta(days=rng.uniform(1, 300)), None)

    rows = out.write(["centres", "users", "role_grants", "enrolments", "enrolment_assignments",
                      "evidence_items", "evidence_files", "criterion_claims", "decisions",
                      "countersignatures", "sampling_plans", "plan_revisions", "planned_samples",
                      "samples", "sampled_decisions", "sampled_items", "sample_checks",
                      "sample_countersignatures", "sample_actions", "action_entries"])
    return QualityCentre(centre_id=centre_id, name=name,
                         iqa_emails=[f"iqa{n}@{slug}.test" for n in range(iqas)],
                         iqa_ids=iqa_ids, assessor_ids=assessor_ids, rows=rows,
                         seconds=time.perf_counter() - started)
