"""The sampling trail's set-based queries against a brute-force count in Python, on random
decisions, samples (planned or ad hoc, with actions and countersignatures), planned samples and
sign-offs (countersigned or unlocked) around the period, some of them another centre's: every
figure of every line, and the totals, of the whole centre and narrowed to a qualification or an
assessor."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.assessment.models import Countersignature, Decision, UnitSignOff, UnitUnlock
from portfolio.quality.models import SAMPLE_OUTCOMES
from portfolio.quality.trail import COUNTS, COVERAGE, Period, TrailQuery, sampling_trail
from tests.helpers.assessment import add_item, criteria_of, unit_node
from tests.helpers.factories import make_enrolment, make_user
from tests.helpers.quality import (
    countersign_sample,
    make_plan,
    make_sample,
    plan_sample,
    raise_action,
    unplan,
)

PERIOD = Period(dt.date(2026, 9, 1), dt.date(2027, 2, 28))
TODAY = dt.date(2027, 1, 15)
FIRST_DAY = dt.date(2026, 8, 1)  # day offsets count from here; the period is days 31 to 211
#: Any day, the days either side of the period's edges often.
DAYS = st.one_of(st.sampled_from([30, 31, 211, 212]), st.integers(0, 240))
#: An action's due day, the day before, of and after TODAY often.
DUE_DAYS = st.one_of(st.sampled_from([166, 167, 168]), DAYS)
UNITS = ("204", "301")
METHODS = (("product", "workplace"), ("observation", "simulated"),
           ("witness_testimony", "workplace"))

#: Enrolments 0 to 2 are the centre's, 3 is another centre's.
decisions_strategy = st.lists(st.tuples(
    st.integers(0, 3),  # enrolment
    st.integers(0, 1),  # unit
    st.integers(0, 2),  # item's method and setting
    DAYS, st.booleans(), st.booleans()), max_size=8)  # needs a countersignature, has one
samples_strategy = st.lists(st.tuples(
    st.integers(0, 9),  # the decision whose enrolment and unit are sampled
    st.integers(0, 1),  # IQA
    DAYS, st.sampled_from(list(SAMPLE_OUTCOMES)),
    st.one_of(st.none(), DAYS),  # planned, due that day
    st.booleans(), st.booleans(),  # needs a countersignature, has one
    st.lists(st.tuples(st.booleans(), DUE_DAYS), max_size=2)), max_size=5)  # actions: closed, due
planned_strategy = st.lists(st.tuples(st.integers(0, 3), DAYS, st.booleans()), max_size=4)
sign_offs_strategy = st.lists(st.tuples(
    st.integers(0, 3), st.integers(0, 1), DAYS,  # enrolment, unit, day
    st.booleans(), st.booleans(), st.booleans()), max_size=4)  # needs, countersigned, unlocked


def day(offset: int) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=offset)


def noon(offset: int) -> dt.datetime:
    return dt.datetime.combine(day(offset), dt.time(12), tzinfo=dt.UTC)


def in_period(offset: int) -> bool:
    return PERIOD.starts_on <= day(offset) <= PERIOD.ends_on


def before_end(offset: int) -> bool:
    return day(offset) <= PERIOD.ends_on


def expected(decisions, samples, planned, sign_offs, centre, qualification=None,
             assessor=None):
    """The trail of ``centre`` counted row by row, optionally of one qualification or assessor:
    {(assessor, qualification): {figure: value}}, totals."""
    def chosen(record):
        return record["centre"] == centre and qualification in (None, record["qualification"]) \
            and assessor in (None, record["assessor"])

    decisions, samples, planned, sign_offs = ([r for r in records if chosen(r)] for records in (
        decisions, samples, planned, sign_offs))
    lines = defaultdict(lambda: defaultdict(int))
    for cell in planned:
        if not cell["removed"] and in_period(cell["due"]):
            lines[cell["assessor"], cell["qualification"]]["planned"] += 1
    for sign_off in sign_offs:
        if sign_off["pending"] and in_period(sign_off["day"]):
            lines[sign_off["assessor"], sign_off["qualification"]]["sign_offs_pending"] += 1
    for sample in samples:
        key, figures = (sample["assessor"], sample["qualification"]), None
        if sample["due"] is not None and in_period(sample["due"]):
            lines[key]["planned"] += 1
            lines[key]["planned_done"] += before_end(sample["day"])
        if in_period(sample["day"]):
            figures = lines[key]
            figures["samples"] += 1
            figures["ad_hoc"] += sample["due"] is None
            figures[sample["outcome"]] += 1
            figures["samples_pending"] += sample["needs"] and not sample["signed"]
        for closed, due in sample["actions"]:
            if not closed and before_end(sample["day"]):
                lines[key]["open_actions"] += 1
                lines[key]["overdue_actions"] += day(due) < TODAY
    sampled = {d for s in samples if in_period(s["day"]) for d in s["decisions"]}
    seen = [d for d in decisions if in_period(d["day"])]
    for d in seen:
        lines[d["assessor"], d["qualification"]]["decisions_pending"] += \
            d["needs"] and not d["signed"]

    def coverage(chosen):
        return {"learners": {d["enrolment"] for d in chosen},
                "assessors": {d["assessor"] for d in chosen},
                "methods": {d["method"] for d in chosen}, "units": {d["unit"] for d in chosen},
                "records": {d["id"] for d in chosen}, "settings": {d["setting"] for d in chosen}}

    def cover(chosen, figures):
        for name, values in coverage(chosen).items():
            figures[f"{name} total"] = len(values)
        for name, values in coverage([d for d in chosen if d["id"] in sampled]).items():
            figures[f"{name} sampled"] = len(values)

    for key in {(d["assessor"], d["qualification"]) for d in seen}:
        cover([d for d in seen if (d["assessor"], d["qualification"]) == key], lines[key])
    totals = defaultdict(int)
    for figures in lines.values():
        for name in COUNTS:
            totals[name] += figures[name]
    cover(seen, totals)
    return {key: flat(figures) for key, figures in lines.items()}, flat(totals)


def flat(figures) -> dict[str, int]:
    return {**{name: figures[name] for name in COUNTS},
            **{f"{name} {part}": figures[f"{name} {part}"] for name in COVERAGE
               for part in ("sampled", "total")}}


def found(figures) -> dict[str, int]:
    return {**{name: getattr(figures, name) for name in COUNTS},
            **{f"{name} {part}": getattr(figures.coverage[name], part) for name in COVERAGE
               for part in ("sampled", "total")}}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(decisions_strategy, samples_strategy, planned_strategy, sign_offs_strategy)
def test_the_trail_agrees_with_counting_row_by_row(session, people, decision_specs,
                                                   sample_specs, planned_specs, sign_off_specs):
    with session.begin_nested() as savepoint:
        third = make_user(session, people.centre, "third@north.test", "learner")
        enrolments = [people.enrolment1, people.enrolment2,
                      make_enrolment(session, third, people.assessor1, people.iqa2, "600/1257/2"),
                      people.other_enrolment]
        iqas = (people.iqa1, people.iqa2)
        plans = {}

        def plan_of(enrolment):
            key = (enrolment.assessor_id, enrolment.qualification_id)
            if key not in plans:
                plans[key] = make_plan(session, people.iqa2, session.get(
                    type(people.assessor1), enrolment.assessor_id), enrolment)
            return plans[key]

        numbers = {0: UNITS, 1: ("01", "02"), 2: ("01", "02"), 3: UNITS}
        used = defaultdict(int)
        decisions = []
        for e, u, m, offset, needs, signed in decision_specs:
            enrolment, number = enrolments[e], numbers[e][u]
            criterion = criteria_of(session, enrolment, number)[used[e, u]]
            used[e, u] += 1
            method, setting = METHODS[m]
            item = add_item(session, enrolment, [criterion])
            item.method, item.setting = method, setting
            decision = Decision(
                enrolment_id=enrolment.id, criterion_id=criterion,
                unit_id=unit_node(session, enrolment, number).id, item_id=item.id,
                assessor_id=enrolment.assessor_id, decided_at=noon(offset), outcome="met",
                file_hashes=[], needs_countersignature=needs)
            session.add(decision)
            session.flush()
            if needs and signed:
                session.add(Countersignature(decision_id=decision.id, by_id=people.iqa2.id))
            decisions.append({"id": decision.id, "row": decision, "enrolment": enrolment.id,
                              "centre": enrolment.centre_id,
                              "assessor": enrolment.assessor_id, "day": offset,
                              "qualification": enrolment.qualification_id, "method": method,
                              "setting": setting, "unit": decision.unit_id, "needs": needs,
                              "signed": needs and signed})
        samples = []
        for anchor, i, offset, outcome, due, needs, signed, actions in sample_specs:
            if not decisions:
                break
            first = decisions[anchor % len(decisions)]
            chosen = [d for d in decisions if (d["enrolment"], d["unit"]) ==
                      (first["enrolment"], first["unit"])]
            enrolment = next(e for e in enrolments if e.id == first["enrolment"])
            planned = None if due is None else plan_sample(
                session, plan_of(enrolment), enrolment, first["unit"], day(due))
            sample = make_sample(session, iqas[i], [d["row"] for d in chosen], outcome=outcome,
                                 planned=planned, recorded_at=noon(offset),
                                 needs_countersignature=needs)
            if needs and signed:
                countersign_sample(session, sample, people.admin)
            for closed, action_due in actions:
                raise_action(session, sample, session.get(type(people.assessor1),
                                                          first["assessor"]),
                             day(action_due), closed=closed)
            samples.append({"centre": first["centre"], "assessor": first["assessor"],
                            "day": offset, "due": due,
                            "qualification": first["qualification"], "outcome": outcome,
                            "needs": needs, "signed": needs and signed, "actions": actions,
                            "decisions": {d["id"] for d in chosen}})
        planned = []
        for e, due, removed in planned_specs:
            enrolment = enrolments[e]
            cell = plan_sample(session, plan_of(enrolment), enrolment,
                               unit_node(session, enrolment, numbers[e][0]).id, day(due))
            if removed:
                unplan(session, plan_of(enrolment), cell)
            planned.append({"centre": enrolment.centre_id, "assessor": enrolment.assessor_id,
                            "qualification": enrolment.qualification_id, "removed": removed,
                            "due": due})
        sign_offs = []
        for e, u, offset, needs, signed, unlocked in sign_off_specs:
            enrolment = enrolments[e]
            sign_off = UnitSignOff(
                enrolment_id=enrolment.id, unit_id=unit_node(session, enrolment,
                                                             numbers[e][u]).id,
                method="assessment", assessor_id=enrolment.assessor_id, signed_at=noon(offset),
                needs_countersignature=needs)
            session.add(sign_off)
            session.flush()
            if needs and signed:
                session.add(Countersignature(sign_off_id=sign_off.id, by_id=people.iqa2.id))
            if unlocked:
                session.add(UnitUnlock(sign_off_id=sign_off.id, admin_id=people.admin.id,
                                       reason="Signed off by mistake."))
            session.flush()
            sign_offs.append({"centre": enrolment.centre_id, "assessor": enrolment.assessor_id,
                              "qualification": enrolment.qualification_id, "day": offset,
                              "pending": needs and not signed and not unlocked})

        for narrowed in ({}, {"qualification": people.enrolment2.qualification_id},
                         {"assessor": people.assessor1.id}):
            trail = sampling_trail(session, TrailQuery(
                people.centre.id, PERIOD, TODAY, qualification_id=narrowed.get("qualification"),
                assessor_id=narrowed.get("assessor")))
            lines, totals = expected(decisions, samples, planned, sign_offs, people.centre.id,
                                     **narrowed)
            assert {(line.assessor_id, line.qualification_id): found(line.figures)
                    for line in trail.lines} == lines, narrowed
            assert found(trail.totals) == totals, narrowed
        savepoint.rollback()
