"""The embedded store answers strangers on its S3 port only, and only to signed requests: a
local user who knows every port (and even an object's volume file id) can neither list, read,
write nor delete evidence through the master, volume, filer or admin ports, HTTP or gRPC."""

from __future__ import annotations

import glob
import os
import re
import socket
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest

from portfolio.core.storage import ObjectStore
from tests.helpers.storage_server import start_test_store, storage_config_for

KEY = "evidence/judged.pdf"
CONTENT = b"%PDF- the judged original"
#: The client preface of HTTP/2 (which gRPC speaks) and an empty SETTINGS frame.
HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_FRAME = 0x04


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    with start_test_store(tmp_path_factory.mktemp("locked")) as store:
        ObjectStore(storage_config_for(store)).put_bytes(KEY, CONTENT, "application/pdf")
        yield store


@pytest.fixture(scope="module")
def file_id(embedded):
    """The volume file id of the object, as only the store's owner can look it up."""
    ports = embedded.ports
    shell = subprocess.run(
        [str(embedded.binary), "shell",
         f"-master=127.0.0.1:{ports['master.port']}.{ports['master.port.grpc']}",
         f"-filer=127.0.0.1:{ports['filer.port']}.{ports['filer.port.grpc']}"],
        input=f"fs.meta.cat /buckets/{embedded.bucket}/{KEY}\n", capture_output=True,
        text=True, cwd=embedded.data_dir, timeout=60)
    found = re.search(r'"fileId":\s*"([0-9]+,[0-9a-f]+)"', shell.stdout)
    assert found, shell.stdout + shell.stderr
    return found.group(1)


def answer(method: str, url: str, body: bytes | None = None) -> int | str:
    """The HTTP status of an anonymous request, or why there was none."""
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError) as error:
        return f"no answer: {error}"


def attacks(bucket: str, file_id: str) -> list[tuple[str, str, bytes | None]]:
    """Listing, reading, writing and deleting an object as each SeaweedFS server offers it."""
    return [
        ("GET", f"/buckets/{bucket}/", None),
        ("GET", f"/buckets/{bucket}/evidence/?pretty=y", None),
        ("GET", "/dir/lookup?volumeId=1", None),
        ("GET", "/vol/status", None),
        ("GET", f"/buckets/{bucket}/{KEY}", None),
        ("GET", f"/{file_id}", None),
        ("GET", "/dir/assign", None),
        ("PUT", f"/buckets/{bucket}/{KEY}", b"replaced"),
        ("POST", f"/buckets/{bucket}/evidence/", b"replaced"),
        ("POST", f"/{file_id}", b"replaced"),
        ("POST", "/submit", b"replaced"),
        ("DELETE", f"/buckets/{bucket}/{KEY}", None),
        ("DELETE", f"/{file_id}", None),
        ("GET", f"/col/delete?collection={bucket}", None),
    ]


def connect_to(address: int | str) -> socket.socket:
    """A connection to a loopback port, or to a Unix socket by its path."""
    if isinstance(address, int):
        return socket.create_connection(("127.0.0.1", address), timeout=5)
    unix = socket.socket(socket.AF_UNIX)
    unix.settimeout(5)
    unix.connect(address)
    return unix


def listening(path: str) -> bool:
    """Whether a process serves the Unix socket ``path``: a killed run leaves its sockets in /tmp,
    and a later weed may be given the same port number."""
    try:
        connect_to(path).close()
    except ConnectionRefusedError:
        return False
    return True


def grpc_answers_a_stranger(address: int | str) -> bool:
    """True if the port or socket speaks gRPC (HTTP/2) with a client that has no certificate,
    in the clear or over TLS."""
    with connect_to(address) as plain:
        plain.sendall(HTTP2_HELLO)
        try:
            reply = plain.recv(9)
        except OSError:
            reply = b""
        if len(reply) >= 4 and reply[3] == SETTINGS_FRAME:
            return True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    try:
        with connect_to(address) as raw, context.wrap_socket(raw) as tls:
            tls.sendall(HTTP2_HELLO)
            reply = tls.recv(9)
    except OSError:  # ssl.SSLError included: the handshake or the first read refused
        return False
    return len(reply) >= 4 and reply[3] == SETTINGS_FRAME


def test_no_internal_http_port_lists_reads_writes_or_deletes(embedded, file_id):
    internal = {flag: port for flag, port in embedded.ports.items()
                if not flag.endswith(".grpc") and flag != "s3.port"}
    assert set(internal) >= {"master.port", "volume.port", "filer.port"}
    answered = {}
    for flag, port in internal.items():
        for method, path, body in attacks(embedded.bucket, file_id):
            status = answer(method, f"http://127.0.0.1:{port}{path}", body)
            if isinstance(status, int) and status < 400:
                answered[f"{method} {flag}{path}"] = status
    assert answered == {}
    assert ObjectStore(storage_config_for(embedded)).head(KEY)["size"] == len(CONTENT)


def test_no_grpc_port_talks_to_a_client_without_the_stores_certificate(embedded):
    grpc = {flag: port for flag, port in embedded.ports.items() if flag.endswith(".grpc")}
    assert set(grpc) >= {"master.port.grpc", "volume.port.grpc", "filer.port.grpc",
                         "s3.port.grpc"}
    assert {flag for flag, port in grpc.items() if grpc_answers_a_stranger(port)} == set()
    # weed also serves gRPC on /tmp/seaweedfs-<server>-grpc-<port>.sock, with no option to
    # move it.
    sockets = [path for port in grpc.values()
               for path in glob.glob(f"/tmp/seaweedfs-*-grpc-{port}.sock") if listening(path)]
    assert sockets
    assert [path for path in sockets if grpc_answers_a_stranger(path)] == []


def test_weed_shell_without_the_stores_certificate_gets_nothing(embedded, tmp_path):
    """SeaweedFS's own client, run by another user (another folder, another home)."""
    ports = embedded.ports
    try:
        shell = subprocess.run(
            [str(embedded.binary), "shell",
             f"-master=127.0.0.1:{ports['master.port']}.{ports['master.port.grpc']}",
             f"-filer=127.0.0.1:{ports['filer.port']}.{ports['filer.port.grpc']}"],
            input=(f"fs.ls /buckets/{embedded.bucket}/evidence\n"
                   f"fs.cat /buckets/{embedded.bucket}/{KEY}\n"
                   f"fs.rm /buckets/{embedded.bucket}/{KEY}\n"),
            capture_output=True, text=True, cwd=tmp_path, timeout=15,
            env={**os.environ, "HOME": str(tmp_path)})
        output = shell.stdout + shell.stderr
    except subprocess.TimeoutExpired as expired:
        output = f"{expired.stdout or ''}{expired.stderr or ''}"
    assert "judged" not in output
    store = ObjectStore(storage_config_for(embedded))
    assert store.head(KEY)["size"] == len(CONTENT)


def test_s3_refuses_unsigned_requests_and_serves_signed_ones(embedded):
    base = f"{embedded.endpoint_url}/{embedded.bucket}"
    statuses = {
        "list": answer("GET", f"{base}?list-type=2"),
        "read": answer("GET", f"{base}/{KEY}"),
        "write": answer("PUT", f"{base}/{KEY}", b"replaced"),
        "delete": answer("DELETE", f"{base}/{KEY}"),
    }
    assert statuses == dict.fromkeys(statuses, 403)
    store = ObjectStore(storage_config_for(embedded))
    assert [key for key, _ in store.iter_objects("evidence/")] == [KEY]
    store.put_bytes("evidence/signed", b"ok", "text/plain")
    store.delete("evidence/signed")
    assert store.head(KEY)["size"] == len(CONTENT)
