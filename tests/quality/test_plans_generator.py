"""The generator on the database: which learner x unit pairs it reads and with what facts, the
IQA's own work left out, the assessor's band from their staff record, and a query count that
does not grow with the number of learners."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from portfolio.accounts.staff import StaffRecord
from portfolio.assessment.models import PathwayChoice
from portfolio.assessment.units import declare_unit, sign_off_unit
from portfolio.catalogue.models import Qualification
from portfolio.quality.generator import OWN_WORK, gather_pairs, propose_plan
from portfolio.quality.selection import NO_EVIDENCE
from portfolio.quality.strategy import DEFAULTS, Strategy, band_of
from tests.helpers.assessment import add_item, criteria_of, decide, meet_unit, unit_node
from tests.helpers.factories import make_enrolment, make_user
from tests.helpers.queries import count_queries

CYCLE = dt.date(2026, 9, 1)
_numbers = itertools.count()


def _qualification(session, enrolment) -> Qualification:
    return session.get(Qualification, enrolment.qualification_id)


def _pairs(session, people):
    return {(p.enrolment_id, p.unit_id): p for p in gather_pairs(
        session, people.centre.id, people.iqa1.id, people.assessor1.id,
        people.enrolment1.qualification_id, CYCLE)}


def test_pairs_come_from_claims_with_the_methods_and_settings_judged(session, people):
    enrolment = people.enrolment1
    observed = add_item(session, enrolment, criteria_of(session, enrolment, "204", 2),
                        method="observation", setting="workplace")
    decide(session, observed, people.assessor1, criteria_of(session, enrolment, "204", 2))
    asked = add_item(session, enrolment, criteria_of(session, enrolment, "204")[2:3],
                     method="questioning", setting="simulated")
    decide(session, asked, people.assessor1, criteria_of(session, enrolment, "204")[2:3],
           outcome="not_yet_met")
    add_item(session, enrolment, criteria_of(session, enrolment, "301", 1))  # not judged yet
    pairs = _pairs(session, people)
    unit_204, unit_301 = (unit_node(session, enrolment, n).id for n in ("204", "301"))
    assert set(pairs) == {(enrolment.id, unit_204), (enrolment.id, unit_301)}
    judged = pairs[enrolment.id, unit_204]
    assert judged.methods == {"observation", "questioning"}
    assert judged.settings == {"workplace", "simulated"}
    assert judged.blocked is None and not judged.signed_off and not judged.likely_signed_off
    assert pairs[enrolment.id, unit_301].blocked == NO_EVIDENCE


def test_a_chosen_pathway_gives_the_units_and_signed_off_units_are_summative(session, people):
    enrolment = people.enrolment1
    session.add(PathwayChoice(enrolment_id=enrolment.id, units=["204", "205"],
                              chosen_by_id=people.assessor1.id))
    add_item(session, enrolment, criteria_of(session, enrolment, "301", 1))  # off the pathway
    meet_unit(session, enrolment, "204", people.assessor1)
    unit_204 = unit_node(session, enrolment, "204").id
    declare_unit(session, enrolment, unit_204, people.learner1)
    sign_off_unit(session, enrolment, unit_204, people.assessor1)
    meet_unit(session, enrolment, "205", people.assessor1)
    pairs = _pairs(session, people)
    unit_205 = unit_node(session, enrolment, "205").id
    assert set(pairs) == {(enrolment.id, unit_204), (enrolment.id, unit_205)}
    assert pairs[enrolment.id, unit_204].signed_off
    assert pairs[enrolment.id, unit_205].likely_signed_off
    assert not pairs[enrolment.id, unit_205].signed_off
    proposal = propose_plan(session, DEFAULTS, people.iqa1, people.assessor1,
                            _qualification(session, enrolment), CYCLE)
    stages = {p.key: p.stage for p in proposal.selection.planned}
    assert stages[enrolment.id, unit_204] == "summative"


def test_the_iqas_own_decisions_and_own_enrolment_are_never_proposed(session, people):
    """iqa2 also assesses: a unit they judged, and their own enrolment as a learner, stay out."""
    iqa, assessor = people.iqa2, people.assessor1
    other = make_user(session, people.centre, "learner3@north.test", "learner")
    enrolment = make_enrolment(session, other, assessor, people.iqa1)
    judged_by_iqa = add_item(session, enrolment, criteria_of(session, enrolment, "204", 1))
    decide(session, judged_by_iqa, iqa, criteria_of(session, enrolment, "204", 1))
    judged = add_item(session, enrolment, criteria_of(session, enrolment, "205", 1))
    decide(session, judged, assessor, criteria_of(session, enrolment, "205", 1))
    own = make_enrolment(session, iqa, assessor, people.iqa1, "600/1257/2")
    own_item = add_item(session, own, criteria_of(session, own, "01", 1))
    decide(session, own_item, assessor, criteria_of(session, own, "01", 1))
    proposal = propose_plan(session, DEFAULTS, iqa, assessor, _qualification(session, enrolment),
                            CYCLE)
    unit_204, unit_205 = (unit_node(session, enrolment, n).id for n in ("204", "205"))
    blocked = {p.key: p.blocked for p in proposal.pairs}
    assert blocked[enrolment.id, unit_204] == OWN_WORK
    assert blocked[enrolment.id, unit_205] is None
    planned = {p.key for p in proposal.selection.planned}
    assert (enrolment.id, unit_204) not in planned and (enrolment.id, unit_205) in planned
    other_qualification = propose_plan(session, DEFAULTS, iqa, assessor,
                                       _qualification(session, own), CYCLE)
    assert not other_qualification.pairs


@pytest.mark.parametrize(("status", "started", "qualified", "band", "rate"), [
    (None, None, None, "working_towards", 100),
    ("working_towards", dt.date(2026, 1, 5), None, "working_towards", 100),
    ("qualified", dt.date(2025, 1, 5), dt.date(2026, 3, 1), "new", 90),
    ("qualified", dt.date(2020, 1, 5), dt.date(2021, 3, 1), "experienced", 25),
])
def test_the_band_comes_from_the_staff_record(session, people, status, started, qualified, band,
                                              rate):
    strategy = Strategy(new_percent=90)
    qualification_id = people.enrolment1.qualification_id
    if status:
        session.add(StaffRecord(user_id=people.assessor1.id, qualification_id=qualification_id,
                                role="assessor", status=status, started_on=started,
                                qualified_on=qualified, recorded_by_id=people.admin.id))
        session.flush()
    found = band_of(session, strategy, people.assessor1.id, qualification_id, CYCLE)
    assert (found.name, found.rate, found.record_missing) == (band, rate, status is None)


def test_with_no_record_the_strictest_band_is_the_one_with_the_highest_rate(session, people):
    strategy = Strategy(working_towards_percent=80, new_percent=90)
    found = band_of(session, strategy, people.assessor1.id,
                    people.enrolment1.qualification_id, CYCLE)
    assert (found.name, found.rate, found.record_missing) == ("new", 90, True)


def test_an_experienced_assessors_plan_meets_the_rate(session, people):
    qualification_id = people.enrolment1.qualification_id
    session.add(StaffRecord(user_id=people.assessor1.id, qualification_id=qualification_id,
                            role="assessor", status="qualified", started_on=dt.date(2019, 1, 1),
                            recorded_by_id=people.admin.id))
    _caseload(session, people, 4)
    strategy = Strategy(experienced_percent=50, every_unit_of_new_qualification=False)
    proposal = propose_plan(session, strategy, people.iqa1, people.assessor1,
                            _qualification(session, people.enrolment1), CYCLE)
    assert proposal.band.name == "experienced" and proposal.rate == 50
    assert len(proposal.selection.planned) >= proposal.selection.pairs / 2
    assert len(proposal.selection.planned) < proposal.selection.pairs
    assert not proposal.selection.gaps
    new = propose_plan(session, Strategy(experienced_percent=50), people.iqa1,
                       people.assessor1, _qualification(session, people.enrolment1), CYCLE)
    assert new.new_qualification and new.rate == 100


def _caseload(session, people, learners: int) -> None:
    """``learners`` more learners of assessor1, each with two units judged."""
    for _ in range(learners):
        learner = make_user(session, people.centre, f"caseload{next(_numbers)}@north.test",
                            "learner")
        enrolment = make_enrolment(session, learner, people.assessor1, people.iqa1)
        for number, method in (("204", "observation"), ("205", "product")):
            criteria = criteria_of(session, enrolment, number, 2)
            decide(session, add_item(session, enrolment, criteria, method=method),
                   people.assessor1, criteria)


def test_the_queries_do_not_grow_with_the_learners(session, people):
    qualification = _qualification(session, people.enrolment1)

    def queries() -> int:
        session.expire_all()
        with count_queries() as statements:
            propose_plan(session, DEFAULTS, people.iqa1, people.assessor1, qualification, CYCLE)
        return len(statements)

    _caseload(session, people, 2)
    few = queries()
    _caseload(session, people, 6)
    assert queries() == few
    assert few <= 13
