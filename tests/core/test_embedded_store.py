"""The embedded SeaweedFS (``weed mini``): its ports, its stop and its credentials. Each test
starts and stops its own server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from portfolio.core.embedded_store import EmbeddedStore
from portfolio.core.storage import ObjectStore, StorageError
from tests.helpers.storage_server import free_port, start_test_store, storage_config_for
from tests.helpers.streams import GeneratedStream, MiB, payload


def weed_running(pid: int) -> bool:
    try:
        return b"weed" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False


def test_a_stopped_store_refuses_writes_and_leaves_no_process(tmp_path):
    port = free_port()
    with start_test_store(tmp_path / "s3", s3_port=port) as embedded:
        assert embedded.endpoint_url == f"http://127.0.0.1:{port}"
        store = ObjectStore(storage_config_for(embedded))
        store.put_bytes("before", b"x", "text/plain")
        pid = embedded.pid
        assert weed_running(pid)

    assert not weed_running(pid)
    assert embedded.pid is None
    with pytest.raises(StorageError, match="Cannot connect to the object store"):
        store.put_bytes("after", b"x", "text/plain")
    with pytest.raises(StorageError, match="Could not store 'after'"):
        store.put_stream("after", GeneratedStream(payload(MiB)), "text/plain")
    embedded.stop()


def test_a_taken_s3_port_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StorageError, match=f"Port {port} on 127.0.0.1 is taken"):
            start_test_store(tmp_path / "s3", s3_port=port)


def test_the_embedded_store_needs_credentials(tmp_path):
    with pytest.raises(StorageError, match="needs an access key and a secret key"):
        EmbeddedStore(tmp_path, access_key="portfolio", secret_key="")
