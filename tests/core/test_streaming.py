"""Streaming an upload with a hash and a limit, read as boto3 reads it."""

from __future__ import annotations

import hashlib
import io
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio.core.uploads import UploadRejected, human_size
from portfolio.core.uploads.sniffing import HEAD_SIZE
from portfolio.core.uploads.streaming import StreamReader


class Trickle(io.RawIOBase):
    """A non-seekable stream that answers short reads, like a socket, and records requests."""

    def __init__(self, data: bytes, most: int = 7000):
        self._data = io.BytesIO(data)
        self._most = most
        self.requests: list[int] = []

    def readable(self):
        return True

    def read(self, n=-1):
        self.requests.append(n)
        assert n is not None and n >= 0, "the upload was asked for everything at once"
        return self._data.read(min(n, self._most))


def drain(reader: StreamReader, n: int = -1) -> bytes:
    parts = []
    while part := reader.read(n):
        parts.append(part)
    return b"".join(parts)


@pytest.mark.parametrize("length", [1, 100, HEAD_SIZE - 1, HEAD_SIZE, HEAD_SIZE + 1, 300_001])
def test_stream_hash_size_and_replay(length):
    data = random.Random(length).randbytes(length)
    reader = StreamReader(Trickle(data), "clip.mp4", max_bytes=10**6, chunk_size=65_536)
    assert reader.peek_head() == data[:HEAD_SIZE]
    assert reader.peek_head() == data[:HEAD_SIZE]
    assert drain(reader) == data
    assert reader.exhausted
    assert reader.size == length
    assert reader.sha256 == hashlib.sha256(data).hexdigest()


def test_stream_shorter_than_the_head_replays_once():
    reader = StreamReader(io.BytesIO(b"hello"), "hello.txt", max_bytes=100)
    assert reader.peek_head() == b"hello"
    assert reader.read() == b"hello"
    assert reader.read() == b""
    assert reader.exhausted and reader.size == 5


def test_read_all_is_bounded_by_the_chunk_size():
    data = bytes(250_000)
    source = Trickle(data, most=10**9)
    reader = StreamReader(source, "big.wav", max_bytes=10**6, chunk_size=20_000)
    sizes = []
    while part := reader.read():
        sizes.append(len(part))
    assert max(sizes) == 20_000 and sum(sizes) == len(data)
    assert max(source.requests) <= max(HEAD_SIZE, 20_000)


def test_read_fills_the_request_despite_short_reads_underneath():
    data = random.Random(3).randbytes(50_000)
    source = Trickle(data, most=999)
    reader = StreamReader(source, "clip.mp4", max_bytes=10**6)
    reader.peek_head()
    assert [len(reader.read(12_000)) for _ in range(5)] == [12_000] * 4 + [2_000]
    assert not reader.exhausted
    assert reader.read(12_000) == b""
    assert reader.exhausted
    assert max(source.requests) <= 12_000


def test_the_limit_is_enforced_mid_stream():
    reader = StreamReader(Trickle(bytes(50_000)), "photo.jpg", max_bytes=10 * 1024)
    reader.read(4096)
    reader.read(4096)
    with pytest.raises(UploadRejected, match=r"^photo\.jpg is larger than the 10 KB limit$"):
        reader.read(4096)


def test_a_file_of_exactly_the_limit_is_accepted():
    reader = StreamReader(io.BytesIO(bytes(10_000)), "a.pdf", max_bytes=10_000)
    assert len(drain(reader, 3000)) == 10_000


def test_the_hash_is_refused_before_the_end():
    reader = StreamReader(io.BytesIO(bytes(100)), "a.pdf", max_bytes=1000)
    reader.read(10)
    with pytest.raises(RuntimeError):
        _ = reader.sha256


@given(st.binary(max_size=40_000), st.integers(1, 9000), st.integers(1, 5000))
def test_stream_property(data, chunk, most):
    reader = StreamReader(Trickle(data, most), "x", max_bytes=40_000, chunk_size=chunk)
    assert reader.peek_head() == data[:HEAD_SIZE]
    assert drain(reader) == data
    assert (reader.size, reader.sha256) == (len(data), hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("length", [5_000, 9 * 1024 * 1024 + 17])
def test_boto3_upload_fileobj_stores_every_byte(length):
    """upload_fileobj takes a short read of a non-seekable stream for its end; check the object
    it sends, in one PUT and in parts, is the whole file."""
    boto3 = pytest.importorskip("boto3")
    from boto3.s3.transfer import TransferConfig
    from botocore.stub import ANY, Stubber

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    sent: list[bytes] = []

    def capture(params, **kwargs):
        body = params["Body"]
        if hasattr(body, "read"):
            position = body.tell()
            sent.append(body.read())
            body.seek(position)
        else:
            sent.append(bytes(body))

    client.meta.events.register("before-parameter-build.s3.PutObject", capture)
    client.meta.events.register("before-parameter-build.s3.UploadPart", capture)
    data = random.Random(length).randbytes(length)
    stubber = Stubber(client)
    if length < 8 * 1024 * 1024:
        stubber.add_response("put_object", {}, {"Bucket": "b", "Key": "k", "Body": ANY,
                                                "ChecksumAlgorithm": ANY})
    else:
        stubber.add_response("create_multipart_upload", {"UploadId": "u"},
                             {"Bucket": "b", "Key": "k", "ChecksumAlgorithm": ANY})
        for number in (1, 2):
            stubber.add_response("upload_part", {"ETag": f'"{number}"'},
                                 {"Bucket": "b", "Key": "k", "UploadId": "u",
                                  "PartNumber": number, "Body": ANY,
                                  "ChecksumAlgorithm": ANY})
        stubber.add_response("complete_multipart_upload", {}, {
            "Bucket": "b", "Key": "k", "UploadId": "u", "MultipartUpload": ANY})
    reader = StreamReader(Trickle(data, most=100_000), "clip.mp4", max_bytes=10**8)
    reader.peek_head()
    with stubber:
        client.upload_fileobj(reader, "b", "k", Config=TransferConfig(use_threads=False))
    stubber.assert_no_pending_responses()
    assert b"".join(sent) == data
    assert reader.exhausted and reader.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 bytes"), (1, "1 byte"), (1023, "1023 bytes"), (1024, "1 KB"),
    (1536 * 1024, "1.5 MB"), (10 * 1024 ** 2, "10 MB"), (2 * 1024 ** 3, "2 GB"),
])
def test_human_size(n, text):
    assert human_size(n) == text
