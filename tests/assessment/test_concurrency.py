"""Real concurrent transactions on PostgreSQL: two decisions on the same criterion at the same
moment never both become current; one wins, the other gets a conflict.

Each test runs on a fresh database (the test-per-transaction fixtures cannot show what another
connection sees), with one thread, app context, session and connection per contender.

Where the barrier sits: both contenders must have read the current decision (so the application
check passes for both) before either writes. PostgreSQL makes an INSERT that collides with an
uncommitted row of a unique index wait for that transaction, so a barrier placed after the flush
would deadlock; the decision tests therefore meet right before the flush that inserts the
decisions, and the commit follows at once. Operations that write no colliding rows meet right
before the commit.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portfolio.accounts.models import Enrolment, User
from portfolio.assessment.decisions import Judgement, record_decisions
from portfolio.assessment.errors import AssessmentError, DecisionConflict
from portfolio.assessment.models import Decision, UnitSignOff, UnitUnlock
from portfolio.assessment.progress import current_sign_offs
from portfolio.assessment.queries import history
from portfolio.assessment.units import sign_off_unit
from portfolio.catalogue.models import Criterion
from portfolio.core.audit import AuditEvent
from portfolio.evidence import services as evidence
from portfolio.evidence.models import EvidenceItem
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.assessment import FEEDBACK, add_item, criteria_of, decide, refusals
from tests.helpers.concurrency import TIMEOUT, post_at_once
from tests.helpers.databases import on_postgres
from tests.helpers.factories import make_people
from tests.helpers.web import text

pytestmark = pytest.mark.skipif(not on_postgres(),
                                reason="real concurrent transactions need PostgreSQL")



@pytest.fixture()
def fresh(tmp_path, builtin_specs):
    """A migrated database with the catalogue and, committed, learner1's item claiming every
    criterion of unit 301 (11 criteria)."""
    with app_on_new_database(tmp_path, builtin_specs.values()) as app:
        with app.app_context():
            people = make_people(db.session)
            criteria = criteria_of(db.session, people.enrolment1, "301")
            # The version tree is cached per process: it must describe this database too.
            assert db.session.scalar(sa.text(
                "SELECT u.number FROM criteria c JOIN units u ON u.id = c.unit_id "
                "WHERE c.id = :id"), {"id": criteria[0]}) == "301"
            item = add_item(db.session, people.enrolment1, criteria, title="Call log")
            db.session.commit()
            ids = SimpleNamespace(
                app=app, item=item.id, enrolment=people.enrolment1.id, criteria=criteria,
                criterion=criteria[0], assessor1=people.assessor1.id,
                assessor2=people.assessor2.id, assessor1_email=people.assessor1.email,
                admin_email=people.admin.email)
            db.session.remove()
        yield ids


def race(app, *contenders, meet="start", model=None):
    """Run each ``contender(session)`` in its own thread and transaction; they meet at a barrier
    right before starting (``meet="start"``: the application's row lock must then serialise
    them), right before the commit, or (``meet="flush"``) right before the first flush writing
    a ``model`` row. Returns, per contender, "committed" or the exception it ended with."""
    barrier = threading.Barrier(len(contenders), timeout=TIMEOUT)
    results: list[object] = [None] * len(contenders)

    def run(index, contender):
        with app.app_context():
            session = db.session
            if meet == "flush":
                def wait(flushing, context, instances):
                    if any(isinstance(o, model) for o in (*flushing.new, *flushing.dirty)):
                        barrier.wait()

                sa.event.listen(session(), "before_flush", wait)
            try:
                if meet == "start":
                    barrier.wait()
                contender(session)
                if meet == "commit":
                    barrier.wait()
                session.commit()
                results[index] = "committed"
            except (IntegrityError, AssessmentError) as error:
                session.rollback()
                barrier.abort()
                results[index] = error
            except BaseException as error:  # a failure of the test itself: report it
                barrier.abort()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
        assert not thread.is_alive(), "a contender is stuck"
    return results


def judging(ids, assessor_id, judgement):
    def contender(session):
        item = session.get(EvidenceItem, ids.item)
        record_decisions(session, item, session.get(User, assessor_id), [judgement])
    return contender


def one_winner(results, loser=(IntegrityError, DecisionConflict)):
    winners = [r for r in results if r == "committed"]
    losers = [r for r in results if r != "committed"]
    assert len(winners) == 1, results
    assert all(isinstance(r, loser) for r in losers), results


def chain(app, ids, criterion_id):
    """The criterion's decisions newest first as (id, supersedes, assessor, outcome), the ids of
    the current ones, and the number of decisions audited."""
    with app.app_context():
        session = db.session
        decisions = [(d.id, d.supersedes_id, d.assessor_id, d.outcome)
                     for d in history(session, ids.enrolment, criterion_id)]
        current = list(session.scalars(sa.select(Decision.id).where(
            Decision.enrolment_id == ids.enrolment, Decision.criterion_id == criterion_id,
            ~sa.exists().where(sa.orm.aliased(Decision).supersedes_id == Decision.id))))
        audited = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "decision.recorded"))
        db.session.remove()
    return decisions, current, audited


def test_two_assessors_making_the_first_decision_at_once(fresh):
    results = race(
        fresh.app,
        judging(fresh, fresh.assessor1, Judgement(fresh.criterion, "met")),
        judging(fresh, fresh.assessor2, Judgement(fresh.criterion, "not_yet_met",
                                                  feedback=FEEDBACK)))

    # The enrolment lock made the second wait for the first's commit; it then saw the decision.
    one_winner(results, loser=DecisionConflict)
    decisions, current, audited = chain(fresh.app, fresh, fresh.criterion)
    assert len(decisions) == 1 and current == [decisions[0][0]]
    assert decisions[0][1] is None
    winner = fresh.assessor1 if results[0] == "committed" else fresh.assessor2
    assert decisions[0][2] == winner
    assert audited == 1  # the loser's audit event went with its transaction


def test_two_assessors_superseding_the_same_decision_at_once(fresh):
    with fresh.app.app_context():
        item = db.session.get(EvidenceItem, fresh.item)
        [first] = decide(db.session, item, db.session.get(User, fresh.assessor1),
                         [fresh.criterion], "not_yet_met")
        first_id = first.id
        db.session.commit()
        db.session.remove()

    results = race(
        fresh.app,
        judging(fresh, fresh.assessor1, Judgement(
            fresh.criterion, "met", expected_current_id=first_id, reason="Misread the log")),
        judging(fresh, fresh.assessor2, Judgement(
            fresh.criterion, "not_yet_met", feedback="Still no date on the log",
            expected_current_id=first_id, reason="Second opinion")))

    one_winner(results, loser=DecisionConflict)
    decisions, current, audited = chain(fresh.app, fresh, fresh.criterion)
    assert len(decisions) == 2
    newest, oldest = decisions
    assert oldest[0] == first_id and newest[1] == first_id
    assert current == [newest[0]]
    assert newest[3] == ("met" if results[0] == "committed" else "not_yet_met")
    assert audited == 2


def _raw_decision(fresh, assessor_id, supersedes_id=None):
    """Writes a decision row directly, skipping the service's lock and check: what is left to
    stop a second current decision is the database's unique indexes."""
    def contender(session):
        item = session.get(EvidenceItem, fresh.item)
        unit_id = session.get(Criterion, fresh.criterion).unit_id
        session.add(Decision(enrolment_id=fresh.enrolment, criterion_id=fresh.criterion,
                             unit_id=unit_id, item_id=item.id, assessor_id=assessor_id,
                             outcome="met", file_hashes=[], supersedes_id=supersedes_id))
        session.flush()
    return contender


def test_the_unique_indexes_refuse_a_second_chain_even_without_the_lock(fresh):
    results = race(fresh.app, _raw_decision(fresh, fresh.assessor1),
                   _raw_decision(fresh, fresh.assessor2), meet="flush", model=Decision)
    one_winner(results, loser=IntegrityError)
    winner = next(i for i, r in enumerate(results) if r == "committed")
    first_id = chain(fresh.app, fresh, fresh.criterion)[0][0][0]
    results = race(fresh.app, _raw_decision(fresh, fresh.assessor1, first_id),
                   _raw_decision(fresh, fresh.assessor2, first_id), meet="flush", model=Decision)
    one_winner(results, loser=IntegrityError)
    decisions, current, _ = chain(fresh.app, fresh, fresh.criterion)
    assert len(decisions) == 2 and len(current) == 1
    assert decisions[1][2] == (fresh.assessor1, fresh.assessor2)[winner]


def test_the_loser_who_arrives_after_the_commit_gets_a_conflict(fresh):
    """Without a barrier before the write, the second reads the first's commit and the
    application check refuses it before the database has to."""
    committed = threading.Event()

    def first(session):
        judging(fresh, fresh.assessor1, Judgement(fresh.criterion, "met"))(session)
        session.commit()
        committed.set()

    def second(session):
        assert committed.wait(TIMEOUT)
        judging(fresh, fresh.assessor2, Judgement(fresh.criterion, "met"))(session)

    results = race(fresh.app, first, second, meet="nowhere")
    assert results[0] == "committed"
    assert isinstance(results[1], DecisionConflict), results
    assert "decided by someone else" in str(results[1])
    decisions, current, _ = chain(fresh.app, fresh, fresh.criterion)
    assert len(decisions) == 1 and current == [decisions[0][0]]
    assert decisions[0][2] == fresh.assessor1


def test_the_same_assessor_posting_twice_at_once(fresh):
    """Two tabs (or a double click) posting the same judgement page through the views."""
    app = fresh.app
    criteria = fresh.criteria[:3]
    data = {}
    for criterion in criteria:
        data[f"outcome-{criterion}"] = "met"
        data[f"current-{criterion}"] = ""
    responses = post_at_once(app, fresh.assessor1_email, f"/evidence/{fresh.item}/judge", data)

    statuses = sorted(getattr(r, "status_code", r) for r in responses)
    assert statuses == [302, 409], responses
    loser = next(r for r in responses if r.status_code == 409)
    assert "decided by someone else" in " ".join(refusals(text(loser)))
    for criterion in criteria:
        decisions, current, _ = chain(app, fresh, criterion)
        assert len(decisions) == 1 and current == [decisions[0][0]]
        assert decisions[0][2] == fresh.assessor1


# ------------------------------------------------------------------------- unit-level races


def meet_and_commit(fresh):
    with fresh.app.app_context():
        item = db.session.get(EvidenceItem, fresh.item)
        decide(db.session, item, db.session.get(User, fresh.assessor1), fresh.criteria)
        db.session.commit()
        unit_id = item.claims[0].criterion.unit_id
        db.session.remove()
    return unit_id


def signing_off(fresh, unit_id):
    def contender(session):
        sign_off_unit(session, session.get(Enrolment, fresh.enrolment), unit_id,
                               session.get(User, fresh.assessor1))
    return contender


def test_two_sign_offs_of_the_same_unit_at_once(fresh):
    unit_id = meet_and_commit(fresh)
    results = race(fresh.app, signing_off(fresh, unit_id), signing_off(fresh, unit_id))
    with fresh.app.app_context():
        current = current_sign_offs(db.session, [fresh.enrolment])
        db.session.remove()
    assert len(current) == 1, results
    assert results.count("committed") == 1, results


def test_a_sign_off_and_a_superseding_decision_at_once(fresh):
    unit_id = meet_and_commit(fresh)
    with fresh.app.app_context():
        met_id = history(db.session, fresh.enrolment, fresh.criterion)[0].id
        db.session.remove()
    results = race(
        fresh.app, signing_off(fresh, unit_id),
        judging(fresh, fresh.assessor1, Judgement(
            fresh.criterion, "not_yet_met", feedback=FEEDBACK, expected_current_id=met_id,
            reason="Witness statement unsigned")))
    with fresh.app.app_context():
        signed = bool(current_sign_offs(db.session, [fresh.enrolment]))
        outcome = history(db.session, fresh.enrolment, fresh.criterion)[0].outcome
        db.session.remove()
    assert not (signed and outcome != "met"), results


def test_two_admins_unlocking_at_once(fresh):
    unit_id = meet_and_commit(fresh)
    app = fresh.app
    with app.app_context():
        signed = sign_off_unit(db.session, db.session.get(Enrolment, fresh.enrolment),
                                        unit_id, db.session.get(User, fresh.assessor1))
        db.session.commit()
        url = f"/enrolments/{fresh.enrolment}/sign-offs/{signed.id}/unlock"
        db.session.remove()
    responses = post_at_once(app, fresh.admin_email, url, {"reason": "Recheck"})

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UnitUnlock)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UnitSignOff)) == 1
        db.session.remove()
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302], responses


def test_withdrawing_and_judging_an_item_at_once(fresh):
    def withdrawing(session):
        item = session.get(EvidenceItem, fresh.item)
        evidence.withdraw(session, item, session.get(User, item.enrolment.learner_id))

    results = race(fresh.app, withdrawing,
                   judging(fresh, fresh.assessor1, Judgement(fresh.criterion, "met")))
    with fresh.app.app_context():
        item = db.session.get(EvidenceItem, fresh.item)
        both = item.is_withdrawn and item.is_judged
        db.session.remove()
    assert not both, results
    assert results.count("committed") == 1, results
