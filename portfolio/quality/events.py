"""The quality feature's domain events: samples recorded and their actions' lives."""

from __future__ import annotations

from portfolio.core.events import Event
from portfolio.quality.models import SAMPLE_OUTCOMES


def _sample(data) -> str:
    outcome = SAMPLE_OUTCOMES.get(data.get("outcome"), "?").lower()
    sentence = (f"sampled unit {data.get('unit', '?')} ({data.get('stage', '?')}): "
                f"{len(data.get('decision_ids', []))} decisions of "
                f"{data.get('assessor', '?')}, {outcome}")
    if data.get("actions"):
        sentence += f", {data['actions']} action(s) raised"
    return sentence


sample_recorded = Event("sample.recorded", _sample)
action_responded = Event("sample_action.responded",
                         "responded to IQA action #{action_id}: {text}")
action_closed = Event("sample_action.closed", "closed IQA action #{action_id}")
sample_countersigned = Event("sample.countersigned",
                             "countersigned the sample of unit {unit} by {iqa}")
action_reopened = Event("sample_action.reopened", "reopened IQA action #{action_id}: {text}")
