"""The object store an operator's command (backup, restore, verify, sweep) works on: the
configured one or, on the embedded default, the instance's SeaweedFS. ``portfolio serve`` runs
that one and records it in its state file; when no serve runs, the command starts it for itself,
since a second weed must never open the same data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from portfolio.config import Settings
from portfolio.core.embedded_store import LOCALHOST, EmbeddedStore, running_store
from portfolio.core.storage import ObjectStore, StorageConfig


def embedded_data_dir(settings: Settings) -> Path:
    return settings.instance_path / "objects"


def serving_embedded_store(settings: Settings) -> dict | None:
    """The embedded store a ``portfolio serve`` runs for this instance now (its state), if any."""
    if not settings.uses_embedded_store:
        return None
    return running_store(embedded_data_dir(settings))


def _embedded(settings: Settings, endpoint_url: str) -> ObjectStore:
    return ObjectStore(StorageConfig.from_settings(
        settings, endpoint_url=endpoint_url, access_key=settings.resolved_s3_access_key,
        secret_key=settings.resolved_s3_secret_key))


@contextmanager
def command_store(settings: Settings, configured: ObjectStore) -> Iterator[ObjectStore]:
    """``configured`` unless the instance uses the embedded store; then the running one, or the
    instance's store started on a free port for the command and stopped afterwards."""
    if not settings.uses_embedded_store:
        yield configured
        return
    if (state := serving_embedded_store(settings)) is not None:
        yield _embedded(settings, f"http://{LOCALHOST}:{state['ports']['s3.port']}")
        return
    with EmbeddedStore(embedded_data_dir(settings), s3_port=0, bucket=settings.s3_bucket,
                       access_key=settings.resolved_s3_access_key,
                       secret_key=settings.resolved_s3_secret_key) as embedded:
        yield _embedded(settings, embedded.endpoint_url)
