"""The catalogue is shared: a centre admin's import is that centre's own version, and no centre
can alter, close or see another's. Global versions are the operator's (the command line)."""

from __future__ import annotations

import datetime as dt
import json
from io import BytesIO

import pytest
import sqlalchemy as sa

from portfolio.accounts import services as accounts
from portfolio.catalogue import services
from portfolio.core.audit import AuditEvent
from tests.helpers.factories import make_user
from tests.helpers.web import csrf_token, flashes, text

QN, SLUG = "601/5358/1", "601-5358-1"


def changed_builtin(session, **changes) -> bytes:
    """The built-in 601/5358/1 as a catalogue file, with a criterion reworded and ``changes``."""
    document = services.spec_from_version(services.find_version(session, QN)).document()
    document["units"][0]["learning_outcomes"][0]["criteria"][0]["text"] += " (centre's wording)"
    document.update(changes)
    return json.dumps(document).encode()


def web_import(client, data: bytes, **options):
    return client.post("/admin/catalogue", data={
        "file": (BytesIO(data), "changed.json"),
        "csrf_token": csrf_token(client, "/admin/catalogue")}, content_type="multipart/form-data",
        **options)


@pytest.fixture()
def enrol_in_south(session, people):
    """``enrol_in_south(version_id)`` enrols South's learner through the enrolment service."""
    south = people.other_centre
    assessor = make_user(session, south, "assessor2@south.test", "assessor")
    iqa = make_user(session, south, "iqa2@south.test", "iqa")

    def enrol(version_id: int):
        return accounts.enrol(session, south, accounts.NewEnrolment(
            learner_id=people.other_learner.id, version_id=version_id,
            registration_number="SOUTH-0001", start_date=dt.date(2026, 9, 1),
            planned_end_date=dt.date(2027, 8, 31), assessor_id=assessor.id, iqa_id=iqa.id),
            actor=people.other_admin)

    return enrol


@pytest.fixture()
def private(login, people, session):
    """Centre A (North) has imported a changed 601/5358/1 on the web; returns (global, A's)."""
    shared = services.find_version(session, QN)
    response = web_import(login(people.admin), changed_builtin(session))
    assert response.status_code == 302
    own = services.find_version(session, QN, centre_id=people.centre.id)
    assert own.id != shared.id and own.centre_id == people.centre.id
    return shared, own


def test_a_centre_import_is_its_own_and_leaves_the_global_current_version(
        private, people, session, login):
    shared, own = private
    assert services.find_version(session, QN).id == shared.id
    assert services.find_version(session, QN, centre_id=people.other_centre.id).id == shared.id
    importer = login(people.admin)
    assert "this centre's own version" in text(importer.get(f"/catalogue/{SLUG}"))
    assert importer.get(f"/catalogue/{SLUG}?version={shared.version}").status_code == 200
    # audited in the importing centre, where its admin reads the trail
    event = session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "catalogue.imported", AuditEvent.object_id == own.id))
    assert event.centre_id == people.centre.id and event.actor_id == people.admin.id


def test_another_centre_cannot_see_a_private_version(private, people, login):
    shared, own = private
    other = login(people.other_admin)
    page = text(other.get(f"/catalogue/{SLUG}"))
    assert f"<dd>{shared.version}" in page and "own version" not in page
    assert f"v{own.version}" not in page  # not among the versions listed
    assert "own version" not in text(other.get("/catalogue/"))
    unit = shared.units[0].number
    for url in (f"/catalogue/{SLUG}?version={own.version}",
                f"/catalogue/{SLUG}/units/{unit}?version={own.version}"):
        assert other.get(url).status_code == 404
    form = text(other.get("/admin/enrolments"))
    assert f'value="{shared.id}"' in form and f'value="{own.id}"' not in form


def test_another_centre_cannot_enrol_on_a_private_version_but_can_on_the_global_one(
        private, enrol_in_south):
    shared, own = private
    with pytest.raises(accounts.AccountError, match="not in the catalogue"):
        enrol_in_south(own.id)
    assert enrol_in_south(shared.id).version_id == shared.id


def test_a_second_import_closing_registrations_closes_nothing_for_other_centres(
        private, people, session, login, enrol_in_south):
    shared, own = private
    closed = changed_builtin(session, key_dates={"operational_start": None,
                                                 "operational_end": "2020-12-31",
                                                 "certification_end": None})
    assert web_import(login(people.admin), closed).status_code == 302
    newest = services.find_version(session, QN, centre_id=people.centre.id)
    assert newest.centre_id == people.centre.id and newest.operational_end is not None
    for centre_id in (None, people.other_centre.id):
        version = services.find_version(session, QN, centre_id=centre_id)
        assert version.id == shared.id and version.operational_end is None
    assert enrol_in_south(shared.id).version_id == shared.id


def test_a_centre_import_never_touches_another_centres_private_version(
        private, people, session, login):
    shared, own = private
    other_change = changed_builtin(session, title="South's own wording")
    response = web_import(login(people.other_admin), other_change)
    assert response.status_code == 302
    theirs = services.find_version(session, QN, centre_id=people.other_centre.id)
    assert theirs.id not in (shared.id, own.id) and theirs.centre_id == people.other_centre.id
    assert services.find_version(session, QN, centre_id=people.centre.id).id == own.id
    assert services.find_version(session, QN).id == shared.id


def test_importing_the_global_version_again_is_unchanged_for_a_centre(people, session, login):
    shared = services.find_version(session, QN)
    same = services.spec_from_version(shared).document()
    response = web_import(login(people.admin), json.dumps(same).encode(), follow_redirects=True)
    assert f"{QN}: unchanged (version {shared.version} is identical)" in flashes(text(response))
    assert services.find_version(session, QN, centre_id=people.centre.id).id == shared.id


def test_the_command_line_is_the_operator_s_view(private, cli, people):
    shared, own = private
    listed = cli.invoke(args=["catalogue", "list"]).output
    assert f"{QN:<12} v{shared.version:<3}" in listed
    refused = cli.invoke(args=["catalogue", "show", QN, "--version", str(own.version)])
    assert refused.exit_code == 2 and "is not in the catalogue" in refused.output
    shown = cli.invoke(args=["catalogue", "show", QN, "--centre", str(people.centre.id)])
    assert shown.exit_code == 0 and f"version {own.version}," in shown.output
