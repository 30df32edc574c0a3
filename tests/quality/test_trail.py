"""The sampling trail's figures: planned against done, outcomes, actions, CAMERA coverage and
countersignatures pending, per assessor x qualification and in total, over a period; and its
query count, which does not grow with the number of learners."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.core.dates import LONDON
from portfolio.quality.trail import Period, TrailQuery, sampling_trail
from portfolio.quality.trail_listing import trail_samples
from tests.helpers.assessment import add_item, criteria_of, decide
from tests.helpers.factories import make_enrolment, make_user
from tests.helpers.quality import (
    IN_PERIOD,
    PERIOD,
    TODAY,
    at,
    build_scene,
    make_plan,
    make_sample,
    plan_sample,
    raise_action,
)
from tests.helpers.queries import count_queries


def query(people, **kwargs) -> TrailQuery:
    return TrailQuery(people.centre.id, kwargs.pop("period", PERIOD), TODAY, **kwargs)


def coverage(figures) -> dict[str, tuple[int, int]]:
    return {name: (c.sampled, c.total) for name, c in figures.coverage.items()}


def test_each_assessor_and_qualification_has_its_figures(session, people):
    scene = build_scene(session, people)
    trail = sampling_trail(session, query(people))
    assert [(line.assessor, line.qualification) for line in trail.lines] == [
        ("Assessor1", "600/1636/X"), ("Assessor2", "600/1257/2")]
    first, second = (line.figures for line in trail.lines)
    assert (first.planned, first.planned_done, first.ad_hoc, first.samples) == (2, 1, 1, 2)
    assert (first.agree, first.agree_with_feedback, first.action_required) == (1, 0, 1)
    assert (first.open_actions, first.overdue_actions) == (1, 1)
    assert (first.decisions_pending, first.sign_offs_pending, first.samples_pending) == (1, 0, 0)
    records = len(scene.unit_204) + len(scene.unit_301)
    assert coverage(first) == {"learners": (1, 1), "assessors": (1, 1), "methods": (2, 2),
                               "units": (2, 2), "records": (records - 1, records),
                               "settings": (2, 2)}
    assert (second.planned, second.samples, second.agree_with_feedback) == (0, 1, 1)
    assert (second.open_actions, second.overdue_actions) == (2, 0)
    assert (second.decisions_pending, second.sign_offs_pending, second.samples_pending) == \
        (0, 1, 1)
    assert coverage(second)["records"] == (2, 2)

    totals = trail.totals
    assert (totals.planned, totals.planned_done, totals.samples, totals.open_actions) == \
        (2, 1, 3, 3)
    assert coverage(totals) == {"learners": (2, 2), "assessors": (2, 2), "methods": (2, 2),
                                "units": (3, 3), "records": (records + 1, records + 2),
                                "settings": (2, 2)}
    assert (trail.centre, trail.qualification, trail.assessor) == (
        "North College", "All qualifications", "All assessors")


def test_a_qualification_or_an_assessor_narrows_every_figure(session, people):
    build_scene(session, people)
    by_qualification = sampling_trail(session, query(
        people, qualification_id=people.enrolment2.qualification_id))
    assert [line.assessor for line in by_qualification.lines] == ["Assessor2"]
    assert by_qualification.qualification == "600/1257/2"
    assert coverage(by_qualification.totals)["learners"] == (1, 1)
    by_assessor = sampling_trail(session, query(people, assessor_id=people.assessor1.id))
    assert [line.assessor for line in by_assessor.lines] == ["Assessor1"]
    assert by_assessor.assessor == "Assessor1"
    assert by_assessor.totals.samples == 2 and by_assessor.totals.sign_offs_pending == 0


def test_the_period_is_read_in_london_days(session, people):
    """A decision at 23:30 UTC on 31 August is on 1 September in London (BST)."""
    build_scene(session, people)
    item = add_item(session, people.enrolment1, criteria_of(session, people.enrolment1, "206", 1))
    at(session, decide(session, item, people.assessor1,
                       criteria_of(session, people.enrolment1, "206", 1)),
       dt.datetime(2026, 8, 31, 23, 30, tzinfo=dt.UTC))
    units = coverage(sampling_trail(session, query(people)).totals)["units"]
    assert units == (3, 4)
    before = Period(dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    earlier = sampling_trail(session, query(people, period=before))
    assert coverage(earlier.totals)["records"] == (0, 1)  # the 205 decision only
    assert earlier.totals.samples == 1 and earlier.totals.planned == 1
    assert earlier.totals.planned_done == 0


def test_nothing_in_the_period_gives_no_lines(session, people):
    build_scene(session, people)
    trail = sampling_trail(session, query(people, period=Period(dt.date(2020, 1, 1),
                                                                dt.date(2020, 12, 31))))
    assert trail.lines == [] and trail.totals.samples == 0
    assert coverage(trail.totals)["learners"] == (0, 0)


def test_another_centres_records_never_count(session, people):
    build_scene(session, people)
    trail = sampling_trail(session, TrailQuery(people.other_centre.id, PERIOD, TODAY))
    assert trail.lines == [] and list(trail_samples(session, trail.query)) == []


def test_the_samples_are_listed_with_their_plan_actions_and_countersignature(session, people):
    build_scene(session, people)
    listed = list(trail_samples(session, query(people)))
    assert [(s.assessor, s.iqa, s.outcome, s.open_actions, s.countersignature) for s in listed] \
        == [("Assessor1", "Iqa1", "Agree", 0, "Not needed"),
            ("Assessor1", "Iqa2", "Action required", 1, "Not needed"),
            ("Assessor2", "Iqa1", "Agree with feedback", 2, "Pending")]
    assert listed[0].planned_due_on == dt.date(2027, 2, 1) and listed[1].planned_due_on is None
    assert listed[0].unit.startswith("204 ") and listed[0].learner == "Learner1"


@pytest.mark.parametrize(("starts_on", "ends_on", "expected"), [
    (None, None, (dt.date(2026, 3, 16), TODAY)),
    (None, dt.date(2028, 2, 29), (dt.date(2027, 3, 1), dt.date(2028, 2, 29))),
    (dt.date(2027, 1, 1), None, (dt.date(2027, 1, 1), TODAY)),
])
def test_a_period_not_given_is_the_year_to_today(starts_on, ends_on, expected):
    period = Period.choose(starts_on, ends_on, TODAY)
    assert (period.starts_on, period.ends_on) == expected


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="cannot start"):
        Period.choose(dt.date(2027, 2, 1), dt.date(2027, 1, 1), TODAY)


def test_the_period_edges_are_london_midnights():
    period = Period(dt.date(2026, 9, 1), dt.date(2026, 12, 31))
    assert period.starts_at == dt.datetime(2026, 8, 31, 23, tzinfo=dt.UTC)
    assert period.ends_at == dt.datetime(2027, 1, 1, tzinfo=LONDON)


def add_learners(session, people, plan, count, first=0):
    """``count`` more learners of assessor 1, each with a unit judged and sampled, planned and
    with an open action."""
    for n in range(first, first + count):
        learner = make_user(session, people.centre, f"more{n}@north.test", "learner")
        enrolment = make_enrolment(session, learner, people.assessor1, people.iqa1)
        item = add_item(session, enrolment, criteria_of(session, enrolment, "204", 2))
        decisions = decide(session, item, people.assessor1,
                           criteria_of(session, enrolment, "204", 2))
        at(session, decisions, IN_PERIOD)
        planned = plan_sample(session, plan, enrolment, decisions[0].unit_id, TODAY)
        sample = make_sample(session, people.iqa2, decisions, planned=planned,
                             recorded_at=IN_PERIOD, outcome="action_required")
        raise_action(session, sample, people.assessor1, TODAY)


def trail_statements(session, people) -> list[str]:
    with count_queries() as statements:
        sampling_trail(session, query(people))
        list(trail_samples(session, query(people)))
    return statements


def test_the_query_count_does_not_grow_with_the_learners(session, people):
    build_scene(session, people)
    plan = make_plan(session, people.iqa2, people.assessor1, people.enrolment1,
                     cycle_starts_on=dt.date(2025, 1, 1))
    add_learners(session, people, plan, 1)
    few = trail_statements(session, people)
    add_learners(session, people, plan, 6, first=1)
    many = trail_statements(session, people)
    assert len(many) == len(few) <= 11
    assert sampling_trail(session, query(people)).lines[0].figures.samples == 2 + 7
