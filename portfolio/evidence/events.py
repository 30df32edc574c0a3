"""The evidence feature's domain events."""

from __future__ import annotations

from portfolio.core.events import Event


def _files(data) -> str:
    files = data.get("files", [])
    return f"{len(files)} file" + ("" if len(files) == 1 else "s")


evidence_created = Event(
    "evidence.created",
    lambda data: (f"added evidence “{data.get('title', '')}” ({_files(data)}, "
                  f"{len(data.get('criteria', []))} criteria claimed)"))


def _claims_changed(data) -> str:
    before, after = set(data.get("before", [])), set(data.get("after", []))
    who = "mapped" if data.get("mapped_by") == "assessor" else "changed the claims of"
    return (f"{who} evidence #{data.get('object_id', '?')}: {len(after - before)} criteria added, "
            f"{len(before - after)} removed")


claims_changed = Event("evidence.claims_changed", _claims_changed)
evidence_withdrawn = Event("evidence.withdrawn", "withdrew evidence “{title}”")
upload_discarded = Event("evidence.upload_discarded",
                         "removed the upload “{name}” before adding it to evidence")
