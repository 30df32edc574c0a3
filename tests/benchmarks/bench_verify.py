"""``portfolio storage verify`` against a plain boto3 read of the same objects.

10,000 objects (PORTFOLIO_BENCH_VERIFY_OBJECTS) of realistic evidence sizes, from 20 KB to 2 MB
(most of them documents and photos under 100 KB, a few large scans), stored in a real SeaweedFS
with their rows in a SQLite database. The scrub is timed whole (reading the rows included) and
compared with boto3 ``get_object`` reads of the same keys, one at a time and on as many threads
as the scrub uses (those two in turns, the best of two rounds each, as the machine may be
shared). Target: the scrub at least 0.8x as fast as the plain read.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import sqlalchemy as sa
from botocore.config import Config

from portfolio.catalogue import services as catalogue
from portfolio.evidence import integrity
from portfolio.evidence.models import EvidenceFile
from portfolio.extensions import db, object_store
from tests.helpers.app import make_app, migrate_with_catalogue
from tests.helpers.databases import create_database
from tests.helpers.factories import make_people
from tests.helpers.storage_server import start_test_store, storage_config_for

KB = 1024
#: (share of the objects, smallest, largest): sizes log-uniform within each band.
SIZES = ((0.80, 20 * KB, 100 * KB), (0.18, 100 * KB, 500 * KB), (0.02, 500 * KB, 2048 * KB))
TARGET = 0.8
ROUNDS = 2


def _sizes(count: int, seed: int = 8) -> list[int]:
    rng = random.Random(seed)
    shares, bands = zip(*((share, (low, high)) for share, low, high in SIZES), strict=True)
    return [int(low * (high / low) ** rng.random())
            for low, high in rng.choices(bands, weights=shares, k=count)]


def run():
    count = int(os.environ.get("PORTFOLIO_BENCH_VERIFY_OBJECTS", "10000"))
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        store = start_test_store(root / "objects")
        try:
            yield from _measure(root, store, count)
        finally:
            store.stop()


def _measure(root: Path, store, count: int):
    app = make_app(root, create_database(root), store=store)
    with app.app_context():
        migrate_with_catalogue(catalogue.load_builtin_specs())
        people = make_people(db.session)
        keys = _store_objects(people, object_store(), _sizes(count))
        db.session.commit()
        total = sum(size for size in db.session.scalars(sa.select(EvidenceFile.size)))

        client = _plain_client(store)
        sequential = _timed(lambda: [_read(client, store.bucket, key) for key in keys])
        # The machine is shared: the threaded read and the scrub take turns, best of each.
        threaded = scrubbed = float("inf")
        with ThreadPoolExecutor(integrity.THREADS) as pool:
            for _ in range(ROUNDS):
                threaded = min(threaded, _timed(lambda: list(pool.map(
                    lambda key: _read(client, store.bucket, key), keys))))
                scrub = integrity.verify_store(db.session, object_store())
                if not scrub.ok or scrub.checked_files != count:
                    raise RuntimeError(f"the scrub found damage in a clean store: "
                                       f"{scrub.summary()}")
                scrubbed = min(scrubbed, scrub.seconds)
        db.engine.dispose()

    mib = total / 2**20
    yield (f"storage verify of {count:,} objects, {mib:,.0f} MiB "
           f"(target >= {TARGET}x a plain boto3 read):")
    for label, seconds in (("boto3 get_object, one at a time", sequential),
                           (f"boto3 get_object, {integrity.THREADS} threads", threaded),
                           ("portfolio storage verify", scrubbed)):
        yield (f"  {label:<32} {seconds:6.1f} s  {count / seconds:7.0f} objects/s  "
               f"{mib / seconds:6.1f} MiB/s")
    yield (f"  verify: {sequential / scrubbed:.2f}x the sequential read, "
           f"{threaded / scrubbed:.2f}x the threaded read (best of {ROUNDS} each)")


def _store_objects(people, store, sizes: list[int]) -> list[str]:
    """Objects of the given sizes with their rows; every object's bytes differ. Made on the
    writers' threads, so only a few are in memory at once."""
    pool = os.urandom(4 * 2**20)
    enrolment_id = people.enrolment1.id

    def write(numbered: tuple[int, int]) -> dict:
        number, size = numbered
        start = random.Random(number).randrange(len(pool) - size)
        data = number.to_bytes(8, "big") + pool[start:start + size - 8]
        key = f"evidence/{enrolment_id}/bench-{number:06d}"
        store.put_bytes(key, data, "application/pdf")
        return {"enrolment_id": enrolment_id, "uploader_id": people.learner1.id,
                "object_key": key, "sha256": hashlib.sha256(data).hexdigest(),
                "size": size, "content_type": "application/pdf",
                "original_name": f"scan-{number}.pdf"}

    with ThreadPoolExecutor(8) as writers:
        rows = list(writers.map(write, enumerate(sizes)))
    db.session.execute(sa.insert(EvidenceFile), rows)
    return [row["object_key"] for row in rows]


def _plain_client(store):
    config = storage_config_for(store)
    return boto3.client("s3", endpoint_url=config.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=config.access_key,
                        aws_secret_access_key=config.secret_key,
                        config=Config(max_pool_connections=integrity.THREADS + 2))


def _read(client, bucket: str, key: str) -> int:
    return len(client.get_object(Bucket=bucket, Key=key)["Body"].read())


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start
