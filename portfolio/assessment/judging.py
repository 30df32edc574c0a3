"""The judge page's form as sent (every criterion named in it, claimed or not) and the files it
shows inline beside the criteria."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from portfolio.assessment.decisions import Judgement
from portfolio.core.storage import ObjectStore
from portfolio.core.uploads.sniffing import download_name
from portfolio.evidence.models import EvidenceItem

_OUTCOME_FIELD = re.compile(r"outcome-(\d+)")
PDF = "application/pdf"


def judgements_sent(form: Mapping[str, str]) -> list[Judgement]:
    """A judgement for every criterion given an outcome: those the item does not claim too, so
    that the service refuses them by name rather than the page dropping them unseen."""
    judgements = []
    for name in form:
        match = _OUTCOME_FIELD.fullmatch(name)
        outcome = form.get(name, "")
        if match is None or not outcome:
            continue
        criterion_id = int(match.group(1))
        expected = form.get(f"current-{criterion_id}", "")
        judgements.append(Judgement(
            criterion_id=criterion_id, outcome=outcome,
            feedback=form.get(f"feedback-{criterion_id}", ""),
            expected_current_id=int(expected) if expected.isdigit() else None,
            reason=form.get(f"reason-{criterion_id}", "")))
    return judgements


@dataclass(frozen=True)
class InlineFile:
    """A file the judge page shows: ``kind`` is ``image`` (its preview) or ``pdf`` (the browser's
    own viewer in a frame, from a short-lived URL on the store)."""

    file_id: int
    name: str
    kind: str
    pdf_url: str | None = None


def inline_files(item: EvidenceItem, store: ObjectStore) -> list[InlineFile]:
    shown = []
    for stored in item.files:
        if stored.is_image:
            shown.append(InlineFile(stored.id, stored.original_name, "image"))
        elif stored.content_type == PDF:
            # Signed locally: no request to the store while the page is drawn.
            url = store.presigned_url(stored.object_key,
                                      download_name(stored.original_name, PDF),
                                      attachment=False, content_type=PDF)
            shown.append(InlineFile(stored.id, stored.original_name, "pdf", url))
    return shown
