"""One synthetic centre: its people, enrolments, evidence, decisions and sign-offs over the
last year, with the audit events the application would have written for them, then its IQA
plans and samples (:mod:`portfolio.demo.sampling`).

Per learner, ``items_per_learner`` evidence items, each with one stored-file row and
``claims_per_item`` criteria claimed, taken unit by unit in a random order of the units; every
claim decided (nine in ten met, the rest not yet met with feedback) except on the newest item of
one learner in four, which awaits its assessor. A unit whose criteria were all met is signed
off. Assessors ``working_towards`` their qualification have their decisions countersigned (four
in five so far) by the last assessor. Methods and settings are mixed as in practice.

File rows name objects the generator never writes: their keys are unique by the schema, so no
object can be shared, and ``portfolio storage verify`` reports them missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.catalogue import services as catalogue
from portfolio.catalogue.models import Criterion, Unit
from portfolio.demo.writer import RowWriter

METHODS = {"product": 30, "observation": 30, "witness_testimony": 12,
           "professional_discussion": 10, "questioning": 10, "reflective_account": 8}
SETTINGS = {"workplace": 70, "realistic_work_environment": 20, "simulated": 10}
MET_RATE = 0.9
AWAITING_RATE = 0.25


@dataclass(frozen=True)
class Shape:
    """How big a centre is and how much each learner has done."""

    learners: int
    assessors: int
    iqas: int
    items_per_learner: int = 5
    claims_per_item: int = 4
    #: The first assessors, and the last IQA, are working towards their qualification.
    working_towards: int = 0


@dataclass
class Centre:
    """What was made: ids a caller logs in as or measures with. Staff and learner emails are
    ``{role}{n}@{slug}.test``."""

    centre_id: int
    name: str
    slug: str
    admin_id: int
    iqa_ids: list[int]
    assessor_ids: list[int]
    #: Per assessor, their enrolments' ids.
    caseloads: dict[int, list[int]] = field(default_factory=dict)

    def email(self, role: str, n: int | None = None) -> str:
        return f"{role}{'' if n is None else n}@{self.slug}.test"


@dataclass
class Unit_:
    id: int
    number: str
    criteria: list[tuple[int, str]]  # (criterion id, label as the audit trail names it)


def catalogue_units(session: Session, numbers) -> list[tuple[object, list[Unit_]]]:
    """Per qualification number: its newest version and units with their criteria, in order;
    a missing qualification raises LookupError naming it."""
    found = []
    for number in numbers:
        version = catalogue.find_version(session, number)
        if version is None:
            raise LookupError(number)
        units: dict[int, Unit_] = {}
        for criterion_id, code, unit_id, unit_number in session.execute(
                sa.select(Criterion.id, Criterion.code, Unit.id, Unit.number)
                .join(Unit, Criterion.unit_id == Unit.id).where(Unit.version_id == version.id)
                .order_by(Unit.position, Criterion.position)):
            unit = units.setdefault(unit_id, Unit_(unit_id, unit_number, []))
            unit.criteria.append((criterion_id, f"unit {unit_number} criterion {code}"))
        found.append((version, list(units.values())))
    return found


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class CentreFiller:
    """Adds one centre's rows to ``out``; :meth:`fill_learner` one learner at a time, so the
    caller can write in batches. Keeps, per (enrolment, unit), the decisions an IQA samples."""

    def __init__(self, out: RowWriter, name: str, shape: Shape, qualifications, *,
                 password_hash: str, rng: random.Random, now: dt.datetime):
        self.out, self.shape, self.qualifications = out, shape, qualifications
        self.hashed, self.rng, self.now = password_hash, rng, now
        self.year_ago = now - dt.timedelta(days=365)
        slug = name.lower().replace(" ", "-")
        centre_id = out.add("centres", name=name, created_at=self.year_ago)
        self.centre = Centre(centre_id, name, slug, 0, [], [])
        self.audit(None, "centre.created", "centre", centre_id, self.year_ago, name=name)
        self.centre.admin_id = self.person("admin", "Centre Admin", "centre_admin", actor=None)
        admin = self.centre.admin_id
        self.centre.iqa_ids = [self.person(f"iqa{n}", f"IQA {n:02d}", "iqa", actor=admin)
                               for n in range(shape.iqas)]
        self.assessor_names = {
            self.person(f"assessor{n}", f"Assessor {n:02d}", "assessor", actor=admin):
            f"Assessor {n:02d}" for n in range(shape.assessors)}
        self.centre.assessor_ids = list(self.assessor_names)
        self.iqa_of = {a: self.centre.iqa_ids[n % shape.iqas]
                       for n, a in enumerate(self.centre.assessor_ids)}
        self.working_towards = set(self.centre.assessor_ids[:shape.working_towards])
        self.countersigner = self.centre.assessor_ids[-1]
        #: (enrolment, unit) -> [(decision id, item id, file hash, decided at)]
        self.decisions_of: dict[tuple[int, int], list] = defaultdict(list)
        #: (assessor, qualification) -> [enrolment id]
        self.learners_of: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.learner_of: dict[int, int] = {}  # enrolment -> learner
        self.unit_numbers = {unit.id: unit.number
                             for _, units in qualifications for unit in units}
        self.learners = 0

    def audit(self, actor_id, action, object_type, object_id, at, learner_id=None, **data):
        self.out.add("audit_events", at=at, actor_id=actor_id, centre_id=self.centre.centre_id,
                     learner_id=learner_id, action=action, object_type=object_type,
                     object_id=object_id, data=data, address=None)

    def person(self, local: str, display: str, role: str, actor: int | None) -> int:
        email = self.centre.email(local)
        user_id = self.out.add("users", centre_id=self.centre.centre_id, email=email,
                               name=display, password_hash=self.hashed, is_enabled=True,
                               created_at=self.year_ago)
        self.out.add("role_grants", user_id=user_id, centre_id=self.centre.centre_id, role=role,
                     granted_at=self.year_ago)
        self.audit(actor or user_id, "user.created", "user", user_id, self.year_ago,
                   email=email, roles=[role])
        return user_id

    def fill_learner(self) -> None:
        out, rng, shape, n = self.out, self.rng, self.shape, self.learners
        self.learners += 1
        version, units = self.qualifications[n % len(self.qualifications)]
        assessor_id = self.centre.assessor_ids[n % shape.assessors]
        iqa_id = self.iqa_of[assessor_id]
        learner_id = self.person(f"learner{n}", f"Learner {n:05d}", "learner",
                                 actor=self.centre.admin_id)
        start = self.year_ago - dt.timedelta(days=rng.randrange(0, 180))
        registration = f"D{n:06d}"
        enrolment_id = out.add(
            "enrolments", centre_id=self.centre.centre_id, learner_id=learner_id,
            version_id=version.id, qualification_id=version.qualification_id,
            registration_number=registration, start_date=start.date(),
            planned_end_date=(start + dt.timedelta(days=540)).date(), assessor_id=assessor_id,
            iqa_id=iqa_id, created_at=start, status="open", ended_reason="")
        self.audit(self.centre.admin_id, "enrolment.created", "enrolment", enrolment_id, start,
                   learner_id, qualification=version.qualification.qualification_number,
                   version=version.version, registration_number=registration)
        for role, holder in (("assessor", assessor_id), ("iqa", iqa_id)):
            out.add("enrolment_assignments", enrolment_id=enrolment_id, role=role,
                    user_id=holder, from_at=start)
        self.learners_of[assessor_id, version.qualification_id].append(enrolment_id)
        self.learner_of[enrolment_id] = learner_id
        self.centre.caseloads.setdefault(assessor_id, []).append(enrolment_id)
        claims = [(unit, criterion) for unit in rng.sample(units, k=len(units))
                  for criterion in unit.criteria]
        outcomes: dict[int, list[tuple[str, dt.datetime]]] = defaultdict(list)
        awaiting_item = shape.items_per_learner - 1 if rng.random() < AWAITING_RATE else None
        for i in range(shape.items_per_learner):
            created = self.year_ago + dt.timedelta(seconds=rng.uniform(0, 330 * 86400))
            decided = created + dt.timedelta(days=rng.uniform(1, 14))
            awaiting = i == awaiting_item
            mine = claims[i * shape.claims_per_item:(i + 1) * shape.claims_per_item]
            item_id = out.add(
                "evidence_items", enrolment_id=enrolment_id, title=f"Evidence {i + 1}",
                description="What I did and why.", evidence_date=created.date(),
                method=pick(rng, METHODS), setting=pick(rng, SETTINGS), witness_is_expert=False,
                declared_at=created, created_at=created, updated_at=created,
                judged_at=None if awaiting else decided,
                awaiting_decision_since=created if awaiting else None)
            digest = hashlib.sha256(f"{enrolment_id}/{item_id}".encode()).hexdigest()
            name = f"evidence-{i + 1}.pdf"
            file_id = out.add(
                "evidence_files", item_id=item_id, enrolment_id=enrolment_id,
                uploader_id=learner_id, object_key=f"evidence/demo/{enrolment_id}/{item_id}",
                sha256=digest, size=200_000, content_type="application/pdf", original_name=name,
                uploaded_at=created)
            self.audit(learner_id, "evidence.created", "evidence_item", item_id, created,
                       learner_id, title=f"Evidence {i + 1}",
                       files=[{"name": name, "sha256": digest, "size": 200_000, "id": file_id}],
                       criteria=sorted(c for _, (c, _) in mine))
            for unit, (criterion_id, label) in mine:
                out.add("criterion_claims", item_id=item_id, enrolment_id=enrolment_id,
                        criterion_id=criterion_id, created_at=created)
                if awaiting:
                    continue
                outcome = "met" if rng.random() < MET_RATE else "not_yet_met"
                decision_id = self.decide(enrolment_id, learner_id, assessor_id, unit.id,
                                          criterion_id, label, item_id, digest, decided, outcome)
                outcomes[unit.id].append((outcome, decided))
                self.decisions_of[enrolment_id, unit.id].append(
                    (decision_id, item_id, digest, decided))
        for unit in units:
            done = outcomes.get(unit.id, [])
            if len(done) == len(unit.criteria) and all(o == "met" for o, _ in done):
                self.sign_off(enrolment_id, learner_id, assessor_id, unit,
                              max(at for _, at in done) + dt.timedelta(days=2))

    def decide(self, enrolment_id, learner_id, assessor_id, unit_id, criterion_id, label,
               item_id, digest, decided, outcome) -> int:
        provisional = assessor_id in self.working_towards
        decision_id = self.out.add(
            "decisions", enrolment_id=enrolment_id, criterion_id=criterion_id, unit_id=unit_id,
            item_id=item_id, assessor_id=assessor_id, decided_at=decided, outcome=outcome,
            feedback="" if outcome == "met" else "Add the call log: it shows the outcome.",
            file_hashes=[digest], reason="", needs_countersignature=provisional)
        self.audit(assessor_id, "decision.recorded", "decision", decision_id, decided,
                   learner_id, criterion=label, item_id=item_id, outcome=outcome,
                   supersedes_id=None, reason="", file_hashes=[digest])
        if provisional and self.rng.random() < 0.8:
            at = decided + dt.timedelta(days=2)
            countersignature_id = self.out.add(
                "countersignatures", enrolment_id=enrolment_id, decision_id=decision_id,
                by_id=self.countersigner, at=at)
            self.audit(self.countersigner, "decision.countersigned", "countersignature",
                       countersignature_id, at, learner_id, what=label)
        return decision_id

    def sign_off(self, enrolment_id, learner_id, assessor_id, unit, at) -> None:
        at = min(at, self.now)
        sign_off_id = self.out.add(
            "unit_sign_offs", enrolment_id=enrolment_id, unit_id=unit.id, method="assessment",
            assessor_id=assessor_id, signed_at=at, details="",
            needs_countersignature=assessor_id in self.working_towards)
        self.audit(assessor_id, "unit.signed_off", "unit_sign_off", sign_off_id, at, learner_id,
                   unit=unit.number, method="assessment")
