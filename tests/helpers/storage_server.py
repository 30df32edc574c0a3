"""A real S3 server for the suite: SeaweedFS on free ports of 127.0.0.1, with fixed credentials."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from pathlib import Path

from portfolio.core.embedded_store import EmbeddedStore
from portfolio.core.storage import StorageConfig

TEST_BUCKET = "portfolio-test"
TEST_ACCESS_KEY = "portfolio-test"
TEST_SECRET_KEY = "portfolio-test-secret"


def start_test_store(directory: Path, s3_port: int = 0) -> EmbeddedStore:
    """A started store; the caller stops it."""
    return EmbeddedStore(directory, s3_port=s3_port, bucket=TEST_BUCKET,
                         access_key=TEST_ACCESS_KEY, secret_key=TEST_SECRET_KEY).start()


def storage_config_for(store: EmbeddedStore, **overrides) -> StorageConfig:
    values = {"endpoint_url": store.endpoint_url, "bucket": store.bucket,
              "access_key": store.access_key, "secret_key": store.secret_key}
    return StorageConfig(**{**values, **overrides})


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def hung(store: EmbeddedStore):
    """The store's process stopped (SIGSTOP) as a hung server is: connections are accepted,
    nothing answers. Resumed on the way out, whatever happened."""
    pid = store.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
