"""Running a centre's people: correcting names and emails (unique across the installation,
audited with the old and new values) and changing roles (a removed role's grant ends and is
kept; refused while the person holds open enrolments in it, and for an admin's own admin role)."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from portfolio.accounts import enrolments as lifecycle
from portfolio.accounts import links
from portfolio.accounts import people as running
from portfolio.accounts.models import RoleGrant
from portfolio.accounts.services import AccountError
from portfolio.core.audit import AuditEvent
from tests.helpers.factories import make_user


def _events(session, action):
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)))


@contextmanager
def _refusal(field, message):
    """``pytest.raises`` for a refusal shown next to ``field``."""
    with pytest.raises(running.FieldRefused, match=message) as refused:
        yield refused
    assert refused.value.field == field


def test_an_admin_corrects_a_name_and_email_and_the_audit_keeps_both(people, session):
    person = people.assessor1
    running.edit_details(session, person, people.admin, name="  Asha Patel ",
                         email=" Asha.Patel@North.TEST ")
    assert (person.name, person.email) == ("Asha Patel", "asha.patel@north.test")
    [event] = _events(session, "user.details_changed")
    assert event.data["before"] == {"name": "Assessor1", "email": "assessor1@north.test"}
    assert event.data["after"] == {"name": "Asha Patel", "email": "asha.patel@north.test"}
    assert (event.actor_id, event.centre_id) == (people.admin.id, people.centre.id)
    assert "email from assessor1@north.test to asha.patel@north.test" in event.sentence


def test_an_email_is_unique_across_the_installation_and_the_refusal_names_no_centre(
        people, session):
    with _refusal("email", "already the login of another account") as refused:
        running.edit_details(session, people.assessor1, people.admin, name="Assessor1",
                             email="LEARNER@south.test")
    assert "South" not in str(refused.value)
    with _refusal("email", "already the login"):
        running.edit_details(session, people.assessor1, people.admin, name="Assessor1",
                             email="learner1@north.test")
    with _refusal("name", "Nothing changed"):
        running.edit_details(session, people.assessor1, people.admin, name=" Assessor1",
                             email="ASSESSOR1@north.test")
    with _refusal("name", "Give the person's name"):
        running.edit_details(session, people.assessor1, people.admin, name="  ",
                             email="assessor1@north.test")
    assert people.assessor1.email == "assessor1@north.test"
    assert not _events(session, "user.details_changed")



def test_a_new_email_voids_the_links_mailed_to_the_old_one(people, session):
    mailed = links.issue_link(session, people.assessor1, "reset")
    running.edit_details(session, people.assessor1, people.admin, name="Assessor1",
                         email="asha.new@north.test")
    with pytest.raises(links.LinkUnusable):
        links.use_link(session, mailed, "a passphrase for the new address")
    renamed = links.issue_link(session, people.learner1, "reset")
    running.edit_details(session, people.learner1, people.admin, name="Lee Renamed",
                         email="learner1@north.test")
    assert links.use_link(session, renamed, "a passphrase kept by the rename") == people.learner1

def test_only_an_admin_of_the_persons_centre_edits_them(people, session):
    for actor, person in [(people.other_admin, people.assessor1), (people.admin,
                                                                   people.other_learner),
                          (people.assessor2, people.assessor1)]:
        with pytest.raises(AccountError, match="Only an admin of the person's centre"):
            running.edit_details(session, person, actor, name="X", email="x@north.test")
        with pytest.raises(AccountError, match="Only an admin of the person's centre"):
            running.change_roles(session, person, actor, ["iqa"])


def test_removing_a_role_ends_its_grant_and_keeps_it_as_a_past_role(people, session):
    person = people.assessor1
    lifecycle.withdraw_enrolment(session, people.enrolment1, people.admin,
                                 on=dt.date.today(), reason="Left")
    running.change_roles(session, person, people.admin, ["iqa"])
    assert person.roles == ["iqa"]
    [ended] = running.past_grants(person, people.centre.id)
    assert ended.role == "assessor" and ended.expires_at is not None
    assert not session.scalar(sa.select(sa.exists().where(
        RoleGrant.user_id == person.id, RoleGrant.role == "iqa",
        RoleGrant.expires_at.is_not(None))))
    [granted] = running.current_grants(person, people.centre.id)
    assert (granted.role, granted.granted_by_id) == ("iqa", people.admin.id)
    [event] = _events(session, "user.roles_changed")
    assert {key: event.data[key] for key in ("before", "after", "added", "removed")} == {
        "before": ["assessor"], "after": ["iqa"], "added": ["iqa"], "removed": ["assessor"]}
    assert "from assessor to internal quality assurer" in event.sentence

    running.change_roles(session, person, people.admin, ["assessor", "iqa"])
    assert person.roles == ["assessor", "iqa"]
    assert session.scalar(sa.select(sa.func.count()).where(RoleGrant.user_id == person.id)) == 3


def test_a_role_held_over_open_enrolments_is_not_removed_until_they_move(people, session):
    with _refusal("roles", "still the assessor of 1 open enrolment: move it to another "
                           "assessor first"):
        running.change_roles(session, people.assessor1, people.admin, ["iqa"])
    # iqa2 is both: the IQA of enrolment2 and an assessor of none.
    with _refusal("roles", "still the IQA of 1 open enrolment"):
        running.change_roles(session, people.iqa2, people.admin, ["assessor"])
    running.change_roles(session, people.iqa2, people.admin, ["iqa"])
    with _refusal("roles", "still the learner of 1 open enrolment: withdraw or complete it"):
        running.change_roles(session, people.learner1, people.admin, ["assessor"])
    assert people.assessor1.roles == ["assessor"] and people.learner1.roles == ["learner"]

    lifecycle.move_enrolment(session, people.enrolment1, people.admin,
                             assessor_id=people.assessor2.id, iqa_id=people.iqa1.id)
    running.change_roles(session, people.assessor1, people.admin, ["iqa"])
    assert people.assessor1.roles == ["iqa"]


def test_a_learner_gets_no_staff_role_and_an_admin_keeps_their_own(people, session):
    with _refusal("roles", "is a learner and cannot also hold a staff role"):
        running.change_roles(session, people.learner2, people.admin, ["learner", "assessor"])
    with _refusal("roles", "cannot remove your own centre admin role"):
        running.change_roles(session, people.admin, people.admin, ["assessor"])
    with _refusal("roles", "Keep at least one role"):
        running.change_roles(session, people.assessor2, people.admin, [])
    with _refusal("roles", "Nothing changed"):
        running.change_roles(session, people.assessor2, people.admin, ["assessor"])
    second = make_user(session, people.centre, "admin2@north.test", "centre_admin")
    running.change_roles(session, people.admin, second, ["assessor"])
    assert people.admin.roles == ["assessor"]
    assert not _events(session, "user.details_changed")


def test_the_open_caseload_counts_both_roles_in_the_centre_only(people, session):
    assert running.open_caseload(session, people.iqa2, people.centre.id) == [people.enrolment2]
    assert running.open_caseload(session, people.iqa2, people.other_centre.id) == []
    lifecycle.withdraw_enrolment(session, people.enrolment2, people.admin,
                                 on=dt.date.today(), reason="Left")
    assert running.open_caseload(session, people.iqa2, people.centre.id) == []
