"""Units: the learner's declaration, sign-off when every criterion is met, achievement by RPL or
credit transfer, and a centre admin's unlock. A signed-off unit is locked: it takes no new claims
and its decisions stand until it is unlocked."""

from __future__ import annotations

from collections.abc import Set

from sqlalchemy.orm import Session

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.services import lock_enrolment
from portfolio.assessment.countersigning import assessor_authority
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.events import unit_declared, unit_signed_off, unit_unlocked
from portfolio.assessment.hooks import sign_off_checks
from portfolio.assessment.models import SIGN_OFF_METHODS, UnitDeclaration, UnitSignOff, UnitUnlock
from portfolio.assessment.progress import progress_for, signed_off_unit_ids
from portfolio.catalogue.tree import UnitNode, VersionTree, version_tree
from portfolio.core.db import utcnow
from portfolio.evidence.hooks import claim_checks
from portfolio.evidence.models import EvidenceItem


@claim_checks.register
def refuse_claims_in_signed_off_units(session: Session, enrolment: Enrolment,
                                      unit_ids: Set[int]) -> None:
    """The one place that keeps new evidence out of a locked unit, whoever claims it."""
    locked = unit_ids & signed_off_unit_ids(session, enrolment.id)
    if locked:
        tree = version_tree(session, enrolment.version_id)
        numbers = ", ".join(sorted(tree.units_by_id[u].number for u in locked))
        raise AssessmentError(f"Unit {numbers} is already signed off: it takes no more evidence "
                              f"unless a centre admin unlocks it.")


def _unit(tree: VersionTree, unit_id: int) -> UnitNode:
    unit = tree.units_by_id.get(unit_id)
    if unit is None:
        raise AssessmentError("That unit is not part of this learner's qualification.")
    return unit


def _refuse_if_signed_off(session: Session, enrolment: Enrolment, unit: UnitNode) -> None:
    if unit.id in signed_off_unit_ids(session, enrolment.id):
        raise AssessmentError(f"Unit {unit.number} is already signed off.")


#: What the learner declares, from the NCFE NVQ specification ("On completion of each unit
#: learners must declare that the work produced is their own. The Assessor must countersign
#: this."): shown beside the button and kept with the declaration's audit event.
DECLARATION = ("I declare that the work I have produced for unit {number}, {title}, is my own. "
               "I understand that my assessor will countersign this declaration when signing the "
               "unit off.")


def declaration_wording(unit: UnitNode) -> str:
    return DECLARATION.format(number=unit.number, title=unit.title)


def declare_unit(session: Session, enrolment: Enrolment, unit_id: int, learner: User
                 ) -> UnitDeclaration:
    """The learner declares a unit's work their own, once every criterion of it is met."""
    lock_enrolment(session, enrolment)
    progress = progress_for(session, [enrolment])[enrolment.id]
    unit = _unit(progress.tree, unit_id)
    unit_progress = progress.unit(unit.id)
    if unit_progress.is_signed_off:
        raise AssessmentError(f"Unit {unit.number} is already signed off.")
    if unit_progress.declared:
        raise AssessmentError(f"You have already declared the work for unit {unit.number} "
                              f"your own.")
    if not unit_progress.ready_for_sign_off:
        raise AssessmentError(f"Unit {unit.number} has {unit_progress.total - unit_progress.met} "
                              f"criteria not yet met: declare it once your assessor has judged "
                              f"every criterion met.")
    declaration = UnitDeclaration(enrolment_id=enrolment.id, unit_id=unit.id,
                                  learner_id=learner.id)
    session.add(declaration)
    session.flush()
    unit_declared.emit(session, actor=learner, centre_id=enrolment.centre_id,
                       learner_id=enrolment.learner_id, subject=declaration, unit=unit.number,
                       wording=declaration_wording(unit))
    return declaration


def sign_off_unit(session: Session, enrolment: Enrolment, unit_id: int, assessor: User
                  ) -> UnitSignOff:
    """Sign off a unit whose every criterion is met (countersigning the learner's declaration
    where the qualification asks for one)."""
    lock_enrolment(session, enrolment)
    progress = progress_for(session, [enrolment])[enrolment.id]
    unit = _unit(progress.tree, unit_id)
    unit_progress = progress.unit(unit.id)
    if unit_progress.is_signed_off:
        raise AssessmentError(f"Unit {unit.number} is already signed off.")
    if not unit_progress.ready_for_sign_off:
        provisional = sum(state.status == "awaiting_countersignature"
                          for state in unit_progress.criteria.values())
        raise AssessmentError(f"Unit {unit.number} has {unit_progress.total - unit_progress.met} "
                              f"criteria not yet met" + (
                                  f", {provisional} of them awaiting countersignature."
                                  if provisional else "."))
    declaration_id = None
    if progress.tree.unit_declarations:
        if unit_progress.declaration is None:
            raise AssessmentError(f"The learner has not yet declared that the work for unit "
                                  f"{unit.number} is their own.")
        declaration_id = unit_progress.declaration.id
    return _add_sign_off(session, enrolment, unit, assessor, "assessment",
                         declaration_id=declaration_id)


def record_prior_achievement(session: Session, enrolment: Enrolment, unit_id: int,
                             assessor: User, method: str, details: str,
                             item_id: int | None = None) -> UnitSignOff:
    """A unit achieved by RPL or credit transfer, with its evidence or certificate details."""
    lock_enrolment(session, enrolment)
    unit = _unit(version_tree(session, enrolment.version_id), unit_id)
    if method not in SIGN_OFF_METHODS or method == "assessment":
        raise AssessmentError("Choose RPL or credit transfer.")
    if not details.strip():
        raise AssessmentError("Record the supporting evidence or the certificate details.")
    _refuse_if_signed_off(session, enrolment, unit)
    if item_id is not None:
        item = session.get(EvidenceItem, item_id)
        if item is None or item.enrolment_id != enrolment.id or item.is_withdrawn:
            raise AssessmentError("The supporting evidence must be a live item of this "
                                  "learner's portfolio.")
        # Relied on by an assessment decision now: it may no longer be changed or withdrawn.
        item.judged_at = item.judged_at or utcnow()
    return _add_sign_off(session, enrolment, unit, assessor, method, details=details.strip(),
                         item_id=item_id)


def _add_sign_off(session, enrolment, unit, assessor, method, **fields) -> UnitSignOff:
    """The sign-off, provisional when its assessor works towards their qualification where it
    asks for countersignature; refused when they may no longer decide."""
    # Asked under the enrolment's lock, after the unit's own rules, so that the refusal a person
    # sees is the one they can act on first.
    sign_off_checks(session, enrolment, unit.id)
    provisional = assessor_authority(session, assessor, enrolment)
    sign_off = UnitSignOff(enrolment_id=enrolment.id, unit_id=unit.id, method=method,
                           assessor_id=assessor.id, needs_countersignature=provisional, **fields)
    session.add(sign_off)
    session.flush()
    unit_signed_off.emit(session, actor=assessor, centre_id=enrolment.centre_id,
                         learner_id=enrolment.learner_id, subject=sign_off, unit=unit.number,
                         method=method, **{k: v for k, v in fields.items() if v is not None})
    return sign_off


def unlock_unit(session: Session, sign_off: UnitSignOff, admin: User, reason: str) -> UnitUnlock:
    if not reason.strip():
        raise AssessmentError("Give the reason for unlocking the unit.")
    enrolment = session.get(Enrolment, sign_off.enrolment_id)
    lock_enrolment(session, enrolment)
    session.refresh(sign_off)
    if sign_off.unlock is not None:
        raise AssessmentError("This unit is already unlocked.")
    unlock = UnitUnlock(sign_off=sign_off, admin_id=admin.id, reason=reason.strip())
    session.add(unlock)
    session.flush()
    unit_unlocked.emit(session, actor=admin, centre_id=enrolment.centre_id,
                       learner_id=enrolment.learner_id, subject=unlock,
                       sign_off_id=sign_off.id, unit_id=sign_off.unit_id,
                       unit=sign_off.unit.number, reason=unlock.reason)
    return unlock
