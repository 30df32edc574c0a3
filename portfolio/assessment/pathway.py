"""The learner's pathway: the units they intend to achieve, chosen by them or their assessor and
checked by the rules engine (:mod:`portfolio.catalogue.pathways`). Mandatory units are always in
it. A choice that breaks a rule no further unit can mend (a barred pair, a group maximum) is
refused; one that is only incomplete is kept as a draft, its shortfalls shown. Progress and the
caseload then count the pathway's units (:mod:`portfolio.assessment.progress`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portfolio.accounts.models import Enrolment, User
from portfolio.accounts.services import lock_enrolment
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.events import pathway_chosen
from portfolio.assessment.models import PathwayChoice
from portfolio.catalogue.pathways import PathwayCheck, check_pathway
from portfolio.catalogue.rules import Structure
from portfolio.catalogue.tree import version_tree
from portfolio.core.db import one_of


def with_mandatory(structure: Structure, numbers: Iterable[str]) -> list[str]:
    """The chosen units and every mandatory unit; units outside the qualification are kept so
    that the check names them."""
    chosen = set(numbers) | structure.mandatory
    return sorted(chosen, key=lambda n: structure.order.get(n, len(structure.order)))


def check_choice(session: Session, enrolment: Enrolment, numbers: Iterable[str]) -> PathwayCheck:
    structure = version_tree(session, enrolment.version_id).structure
    return check_pathway(structure, with_mandatory(structure, numbers))


def choose_pathway(session: Session, enrolment: Enrolment, actor: User,
                   numbers: Iterable[str]) -> PathwayChoice:
    """Record ``numbers`` (with the mandatory units) as the enrolment's pathway."""
    lock_enrolment(session, enrolment)  # refuses an ended enrolment
    check = check_choice(session, enrolment, numbers)
    if not check.may_save:
        raise AssessmentError(" ".join(p.message for p in check.refusals))
    current = current_pathways(session, [enrolment.id]).get(enrolment.id)
    if current is not None and current.units == list(check.chosen):
        raise AssessmentError("These units are already the pathway: nothing changed.")
    choice = PathwayChoice(enrolment_id=enrolment.id, units=list(check.chosen),
                           chosen_by_id=actor.id)
    session.add(choice)
    session.flush()
    pathway_chosen.emit(session, actor=actor, centre_id=enrolment.centre_id,
                        learner_id=enrolment.learner_id, subject=choice,
                        units=", ".join(check.chosen), complete=check.complete)
    return choice


# Built once, the enrolments a parameter: every progress page and caseload runs them.
_CURRENT_PATHWAYS = (
    sa.select(PathwayChoice)
    .where(PathwayChoice.id.in_(sa.select(sa.func.max(PathwayChoice.id))
                                .where(one_of(PathwayChoice.enrolment_id, "enrolment_ids"))
                                .group_by(PathwayChoice.enrolment_id)))
    .options(joinedload(PathwayChoice.chosen_by)))
_HISTORY = (sa.select(PathwayChoice)
            .where(PathwayChoice.enrolment_id == sa.bindparam("enrolment_id"))
            .options(joinedload(PathwayChoice.chosen_by)).order_by(PathwayChoice.id.desc()))


def current_pathways(session: Session, enrolment_ids: Sequence[int]) -> dict[int, PathwayChoice]:
    """Each enrolment's latest choice, in one query whatever the number of enrolments."""
    if not enrolment_ids:
        return {}
    return {c.enrolment_id: c for c in session.scalars(
        _CURRENT_PATHWAYS, {"enrolment_ids": list(enrolment_ids)})}


def pathway_history(session: Session, enrolment_id: int) -> list[PathwayChoice]:
    """Every choice of an enrolment, latest first."""
    return list(session.scalars(_HISTORY, {"enrolment_id": enrolment_id}))
