"""The object store against a real SeaweedFS (``weed mini``), started once for this module."""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from portfolio.core.storage import ObjectStore, StorageError, content_disposition
from tests.helpers.storage_server import free_port, hung, start_test_store, storage_config_for
from tests.helpers.streams import GeneratedStream, MiB, payload


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    store = start_test_store(tmp_path_factory.mktemp("s3"))
    yield store
    store.stop()


@pytest.fixture(scope="module")
def config(embedded):
    return storage_config_for(embedded)


@pytest.fixture(scope="module")
def store(config):
    return ObjectStore(config)


@pytest.fixture(scope="module")
def s3(config):
    """A plain client, to look at the bucket without going through the code under test."""
    return boto3.client("s3", endpoint_url=config.endpoint_url, region_name=config.region,
                        aws_access_key_id=config.access_key,
                        aws_secret_access_key=config.secret_key)


@pytest.fixture()
def prefix():
    """Tests share the bucket; each writes under its own prefix."""
    return f"test/{uuid.uuid4().hex}/"


def test_put_stream_uploads_a_non_seekable_stream_in_parts(store, s3, prefix):
    key = f"{prefix}large"
    size = 20 * MiB + 12345
    stream = GeneratedStream(payload(size, "large"))

    store.put_stream(key, stream, "application/octet-stream")

    body = s3.get_object(Bucket=store.bucket, Key=key)["Body"].read()
    assert body == b"".join(payload(size, "large"))
    assert stream.largest_read <= 8 * MiB
    head = s3.head_object(Bucket=store.bucket, Key=key)
    assert head["ETag"].strip('"').endswith("-3"), "three 8 MiB parts"
    assert head["ContentType"] == "application/octet-stream"


def test_put_stream_stores_a_small_stream_in_one_request(store, s3, prefix):
    key = f"{prefix}small"
    store.put_stream(key, GeneratedStream(payload(300_000, "small")), "text/plain")

    body = s3.get_object(Bucket=store.bucket, Key=key)["Body"].read()
    assert body == b"".join(payload(300_000, "small"))


def test_an_error_raised_by_the_stream_propagates_and_stores_nothing(store, s3, prefix):
    key = f"{prefix}rejected"
    error = ValueError("larger than the limit")

    def chunks():
        yield from payload(10 * MiB, "rejected")
        raise error

    with pytest.raises(ValueError) as raised:
        store.put_stream(key, GeneratedStream(chunks()), "application/pdf")

    assert raised.value is error
    assert not store.exists(key)
    store.abort_stale_multipart_uploads(datetime.now(UTC) + timedelta(minutes=1))
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=store.bucket, Prefix=key)


def test_abort_stale_multipart_uploads_spares_recent_ones(store, s3, prefix):
    key = f"{prefix}stalled"
    s3.create_multipart_upload(Bucket=store.bucket, Key=key)

    assert store.abort_stale_multipart_uploads(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert len(s3.list_multipart_uploads(Bucket=store.bucket, Prefix=key)["Uploads"]) == 1

    assert store.abort_stale_multipart_uploads(datetime.now(UTC) + timedelta(minutes=1)) >= 1
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=store.bucket, Prefix=key)


def test_abort_stale_multipart_uploads_needs_an_aware_time(store):
    with pytest.raises(ValueError, match="timezone-aware"):
        store.abort_stale_multipart_uploads(datetime.now())


def test_put_bytes_head_exists_delete(store, prefix):
    key = f"{prefix}note.txt"
    assert store.head(key) is None
    assert not store.exists(key)

    store.put_bytes(key, b"hello", "text/plain")

    head = store.head(key)
    assert head["size"] == 5
    assert head["content_type"] == "text/plain"
    assert head["last_modified"].tzinfo is not None
    assert abs(datetime.now(UTC) - head["last_modified"]) < timedelta(minutes=1)
    assert store.exists(key)

    store.delete(key)
    assert not store.exists(key)
    store.delete(key)


def test_delete_many_works_in_batches(store, prefix):
    keys = [f"{prefix}{number:04d}" for number in range(1001)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: store.put_bytes(key, b"x", "text/plain"), keys))
    keep = f"{prefix}keep"
    store.put_bytes(keep, b"x", "text/plain")

    store.delete_many(keys)

    assert [key for key, _ in store.iter_objects(prefix)] == [keep]
    store.delete_many([])


def test_iter_objects_lists_a_prefix(store, prefix):
    for name in ("a/1", "a/2", "b/1"):
        store.put_bytes(f"{prefix}{name}", b"x", "text/plain")

    listed = dict(store.iter_objects(f"{prefix}a/"))

    assert sorted(listed) == [f"{prefix}a/1", f"{prefix}a/2"]
    for modified in listed.values():
        assert modified.tzinfo == UTC
        assert abs(datetime.now(UTC) - modified) < timedelta(minutes=1)


def test_presigned_url_downloads_with_a_disposition(embedded, config, prefix):
    # A different host name than the server side uses, as behind a proxy.
    public = config.endpoint_url.replace("127.0.0.1", "localhost")
    store = ObjectStore(dataclasses.replace(config, public_endpoint_url=public))
    key = f"{prefix}report"
    store.put_bytes(key, b"%PDF-1.7 report", "application/octet-stream")

    url = store.presigned_url(key, filename='Évidence "final"\r\n.pdf',
                              content_type="application/pdf")

    assert url.startswith(public)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"%PDF-1.7 report"
        disposition = response.headers["Content-Disposition"]
        assert response.headers["Content-Type"] == "application/pdf"
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%C3%89vidence%20final.pdf" in disposition
    assert 'filename="Evidence final.pdf"' in disposition


def test_presigned_url_inline(store, prefix):
    key = f"{prefix}photo"
    store.put_bytes(key, b"jpeg", "image/jpeg")

    with urllib.request.urlopen(store.presigned_url(key, "photo.jpg", attachment=False),
                                timeout=10) as response:
        assert response.headers["Content-Disposition"].startswith("inline;")


def test_presigned_url_expires(store, prefix):
    key = f"{prefix}brief"
    store.put_bytes(key, b"x", "text/plain")
    url = store.presigned_url(key, "brief.txt", expires=1)

    time.sleep(2.5)

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(url, timeout=10)
    assert raised.value.code == 403


def test_the_bucket_is_not_public(store, config, prefix):
    key = f"{prefix}private"
    store.put_bytes(key, b"secret", "text/plain")

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{config.endpoint_url}/{config.bucket}/{key}", timeout=10)
    assert raised.value.code == 403


@pytest.mark.parametrize(("filename", "attachment", "expected"), [
    (None, True, "attachment"),
    ('"\x00\r\n', False, "inline"),
    ("plan.pdf", True, "attachment; filename=\"plan.pdf\"; filename*=UTF-8''plan.pdf"),
    ("100% ok.txt", True,
     "attachment; filename=\"100_ ok.txt\"; filename*=UTF-8''100%25%20ok.txt"),
    ("日本.png", False, "inline; filename=\"download.png\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png"),
    ("日本", True, "attachment; filename=\"download\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC"),
    (".profile", True, "attachment; filename=\".profile\"; filename*=UTF-8''.profile"),
    ('a\\b";c.txt', True, "attachment; filename=\"ab;c.txt\"; filename*=UTF-8''ab%3Bc.txt"),
])
def test_content_disposition(filename, attachment, expected):
    assert content_disposition(filename, attachment) == expected


def test_check_passes_and_leaves_no_probe(store):
    assert store.check() == []
    assert list(store.iter_objects("_probe/")) == []


def test_check_names_an_unreachable_endpoint(config):
    endpoint = f"http://127.0.0.1:{free_port()}"
    store = ObjectStore(dataclasses.replace(config, endpoint_url=endpoint,
                                            public_endpoint_url=""))

    [problem] = store.check()

    assert problem.startswith(f"Cannot connect to the object store at {endpoint}")


def test_check_reports_refused_credentials(config):
    store = ObjectStore(dataclasses.replace(config, secret_key="not-the-secret"))

    [problem] = store.check()

    assert problem == (
        f"The object store at {config.endpoint_url} refused the credentials: the secret key is "
        f"not the one of access key 'portfolio-test'; check PORTFOLIO_S3_SECRET_KEY.")


def test_check_reports_an_unknown_access_key(config):
    store = ObjectStore(dataclasses.replace(config, access_key="stranger"))

    [problem] = store.check()

    assert problem == (
        f"The object store at {config.endpoint_url} refused the credentials: it does not know "
        f"access key 'stranger'; check PORTFOLIO_S3_ACCESS_KEY.")


def test_check_names_a_missing_bucket(config):
    store = ObjectStore(dataclasses.replace(config, bucket="no-such-bucket"))

    assert store.check() == [
        f"Bucket 'no-such-bucket' does not exist at {config.endpoint_url}: create it or set "
        f"PORTFOLIO_S3_BUCKET."]


def test_check_reports_a_bucket_that_refuses_writes(config, s3):
    bucket = f"read-only-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": ["s3:PutObject"],
                       "Resource": [f"arn:aws:s3:::{bucket}/*"]}],
    }))
    store = ObjectStore(dataclasses.replace(config, bucket=bucket))

    assert store.check() == [
        f"Bucket '{bucket}' at {config.endpoint_url} is not writable with access key "
        f"'portfolio-test' (AccessDenied): grant it PutObject and DeleteObject."]


def test_writing_to_a_missing_bucket_fails(config):
    store = ObjectStore(dataclasses.replace(config, bucket="no-such-bucket"))

    with pytest.raises(StorageError, match="'no-such-bucket' does not exist"):
        store.put_bytes("key", b"x", "text/plain")
    with pytest.raises(StorageError, match="'no-such-bucket' does not exist"):
        store.put_stream("key", GeneratedStream(payload(10 * MiB)), "text/plain")


def test_every_call_to_a_hung_store_fails_within_its_deadline(embedded, config, prefix):
    """Connections are accepted and nothing answers: timeouts bound each attempt, the deadline
    the retries (3 attempts of 0.75 s, and back-offs of at most 1 and 2 s)."""
    deadline = 3
    store = ObjectStore(dataclasses.replace(config, deadline_seconds=deadline))
    calls = {
        "put_bytes": lambda: store.put_bytes(f"{prefix}small", b"x", "text/plain"),
        "put_stream": lambda: store.put_stream(f"{prefix}large",
                                               GeneratedStream(payload(20 * MiB)), "text/plain"),
        "head": lambda: store.head(f"{prefix}small"),
        "iter_objects": lambda: list(store.iter_objects(prefix)),
    }
    with hung(embedded):
        for name, call in calls.items():
            started = time.monotonic()
            with pytest.raises(StorageError, match=rf"is not answering \(no reply within "
                                                   rf"{deadline} s\)"):
                call()
            assert time.monotonic() - started < 6.5, name
        [problem] = store.check()
    assert "is not answering" in problem
    assert store.check() == []


def test_each_part_of_a_slow_upload_has_its_own_deadline(config, s3, prefix):
    """A large upload takes as long as its sender needs: only a request waiting on the store
    counts against the deadline, which is per part, not per file."""
    class SlowSender(GeneratedStream):
        def read(self, size=-1):
            time.sleep(0.01)
            return super().read(size)

    store = ObjectStore(dataclasses.replace(config, deadline_seconds=2))
    key, size = f"{prefix}slow", 24 * MiB
    started = time.monotonic()

    store.put_stream(key, SlowSender(payload(size, "slow")), "application/octet-stream")

    assert time.monotonic() - started > 3
    assert s3.head_object(Bucket=store.bucket, Key=key)["ContentLength"] == size
