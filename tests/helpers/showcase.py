"""One centre with something on every page, for the tests that visit every page (accessibility,
print): a person of each role, the learner enrolled on 600/1636/X with an item judged (one
criterion not yet met, with feedback), unit 204 met, declared and signed off, an item awaiting a
decision, an IQA's sample with an open action and a planned one, the IQA's sampling plan of the
assessor's work, a standardisation still blind and one open, a trainee assessor's decision
awaiting the assessor's countersignature, the notifications those made, and a password link for
the logged-out pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portfolio.accounts.links import issue_link
from portfolio.assessment.units import declare_unit, sign_off_unit
from portfolio.catalogue.models import Qualification
from portfolio.quality.plans import create_plan
from portfolio.quality.reading import sample_context
from portfolio.quality.strategy import DEFAULTS
from tests.helpers.assessment import add_item, criteria_of, decide, unit_node
from tests.helpers.browser import seed_enrolment
from tests.helpers.countersigning import seed_awaiting_countersignature
from tests.helpers.sampling import planned_sample, sample_with_action
from tests.helpers.standardisation import seed_standardisations

ROLES = ("centre_admin", "learner", "assessor", "iqa")
SLUG = "600-1636-X"


@dataclass(frozen=True)
class Showcase:
    #: Per role, the person's email address (password: PASSWORD).
    emails: dict[str, str]
    learner_id: int
    enrolment_id: int
    #: An item with decisions on it, and one awaiting a decision (the learner may still change).
    judged_item_id: int
    awaiting_item_id: int
    criterion_id: int
    #: Unit 204, signed off; and unit 301, open, for recording prior achievement.
    signed_off_unit: str
    sign_off_id: int
    open_unit_id: int
    password_token: str
    #: The IQA's sample of unit 204 (with an open action) and planned sample of unit 301.
    sample_id: int
    planned_sample_id: int
    #: A standardisation still blind (the IQA has judged its one item, the assessor not), that
    #: item there, and a past one whose round is open.
    standardisation_id: int
    standardised_evidence_id: int
    agreed_standardisation_id: int
    #: A decision of a trainee assessor's awaiting the showcase assessor's countersignature.
    countersign_decision_id: int
    #: The IQA's sampling plan of the assessor's work in the current cycle.
    plan_id: int


def seed_showcase(session) -> Showcase:
    """Flushes through the services (so events, audit and notifications are as in use); the
    caller commits."""
    seeded = seed_enrolment(session, "Showcase College", "showcase.example.org", "SHOW-1",
                            dt.date.today() - dt.timedelta(days=90),
                            dt.date.today() + dt.timedelta(days=270), roles=ROLES)
    enrolment, assessor = seeded.enrolment, seeded.users["assessor"]
    learner = seeded.users["learner"]
    unit_204 = criteria_of(session, enrolment, "204")
    judged = add_item(session, enrolment, unit_204, title="Using the contact centre systems")
    decide(session, judged, assessor, unit_204[:1], outcome="not_yet_met")
    decide(session, judged, assessor, unit_204[1:])
    resubmitted = add_item(session, enrolment, unit_204[:1], title="Keeping caller data secure",
                           resubmission_of=judged)
    decide(session, resubmitted, assessor, unit_204[:1])
    unit_id = unit_node(session, enrolment, "204").id
    declare_unit(session, enrolment, unit_id, learner)
    sign_off = sign_off_unit(session, enrolment, unit_id, assessor)
    awaiting = add_item(session, enrolment, criteria_of(session, enrolment, "301", 2),
                        title="Handling a billing complaint")
    iqa = seeded.users["iqa"]
    unit_204_now = sample_context(session, enrolment, unit_id, iqa)
    sample = sample_with_action(session, iqa, enrolment, unit_id,
                                [unit_204_now.decisions[i]
                                 for i in unit_204_now.selectable_decision_ids],
                                unit_204_now.items)
    planned = planned_sample(session, iqa, assessor, enrolment, "301")
    token = issue_link(session, iqa, "reset")
    blind_id, evidence_id, agreed_id = seed_standardisations(
        session, iqa, assessor, enrolment, awaiting)
    countersign = seed_awaiting_countersignature(session, seeded.centre, assessor, iqa,
                                                 "showcase.example.org")
    plan = create_plan(session, DEFAULTS, iqa, assessor,
                       session.get(Qualification, enrolment.qualification_id),
                       DEFAULTS.cycle_containing(dt.date.today())[0])
    session.flush()
    return Showcase(
        emails={role: user.email for role, user in seeded.users.items()},
        learner_id=learner.id, enrolment_id=enrolment.id, judged_item_id=judged.id,
        awaiting_item_id=awaiting.id, criterion_id=unit_204[0], signed_off_unit="204",
        sign_off_id=sign_off.id, open_unit_id=unit_node(session, enrolment, "301").id,
        password_token=token, sample_id=sample.id, planned_sample_id=planned.id,
        standardisation_id=blind_id,
        standardised_evidence_id=evidence_id, agreed_standardisation_id=agreed_id,
        countersign_decision_id=countersign.decision_id, plan_id=plan.id)
