"""Building portfolios for the assessment tests: evidence items with stored-file rows, judgements
and whole units met."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import itertools
import re

from portfolio.accounts.models import User
from portfolio.assessment.decisions import Judgement, record_decisions
from portfolio.assessment.models import Decision
from portfolio.assessment.progress import Progress, progress_for
from portfolio.assessment.queries import history
from portfolio.catalogue.tree import UnitNode, version_tree
from portfolio.evidence import services as evidence
from portfolio.evidence.models import EvidenceFile, EvidenceItem

_numbers = itertools.count(1)
FEEDBACK = "Add the call log that shows how you closed the complaint."


def unit_node(session, enrolment, number: str) -> UnitNode:
    tree = version_tree(session, enrolment.version_id)
    return next(u for u in tree.units if u.number == number)


def criteria_of(session, enrolment, number: str, count: int | None = None) -> list[int]:
    """Ids of the criteria of unit ``number``, in document order (the first ``count``)."""
    ids = [c.id for c in unit_node(session, enrolment, number).criteria]
    return ids if count is None else ids[:count]


def add_item(session, enrolment, criteria, title=None, files=1, resubmission_of=None,
             method="product", setting="workplace") -> EvidenceItem:
    """An item created by the evidence service from upload rows (as if streamed to storage)."""
    learner = session.get(User, enrolment.learner_id)
    uploads = []
    for _ in range(files):
        n = next(_numbers)
        key = f"evidence/{enrolment.id}/assessment-test-{n}"
        uploads.append(EvidenceFile(
            enrolment_id=enrolment.id, uploader_id=learner.id, object_key=key,
            sha256=hashlib.sha256(key.encode()).hexdigest(), size=100 + n,
            content_type="application/pdf", original_name=f"evidence-{n}.pdf"))
    session.add_all(uploads)
    session.flush()
    details = evidence.ItemDetails(
        title=title or f"Evidence {next(_numbers)}", description="Notes",
        evidence_date=dt.date(2026, 10, 1), method=method, setting=setting)
    return evidence.create_item(session, enrolment, learner, details, [u.id for u in uploads],
                                criteria, declared=True, resubmission_of=resubmission_of)


def current(session, enrolment, criterion_id: int) -> Decision | None:
    found = history(session, enrolment.id, criterion_id)
    return found[0] if found else None


def decide(session, item, assessor, criteria, outcome="met", feedback="", reason="",
           map_criteria=()) -> list[Decision]:
    """Record the same outcome on ``criteria``, each against its current decision."""
    if outcome == "not_yet_met" and not feedback:
        feedback = FEEDBACK
    judgements = []
    for criterion_id in criteria:
        now = current(session, item.enrolment, criterion_id)
        judgements.append(Judgement(
            criterion_id, outcome, feedback=feedback, reason=reason,
            expected_current_id=now.id if now else None))
    return record_decisions(session, item, assessor, judgements, map_criteria)


def meet_unit(session, enrolment, number: str, assessor) -> EvidenceItem:
    """One item claiming every criterion of the unit, judged met throughout."""
    criteria = criteria_of(session, enrolment, number)
    item = add_item(session, enrolment, criteria, title=f"Unit {number} portfolio")
    decide(session, item, assessor, criteria)
    return item


def progress(session, enrolment) -> Progress:
    return progress_for(session, [enrolment])[enrolment.id]


def status(session, enrolment, criterion_id: int) -> str:
    return progress(session, enrolment).state(criterion_id).status



def refusals(page: str) -> list[str]:
    """The messages at the top of a refused form (its ``form-errors`` block), unescaped."""
    block = re.search(r'<div class="form-errors".*?</div>', page, re.S)
    return [html.unescape(m.strip()) for m in
            re.findall(r'<p class="error-message">(.*?)</p>', block.group(0))] if block else []


def judgement_error(page: str, criterion_id: int) -> str | None:
    """The message shown in a criterion's fieldset on the judge page, or None."""
    found = re.search(rf'id="judgement-{criterion_id}-error"><p class="error-message">'
                      rf'<span class="visually-hidden">Error: </span>(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else None
