"""Choosing which learner x unit pairs of an assessor's work to sample in a cycle: pure Python
over plain values, no Flask and no database, so it is tested (against brute force) and timed
alone.

A plan must cover CAMERA over the cycle: every Candidate, the Assessor, every Method of
assessment used, every unit of Evidence delivered, each learner's Records, and every Assessment
setting. Each of those is an *element*; a pair covers the elements it touches. The selection is
a greedy set cover (lazily re-scored, so it stays fast for thousands of pairs) with redundant
picks removed, then filled up to the band's rate, spreading the extra samples over the learners
and units sampled least. Greedy covering is within a factor H(d) of the smallest cover, d being
the most elements one pair touches; the property tests hold it to :data:`SIZE_FACTOR` on small
instances."""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The parts of CAMERA, in the order the plan's coverage view lists them.
ELEMENT_KINDS = {
    "candidate": "Candidate", "assessor": "Assessor", "method": "Method",
    "record": "Records", "unit": "Evidence (unit)", "setting": "Assessment setting",
}
#: How much larger than the smallest plan meeting the rate and covering CAMERA a proposal may
#: be (checked by the property tests on small instances).
SIZE_FACTOR = 2
NO_EVIDENCE = "no evidence of it has been judged by the assessor yet"

Element = tuple[str, object]


@dataclass(frozen=True)
class Pair:
    """A learner's unit: what the assessor's judged evidence on it used, and how far it is."""

    enrolment_id: int
    unit_id: int
    #: The methods and settings of the evidence the assessor judged on this unit.
    methods: frozenset[str] = frozenset()
    settings: frozenset[str] = frozenset()
    #: The unit is signed off (summative only) or likely to be (either stage).
    signed_off: bool = False
    likely_signed_off: bool = False
    #: Why it cannot be sampled (None when it can): no judged evidence yet, the IQA's own work.
    blocked: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        return self.enrolment_id, self.unit_id

    def elements(self) -> set[Element]:
        return {("candidate", self.enrolment_id), ("record", self.enrolment_id),
                ("assessor", None), ("unit", self.unit_id),
                *(("method", m) for m in self.methods), *(("setting", s) for s in self.settings)}


@dataclass(frozen=True)
class Planned:
    enrolment_id: int
    unit_id: int
    stage: str
    due_on: dt.date

    @property
    def key(self) -> tuple[int, int]:
        return self.enrolment_id, self.unit_id


@dataclass(frozen=True)
class Gap:
    """An element of CAMERA a plan leaves uncovered, and why."""

    kind: str
    value: object
    reason: str

    @property
    def kind_label(self) -> str:
        return ELEMENT_KINDS[self.kind]


@dataclass(frozen=True)
class Selection:
    planned: list[Planned]
    #: What cannot be covered (the reason says why) or, for a plan, what it leaves out.
    gaps: list[Gap]
    #: Pairs the rate asks for, and the pairs in all (sampleable or not).
    target: int
    pairs: int
    #: How many the rate asks for beyond the sampleable pairs.
    shortfall: int


def rate_target(pair_count: int, rate_percent: int) -> int:
    return math.ceil(pair_count * rate_percent / 100)


def greedy_cover(pairs: Sequence[Pair], needed: set[Element]) -> list[Pair]:
    """Pairs covering ``needed``: each step takes the pair covering most of what is left (ties
    to the earliest), then picks another pair made redundant are dropped, latest first."""
    elements = [pair.elements() & needed for pair in pairs]
    heap = [(-len(found), index) for index, found in enumerate(elements) if found]
    heapq.heapify(heap)
    left, chosen = set(needed), []
    while left and heap:
        stale, index = heapq.heappop(heap)
        gain = len(elements[index] & left)
        if gain == 0:
            continue
        if heap and gain < -heap[0][0] or (heap and gain == -heap[0][0] and heap[0][1] < index):
            heapq.heappush(heap, (-gain, index))  # scored before others were taken: again
            continue
        chosen.append(index)
        left -= elements[index]
    counts = Counter(element for index in chosen for element in elements[index])
    for index in reversed(list(chosen)):
        if all(counts[element] > 1 for element in elements[index]):
            chosen.remove(index)
            counts.subtract(elements[index])
    return [pairs[index] for index in sorted(chosen)]


def _fill(pairs: Sequence[Pair], chosen: list[Pair], target: int) -> list[Pair]:
    """Add pairs until ``target``: each time from the learner sampled least, their unit sampled
    least (learners kept in a heap by their count, so each addition costs a learner's units)."""
    taken = {pair.key for pair in chosen}
    per_learner = Counter(pair.enrolment_id for pair in chosen)
    per_unit = Counter(pair.unit_id for pair in chosen)
    rest: dict[int, list[Pair]] = defaultdict(list)
    for pair in pairs:
        if pair.key not in taken:
            rest[pair.enrolment_id].append(pair)
    heap = [(per_learner[learner], learner) for learner in rest]
    heapq.heapify(heap)
    result = list(chosen)
    while len(result) < target and heap:
        count, learner = heapq.heappop(heap)
        options = rest[learner]
        pair = min(options, key=lambda p: (per_unit[p.unit_id], p.unit_id))
        options.remove(pair)
        result.append(pair)
        per_unit[pair.unit_id] += 1
        if options:
            heapq.heappush(heap, (count + 1, learner))
    return result


def _stages(chosen: list[Pair], interim_percent: int) -> dict[tuple[int, int], str]:
    """Signed-off units are sampled summatively; units likely to be signed off are, up to the
    summative share; the rest at the interim stage."""
    summative_wanted = len(chosen) - rate_target(len(chosen), interim_percent)
    stages = {pair.key: "summative" for pair in chosen if pair.signed_off}
    for pair in chosen:
        if len(stages) >= summative_wanted:
            break
        if pair.likely_signed_off and pair.key not in stages:
            stages[pair.key] = "summative"
    return {pair.key: stages.get(pair.key, "interim") for pair in chosen}


def spread_due_dates(count: int, cycle_start: dt.date, cycle_end: dt.date) -> list[dt.date]:
    """``count`` days evenly spread over the cycle, none on its first day or after its last."""
    days = (cycle_end - cycle_start).days
    return [cycle_start + dt.timedelta(days=(i + 1) * days // (count + 1)) for i in range(count)]


def gaps_of(pairs: Iterable[Pair], chosen_keys: set[tuple[int, int]]) -> list[Gap]:
    """The elements of CAMERA no chosen pair covers: with no sampleable pair, why; otherwise,
    that the plan leaves it out."""
    pairs = list(pairs)
    covered = {element for pair in pairs if pair.key in chosen_keys for element in pair.elements()}
    reasons: dict[Element, str | None] = {}
    for pair in pairs:
        for element in pair.elements():
            if pair.blocked is None:
                reasons[element] = None
            elif reasons.get(element, "") is not None:
                reasons.setdefault(element, pair.blocked)
    order = list(ELEMENT_KINDS)
    return sorted((Gap(kind, value, reason or "not in the plan")
                   for (kind, value), reason in reasons.items() if (kind, value) not in covered),
                  key=lambda gap: (order.index(gap.kind), str(gap.value)))


def select(pairs: Sequence[Pair], rate_percent: int, interim_percent: int,
           cycle_start: dt.date, cycle_end: dt.date) -> Selection:
    """The proposal: cover every coverable element, meet the rate, split the stages, spread the
    due dates (interim first, summative later in the cycle)."""
    pairs = sorted({pair.key: pair for pair in pairs}.values(), key=lambda pair: pair.key)
    sampleable = [pair for pair in pairs if pair.blocked is None]
    needed = {element for pair in sampleable for element in pair.elements()}
    target = rate_target(len(pairs), rate_percent)
    chosen = _fill(sampleable, greedy_cover(sampleable, needed), target)
    stages = _stages(chosen, interim_percent)
    ordered = sorted(chosen, key=lambda pair: (stages[pair.key] == "summative", pair.key))
    planned = [Planned(pair.enrolment_id, pair.unit_id, stages[pair.key], due)
               for pair, due in zip(ordered, spread_due_dates(len(ordered), cycle_start,
                                                              cycle_end), strict=True)]
    return Selection(planned=planned, gaps=gaps_of(pairs, {p.key for p in planned}),
                     target=target, pairs=len(pairs), shortfall=max(0, target - len(sampleable)))
