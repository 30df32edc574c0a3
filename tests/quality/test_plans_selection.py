"""The plan generator's pure selection, alone: against brute force on small instances (every
coverable part of CAMERA covered, the rate met, no duplicates, within SIZE_FACTOR of the smallest
such plan), the stages and due dates, and its speed on a large caseload."""

from __future__ import annotations

import datetime as dt
import itertools
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.quality.selection import (
    NO_EVIDENCE,
    SIZE_FACTOR,
    Pair,
    gaps_of,
    rate_target,
    select,
    spread_due_dates,
)

START, END = dt.date(2026, 9, 1), dt.date(2027, 9, 1)
METHODS = ("observation", "product", "questioning", "witness_testimony")
SETTINGS = ("workplace", "simulated", "realistic_work_environment")


@st.composite
def instances(draw, max_pairs=8):
    learners = draw(st.integers(1, 4))
    units = draw(st.integers(1, 3))
    keys = draw(st.lists(st.tuples(st.integers(1, learners), st.integers(1, units)),
                         min_size=1, max_size=max_pairs, unique=True))
    pairs = []
    for enrolment_id, unit_id in keys:
        judged = draw(st.booleans()) or draw(st.booleans())
        methods = frozenset(draw(st.sets(st.sampled_from(METHODS), min_size=1, max_size=2))
                            ) if judged else frozenset()
        places = frozenset(draw(st.sets(st.sampled_from(SETTINGS), min_size=1, max_size=2))
                           ) if judged else frozenset()
        signed_off = judged and draw(st.booleans())
        pairs.append(Pair(enrolment_id, unit_id, methods, places, signed_off=signed_off,
                          likely_signed_off=signed_off or draw(st.booleans()),
                          blocked=None if judged else NO_EVIDENCE))
    return pairs, draw(st.integers(0, 100)), draw(st.integers(0, 100))


def smallest_plan(pairs, rate):
    """By enumeration: the size of the smallest set of sampleable pairs that covers every
    element some sampleable pair covers and meets the rate (as far as there are pairs)."""
    sampleable = [p for p in pairs if p.blocked is None]
    needed = set().union(*(p.elements() for p in sampleable))
    wanted = min(rate_target(len(pairs), rate), len(sampleable))
    for size in range(len(sampleable) + 1):
        for chosen in itertools.combinations(sampleable, size):
            covered = set().union(*(p.elements() for p in chosen))
            if covered >= needed and size >= wanted:
                return size
    raise AssertionError("the whole set always qualifies")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_proposal_covers_meets_the_rate_and_stays_near_the_smallest(instance):
    pairs, rate, interim = instance
    selection = select(pairs, rate, interim, START, END)
    keys = [p.key for p in selection.planned]
    assert len(keys) == len(set(keys)), "a pair planned twice"
    by_key = {p.key: p for p in pairs}
    assert all(by_key[k].blocked is None for k in keys), "a pair that cannot be sampled"
    sampleable = [p for p in pairs if p.blocked is None]
    covered = set().union(*(by_key[k].elements() for k in keys))
    assert covered >= set().union(*(p.elements() for p in sampleable))
    assert len(keys) >= min(rate_target(len(pairs), rate), len(sampleable))
    assert selection.shortfall == max(0, rate_target(len(pairs), rate) - len(sampleable))
    assert len(keys) <= SIZE_FACTOR * smallest_plan(pairs, rate)
    # What it leaves uncovered is exactly what no sampleable pair touches, said so.
    uncoverable = set().union(*(p.elements() for p in pairs)) - covered
    assert {(g.kind, g.value) for g in selection.gaps} == uncoverable
    assert all(g.reason == NO_EVIDENCE for g in selection.gaps)


@settings(max_examples=200, deadline=None)
@given(instances())
def test_stages_follow_sign_off_and_the_split_and_due_dates_stay_in_the_cycle(instance):
    pairs, rate, interim = instance
    selection = select(pairs, rate, interim, START, END)
    by_key = {p.key: p for p in pairs}
    for planned in selection.planned:
        pair = by_key[planned.key]
        if pair.signed_off:
            assert planned.stage == "summative"
        if planned.stage == "summative":
            assert pair.signed_off or pair.likely_signed_off
        assert START < planned.due_on < END
    summative = [p for p in selection.planned if p.stage == "summative"]
    wanted = len(selection.planned) - rate_target(len(selection.planned), interim)
    forced = sum(by_key[p.key].signed_off for p in selection.planned)
    assert len(summative) <= max(wanted, forced)
    # Interim samples come first in the cycle, summative ones after them.
    dues = [p.due_on for p in selection.planned]
    assert dues == sorted(dues)
    assert [p.stage for p in selection.planned] == sorted(
        (p.stage for p in selection.planned), key=lambda stage: stage == "summative")


def test_a_plan_missing_pairs_says_what_it_leaves_out_and_why():
    judged = Pair(1, 10, frozenset({"observation"}), frozenset({"workplace"}))
    other = Pair(2, 11, frozenset({"product"}), frozenset({"simulated"}))
    unjudged = Pair(3, 12, blocked=NO_EVIDENCE)
    gaps = {(g.kind, g.value): g.reason for g in gaps_of([judged, other, unjudged], {judged.key})}
    assert gaps == {("candidate", 2): "not in the plan", ("record", 2): "not in the plan",
                    ("unit", 11): "not in the plan", ("method", "product"): "not in the plan",
                    ("setting", "simulated"): "not in the plan",
                    ("candidate", 3): NO_EVIDENCE, ("record", 3): NO_EVIDENCE,
                    ("unit", 12): NO_EVIDENCE}


def test_due_dates_spread_evenly_over_the_cycle():
    assert spread_due_dates(3, START, END) == [dt.date(2026, 12, 1), dt.date(2027, 3, 2),
                                               dt.date(2027, 6, 1)]


def test_a_large_caseload_is_selected_quickly():
    """One assessor with 5,000 learners of 12 units each: 60,000 pairs."""
    pairs = [Pair(e, u, frozenset({METHODS[(e + u) % 4]}), frozenset({SETTINGS[e % 3]}),
                  signed_off=(e * u) % 5 == 0, likely_signed_off=(e * u) % 3 == 0)
             for e in range(5000) for u in range(12)]
    started = time.perf_counter()
    selection = select(pairs, 25, 50, START, END)
    elapsed = time.perf_counter() - started
    assert len(selection.planned) == 15_000
    assert not selection.gaps
    assert elapsed < 10, f"{elapsed:.2f} s"
