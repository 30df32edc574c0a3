"""``portfolio demo generate`` on a fresh database of each kind: the rows it writes are in
realistic proportions and consistent (every foreign key finds its row), the generated people can
log in and use their pages, a second run adds centres, and an unready database is refused with
what to run."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from portfolio.accounts.models import Centre, Enrolment, User
from portfolio.assessment.models import Decision, UnitSignOff
from portfolio.core.audit import AuditEvent
from portfolio.core.db import Base
from portfolio.demo.generate import DEMO_PASSWORD
from portfolio.evidence.models import CriterionClaim, EvidenceFile, EvidenceItem
from portfolio.extensions import db
from portfolio.quality.models import Sample, SampledDecision
from tests.helpers.app import app_on_new_database
from tests.helpers.queries import count_rows
from tests.helpers.web import log_in

LEARNERS, CENTRES = 30, 2


@pytest.fixture(scope="module")
def generated(tmp_path_factory, builtin_specs):
    """An app whose database holds LEARNERS generated learners in CENTRES centres, and the
    command's output."""
    with app_on_new_database(tmp_path_factory.mktemp("demo"), builtin_specs.values()) as app:
        result = app.test_cli_runner().invoke(
            args=["demo", "generate", "--learners", str(LEARNERS), "--centres", str(CENTRES)])
        assert result.exit_code == 0, result.output
        yield app, result.output


def _counts(session) -> dict[str, int]:
    return {model.__tablename__: count_rows(session, model)
            for model in (Centre, User, Enrolment, EvidenceItem, EvidenceFile, CriterionClaim,
                          Decision, UnitSignOff, Sample, SampledDecision, AuditEvent)}


def _broken_references(session) -> list[str]:
    """Every foreign key of every table whose value names no row, as ``table.column``."""
    broken = []
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_key_constraints:
            child, parent = key.columns, [element.column for element in key.elements]
            target = parent[0].table.alias("target")
            orphans = session.scalar(
                sa.select(sa.func.count()).select_from(table)
                .where(*(column.isnot(None) for column in child))
                .where(~sa.exists().where(*(target.c[p.name] == c
                                            for c, p in zip(child, parent, strict=True)))))
            if orphans:
                broken.append(f"{table.name}.{','.join(c.name for c in child)}: {orphans}")
    return broken


def test_the_rows_come_in_realistic_proportions(generated):
    app, output = generated
    with app.app_context():
        counts = _counts(db.session)
        not_met = db.session.scalars(sa.select(Decision.feedback)
                                     .where(Decision.outcome == "not_yet_met")).all()
        per_centre = db.session.execute(
            sa.select(Enrolment.centre_id, sa.func.count()).group_by(Enrolment.centre_id)).all()
        signed_off_units_met = db.session.scalar(
            sa.select(sa.func.count()).select_from(UnitSignOff).where(sa.exists().where(
                Decision.enrolment_id == UnitSignOff.enrolment_id,
                Decision.unit_id == UnitSignOff.unit_id, Decision.outcome != "met")))
    assert counts["centres"] == CENTRES
    assert [n for _, n in per_centre] == [LEARNERS // CENTRES] * CENTRES
    assert counts["enrolments"] == LEARNERS
    assert counts["evidence_items"] == counts["evidence_files"] == 5 * LEARNERS
    assert counts["criterion_claims"] == 20 * LEARNERS
    # Every claim is decided but those on the newest item of about one learner in four.
    assert 0.85 * counts["criterion_claims"] < counts["decisions"] < counts["criterion_claims"]
    assert 0.02 * counts["decisions"] < len(not_met) < 0.2 * counts["decisions"]
    assert all(not_met), "a decision not yet met gives feedback"
    assert counts["unit_sign_offs"] > 0 and signed_off_units_met == 0
    assert counts["samples"] > 0 and counts["sampled_decisions"] > counts["samples"]
    # People, enrolments, items, decisions, sign-offs and samples are each an audit event.
    assert counts["audit_events"] >= (counts["users"] + LEARNERS + counts["evidence_items"]
                                      + counts["decisions"] + counts["unit_sign_offs"]
                                      + counts["samples"])
    assert DEMO_PASSWORD in output and "`portfolio storage verify` reports them missing" in output


def test_every_foreign_key_finds_its_row(generated):
    app, _ = generated
    with app.app_context():
        assert _broken_references(db.session) == []


def _first_caseload(session):
    """The first centre's first assessor and one of their enrolments."""
    centre = session.scalar(sa.select(Centre).order_by(Centre.id))
    enrolment = session.scalar(sa.select(Enrolment).where(Enrolment.centre_id == centre.id)
                               .order_by(Enrolment.id))
    return centre, enrolment.assessor.email, enrolment.id


def test_the_generated_people_use_their_pages(generated):
    app, _ = generated
    with app.app_context():
        centre, assessor, enrolment_id = _first_caseload(db.session)
        slug = centre.name.lower().replace(" ", "-")
    pages = {f"assessor@{slug}": (assessor, [
                 f"/enrolments/{enrolment_id}/progress", f"/enrolments/{enrolment_id}/grid",
                 f"/enrolments/{enrolment_id}/evidence", "/caseload"]),
             "admin": (f"admin@{slug}.test", ["/admin/audit"]),
             "iqa": (f"iqa0@{slug}.test", ["/quality/trail"])}
    for who, (email, paths) in pages.items():
        client = app.test_client()
        assert log_in(client, email, DEMO_PASSWORD).status_code == 302, who
        for path in paths:
            assert client.get(path).status_code == 200, (who, path)


def test_a_second_run_adds_centres(generated):
    app, _ = generated
    with app.app_context():
        before = _counts(db.session)
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--learners", "4"])
    assert result.exit_code == 0, result.output
    assert "Demo College 3" in result.output
    with app.app_context():
        after = _counts(db.session)
        assert _broken_references(db.session) == []
    assert after["centres"] == before["centres"] + 1
    assert after["enrolments"] == before["enrolments"] + 4
    assert after["decisions"] > before["decisions"]


def test_an_unmigrated_database_is_refused(tmp_path):
    with app_on_new_database(tmp_path) as app:
        result = app.test_cli_runner().invoke(args=["demo", "generate", "--learners", "3"])
    assert result.exit_code == 2
    assert "run `portfolio db upgrade` first" in result.output


def test_a_database_without_the_catalogue_is_refused(tmp_path):
    with app_on_new_database(tmp_path) as app:
        with app.app_context():
            upgrade()
        result = app.test_cli_runner().invoke(args=["demo", "generate", "--learners", "3"])
        with app.app_context():
            assert count_rows(db.session, Centre) == 0
    assert result.exit_code == 2
    assert "catalogue import --builtin" in result.output
