"""Who may do what with evidence: named predicates, checked on loaded objects by the views and
used by the templates to show or hide actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.permissions import can_view_enrolment
from portfolio.evidence.models import EvidenceFile, EvidenceItem


def can_add_evidence(user: User, enrolment: Enrolment) -> bool:
    return user.is_authenticated and user.id == enrolment.learner_id and enrolment.is_open


def can_view_evidence(user: User, item: EvidenceItem) -> bool:
    return can_view_enrolment(user, item.enrolment)


def can_change_evidence(user: User, item: EvidenceItem) -> bool:
    """Only the learner, while the enrolment is open, no assessor has judged the item and it is
    not withdrawn."""
    return (user.is_authenticated and user.id == item.enrolment.learner_id
            and item.enrolment.is_open
            and not item.is_withdrawn and not item.is_judged)


def can_resubmit(user: User, item: EvidenceItem, decisions: Mapping[int, Sequence]) -> bool:
    """The learner may answer feedback with new evidence while a criterion of the item stands
    not yet met (``decisions``: the item's decisions by criterion, oldest first)."""
    return (can_add_evidence(user, item.enrolment)
            and any(found and found[-1].outcome == "not_yet_met" for found in decisions.values()))


def can_discard_upload(user: User, upload: EvidenceFile) -> bool:
    """Only the uploader, and only while the file waits unattached for the "Add evidence" form."""
    return user.is_authenticated and user.id == upload.uploader_id and upload.item_id is None


def can_see_file_digests(user: User, item: EvidenceItem) -> bool:
    """Assessors and IQAs check files against the digests judged; to the learner they are noise."""
    return can_view_evidence(user, item) and user.id != item.enrolment.learner_id
