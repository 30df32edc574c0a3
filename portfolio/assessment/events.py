"""The assessment feature's domain events."""

from __future__ import annotations

from portfolio.assessment.models import OUTCOMES, SIGN_OFF_METHODS
from portfolio.core.events import Event


def _decision(data) -> str:
    sentence = (f"judged {data.get('criterion', 'a criterion')} "
                f"{OUTCOMES.get(data.get('outcome'), '?').lower()} on evidence "
                f"#{data.get('item_id', '?')}")
    if data.get("supersedes_id"):
        sentence += f", replacing decision #{data['supersedes_id']} ({data.get('reason', '')})"
    return sentence


def _sign_off(data) -> str:
    method = SIGN_OFF_METHODS.get(data.get("method"), "?")
    return f"signed off unit {data.get('unit', '?')} ({method.lower()})"


decision_recorded = Event("decision.recorded", _decision)
item_feedback_given = Event("item_feedback.given", "gave feedback on evidence “{title}”")
unit_declared = Event("unit.declared", "declared the work for unit {unit} their own")
unit_signed_off = Event("unit.signed_off", _sign_off)
unit_unlocked = Event("unit.unlocked", "unlocked unit {unit}: {reason}")
decision_countersigned = Event("decision.countersigned", "countersigned the decision on {what}")
sign_off_countersigned = Event("sign_off.countersigned", "countersigned the sign-off of {what}")
pathway_chosen = Event("pathway.chosen", "chose the pathway: units {units}")
