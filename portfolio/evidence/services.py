"""Evidence operations: creating items, claiming criteria, the assessor mapping further
criteria, and withdrawing. They flush; the caller commits once.

Features above this one refuse claims through :data:`portfolio.evidence.hooks.claim_checks`
(a signed-off unit takes no more evidence) without this package importing them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.services import lock_enrolment
from portfolio.catalogue.tree import CriterionNode, version_tree
from portfolio.core.db import utcnow
from portfolio.core.errors import DomainError
from portfolio.evidence.events import claims_changed, evidence_created, evidence_withdrawn
from portfolio.evidence.hooks import claim_checks
from portfolio.evidence.models import METHODS, SETTINGS, CriterionClaim, EvidenceFile, EvidenceItem

WITNESS_NAME_NEEDED = "Witness testimony needs the witness's name."


class EvidenceError(DomainError):
    """A request refused with a message for the learner."""


@dataclass(frozen=True)
class ItemDetails:
    title: str
    description: str
    evidence_date: dt.date
    method: str
    setting: str
    witness_name: str | None = None
    witness_role: str | None = None
    witness_relationship: str | None = None
    witness_is_expert: bool = False


def _check_details(details: ItemDetails, today: dt.date) -> None:
    if not details.title.strip():
        raise EvidenceError("Give the evidence a title.")
    if details.method not in METHODS:
        raise EvidenceError("Choose how the evidence was produced.")
    if details.setting not in SETTINGS:
        raise EvidenceError("Choose where the evidence was produced.")
    if details.evidence_date > today:
        raise EvidenceError("The evidence date cannot be in the future.")
    if details.method == "witness_testimony" and not (details.witness_name or "").strip():
        raise EvidenceError(WITNESS_NAME_NEEDED)


def claimable_criteria(session: Session, enrolment: Enrolment, criterion_ids: Iterable[int]
                       ) -> list[CriterionNode]:
    """The criteria among ``criterion_ids``, refusing any outside the learner's qualification
    version and any that a feature above refuses (see :data:`claim_checks`)."""
    wanted = set(criterion_ids)
    if not wanted:
        raise EvidenceError("Choose at least one assessment criterion this evidence proves.")
    tree = version_tree(session, enrolment.version_id)
    found = [tree.criterion(cid) for cid in sorted(wanted)]
    if None in found:
        raise EvidenceError("Some chosen criteria are not part of this qualification.")
    claim_checks(session, enrolment, frozenset(tree.unit_of_criterion[c].id for c in wanted))
    return found


def create_item(session: Session, enrolment: Enrolment, learner: User, details: ItemDetails,
                upload_ids: Iterable[int], criterion_ids: Iterable[int], declared: bool,
                today: dt.date | None = None, resubmission_of: EvidenceItem | None = None
                ) -> EvidenceItem:
    """A new item of the learner's evidence, made of uploads not yet attached to any item.

    Submitting the same uploads again (a double click, a retry after a lost response) returns
    the item the first submit made. Each upload is attached by one statement that also checks it
    is still unattached, so no two items can share a file and no item is left without one.
    """
    if not declared:
        raise EvidenceError("Confirm that this evidence is your own work.")
    _check_details(details, today or dt.date.today())
    upload_ids = set(upload_ids)
    if not upload_ids:
        raise EvidenceError("Add at least one file.")
    # Serialises this learner's submits: a repeat waits for the first and then sees its item.
    lock_enrolment(session, enrolment)
    uploads = list(session.scalars(sa.select(EvidenceFile).where(
        EvidenceFile.id.in_(upload_ids), EvidenceFile.enrolment_id == enrolment.id,
        EvidenceFile.uploader_id == learner.id)))
    holders = {upload.item_id for upload in uploads}
    if len(uploads) == len(upload_ids) and len(holders) == 1 and None not in holders:
        return session.get(EvidenceItem, holders.pop())
    criteria = claimable_criteria(session, enrolment, criterion_ids)
    if resubmission_of is not None and resubmission_of.enrolment_id != enrolment.id:
        raise EvidenceError("That is not one of your evidence items.")

    now = utcnow()
    item = EvidenceItem(enrolment=enrolment, declared_at=now, created_at=now, updated_at=now,
                        awaiting_decision_since=now,
                        resubmission_of_id=resubmission_of.id if resubmission_of else None,
                        **_cleaned(details))
    item.claims.extend(CriterionClaim(criterion_id=c.id) for c in criteria)
    session.add(item)
    session.flush()
    attached = session.execute(
        sa.update(EvidenceFile).where(
            EvidenceFile.id.in_(upload_ids), EvidenceFile.item_id.is_(None),
            EvidenceFile.enrolment_id == enrolment.id, EvidenceFile.uploader_id == learner.id)
        .values(item_id=item.id).execution_options(synchronize_session=False)).rowcount
    if attached != len(upload_ids):
        raise EvidenceError("Some files were not uploaded, or expired: add them again.")
    for upload in uploads:
        session.expire(upload, ["item_id", "item"])
    session.expire(item, ["files"])
    evidence_created.emit(
        session, actor=learner, centre_id=enrolment.centre_id, learner_id=enrolment.learner_id,
        subject=item, title=item.title,
        files=[{"name": u.original_name, "sha256": u.sha256, "size": u.size} for u in uploads],
        criteria=sorted(c.id for c in criteria))
    return item


def waiting_uploads(session: Session, enrolment: Enrolment, learner: User,
                    upload_ids: Iterable[int]) -> list[EvidenceFile]:
    """The learner's uploads among ``upload_ids`` still waiting for the "Add evidence" form, as
    it is shown again after a refusal: the files stay listed because they stay uploaded."""
    upload_ids = list(upload_ids)
    if not upload_ids:
        return []
    return list(session.scalars(sa.select(EvidenceFile).where(
        EvidenceFile.id.in_(upload_ids), EvidenceFile.item_id.is_(None),
        EvidenceFile.enrolment_id == enrolment.id, EvidenceFile.uploader_id == learner.id)
        .order_by(EvidenceFile.id)))


def _cleaned(details: ItemDetails) -> dict:
    def optional(value):
        value = (value or "").strip()
        return value or None

    return {
        "title": details.title.strip(), "description": details.description.strip(),
        "evidence_date": details.evidence_date, "method": details.method,
        "setting": details.setting, "witness_name": optional(details.witness_name),
        "witness_role": optional(details.witness_role),
        "witness_relationship": optional(details.witness_relationship),
        "witness_is_expert": bool(details.witness_is_expert),
    }


def change_claims(session: Session, item: EvidenceItem, actor: User,
                  criterion_ids: Iterable[int]) -> None:
    """Replace the criteria an unjudged item claims (the view has checked the permission)."""
    lock_enrolment(session, item.enrolment)
    session.refresh(item)
    if item.is_judged:
        raise EvidenceError("An assessor has judged this evidence: its claims can no longer change.")
    criteria = claimable_criteria(session, item.enrolment, criterion_ids)
    before = sorted(c.criterion_id for c in item.claims)
    wanted = {c.id for c in criteria}
    item.claims = [c for c in item.claims if c.criterion_id in wanted] + [
        CriterionClaim(criterion_id=cid) for cid in sorted(wanted - set(before))]
    item.updated_at = utcnow()
    session.flush()
    claims_changed.emit(session, actor=actor, centre_id=item.enrolment.centre_id,
                        learner_id=item.enrolment.learner_id, subject=item, before=before,
                        after=sorted(wanted))


def map_criteria(session: Session, item: EvidenceItem, assessor: User,
                 criterion_ids: Iterable[int]) -> set[int]:
    """An assessor maps the item to further criteria (judged or not); returns every criterion
    the item now claims. The caller holds the enrolment's lock."""
    claimed = {c.criterion_id for c in item.claims}
    before = sorted(claimed)
    new = set(criterion_ids) - claimed
    if not new:
        return claimed
    for criterion in claimable_criteria(session, item.enrolment, new):
        item.claims.append(CriterionClaim(criterion_id=criterion.id, added_by_id=assessor.id))
        claimed.add(criterion.id)
    session.flush()
    claims_changed.emit(session, actor=assessor, centre_id=item.enrolment.centre_id,
                        learner_id=item.enrolment.learner_id, subject=item, before=before,
                        after=sorted(claimed), mapped_by="assessor")
    return claimed


def withdraw(session: Session, item: EvidenceItem, actor: User) -> None:
    """Hide an item. Nothing is deleted: its files and history stay for the audit trail."""
    lock_enrolment(session, item.enrolment)
    session.refresh(item)
    if item.is_judged:
        raise EvidenceError("An assessor has judged this evidence: it cannot be withdrawn.")
    item.withdrawn_at = utcnow()
    session.flush()
    evidence_withdrawn.emit(session, actor=actor, centre_id=item.enrolment.centre_id,
                            learner_id=item.enrolment.learner_id, subject=item, title=item.title)

