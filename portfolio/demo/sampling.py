"""A synthetic centre's internal quality assurance over the last year, from the decisions its
:class:`~portfolio.demo.centre.CentreFiller` kept:

- per assessor and qualification a sampling plan by the assessor's IQA: an interim sample of
  every learner and a summative one of every other, due over the year, one in twenty removed by
  a second revision;
- samples of most planned samples now due (the unit's decisions and items, the five checks), a
  few ad-hoc ones, outcomes seven in ten agree, two with feedback, one action required (samples
  by the last IQA, working towards, countersigned seven in ten by the first); an action per
  action required, the older ones answered and closed.
"""

from __future__ import annotations

import datetime as dt

from portfolio.demo.centre import CentreFiller, pick
from portfolio.quality.models import CHECKS

OUTCOMES = {"agree": 70, "agree_with_feedback": 20, "action_required": 10}


def fill_sampling(filler: CentreFiller) -> None:
    out, rng, now, year_ago = filler.out, filler.rng, filler.now, filler.year_ago
    sampled_units = {}  # enrolment -> units with decisions, in the order decided
    for enrolment_id, unit_id in filler.decisions_of:
        sampled_units.setdefault(enrolment_id, []).append(unit_id)
    centre_id = filler.centre.centre_id
    for (assessor_id, qualification_id), enrolments in filler.learners_of.items():
        enrolments = [e for e in enrolments if e in sampled_units]
        if not enrolments:
            continue
        iqa_id = filler.iqa_of[assessor_id]
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
                if not removed and due < now.date() and rng.random() < 0.85:
                    at = dt.datetime.combine(due, dt.time(10), tzinfo=dt.UTC) - \
                        dt.timedelta(days=rng.uniform(0, 10))
                    _record_sample(filler, iqa_id, assessor_id, qualification_id,
                                   enrolment_id, unit_id, stage, at, planned_id)
        for enrolment_id in rng.sample(enrolments, k=max(1, len(enrolments) // 20)):
            _record_sample(filler, iqa_id, assessor_id, qualification_id, enrolment_id,
                           rng.choice(sampled_units[enrolment_id]), "interim",
                           now - dt.timedelta(days=rng.uniform(1, 300)), None)


def _record_sample(filler: CentreFiller, iqa_id, assessor_id, qualification_id, enrolment_id,
                   unit_id, stage, at, planned_id) -> None:
    out, rng, now = filler.out, filler.rng, filler.now
    decisions = filler.decisions_of[enrolment_id, unit_id]
    # Never before the decisions it samples, never in the future.
    at = min(max(at, max(d[3] for d in decisions) + dt.timedelta(days=1)), now)
    outcome = pick(rng, OUTCOMES)
    iqa_ids = filler.centre.iqa_ids
    needs = filler.shape.working_towards > 0 and iqa_id == iqa_ids[-1]
    sample_id = out.add(
        "samples", centre_id=filler.centre.centre_id, enrolment_id=enrolment_id,
        unit_id=unit_id, qualification_id=qualification_id, iqa_id=iqa_id,
        assessor_id=assessor_id, stage=stage, planned_sample_id=planned_id, recorded_at=at,
        outcome=outcome,
        feedback="Clear decisions." if outcome == "agree" else "See the note on 1.2.",
        needs_countersignature=needs)
    items = {}
    for decision_id, item_id, digest, _ in decisions:
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
    actions = 0
    if outcome == "action_required":
        actions = 1
        due = (at + dt.timedelta(days=14)).date()
        closed = due < now.date() - dt.timedelta(days=7) and rng.random() < 0.8
        action_id = out.add("sample_actions", sample_id=sample_id, owner_id=assessor_id,
                            text="Re-assess with a witness statement.", due_on=due,
                            raised_at=at, closed=closed)
        if closed:
            out.add("action_entries", action_id=action_id, kind="response", by_id=assessor_id,
                    at=at + dt.timedelta(days=10), text="Done: see the new decision.")
            out.add("action_entries", action_id=action_id, kind="closed", by_id=iqa_id,
                    at=at + dt.timedelta(days=12), text="")
    filler.audit(iqa_id, "sample.recorded", "sample", sample_id, at,
                 filler.learner_of[enrolment_id], unit=filler.unit_numbers[unit_id],
                 stage=stage, outcome=outcome, assessor=filler.assessor_names[assessor_id],
                 assessor_id=assessor_id, decision_ids=[d[0] for d in decisions],
                 item_ids=list(items), planned_sample_id=planned_id, actions=actions)
