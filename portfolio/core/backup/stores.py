"""The object store a backup command talks to: the configured one, or the instance's embedded
store, started for the command when no ``portfolio serve`` runs it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from portfolio.config import Settings
from portfolio.core.embedded_store import LOCALHOST, EmbeddedStore
from portfolio.core.storage import ObjectStore, StorageConfig


def embedded_store_running(settings: Settings) -> bool:
    """Whether something answers on the instance's embedded store port: ``portfolio serve``
    runs it, and a second server must not open the same data."""
    if not settings.embedded_s3_port:
        return False
    try:
        socket.create_connection((LOCALHOST, settings.embedded_s3_port), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def started_embedded_store(settings: Settings) -> Iterator[ObjectStore]:
    """The instance's embedded store on a free port, with the credentials its instance folder
    holds now, stopped afterwards."""
    access_key, secret_key = settings.resolved_s3_access_key, settings.resolved_s3_secret_key
    with EmbeddedStore(settings.instance_path / "objects", s3_port=0, bucket=settings.s3_bucket,
                       access_key=access_key, secret_key=secret_key) as embedded:
        yield ObjectStore(StorageConfig.from_settings(
            settings, endpoint_url=embedded.endpoint_url, access_key=access_key,
            secret_key=secret_key))
