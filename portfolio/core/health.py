"""``/healthz`` (the process answers) and ``/readyz`` (the database and the store answer too),
for a load balancer or an orchestrator; neither needs a session.

Each readiness check runs in a thread of its own and is waited for at most
``PORTFOLIO_READY_TIMEOUT_SECONDS``: a hung database or store makes the page answer 503 in
seconds, never hang with it. A check still running from an earlier request is waited for
again, not started twice, so a server that hangs for minutes holds one thread per check, not
one per probe."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError
from flask import Blueprint, Flask, current_app, jsonify

from portfolio.core.storage import DeadlinePassed, ObjectStore, s3_client
from portfolio.extensions import db

blueprint = Blueprint("health", __name__)
#: What each check asks, as its errors name it.
SUBJECTS = {"database": "The database", "store": "The object store"}


@blueprint.get("/healthz")
def healthz():
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():
    results = current_app.extensions["readiness"].run()
    ready = all(result["ok"] for result in results.values())
    return jsonify(status="ready" if ready else "not ready", checks=results), \
        200 if ready else 503


@dataclasses.dataclass
class _Check:
    """One run of a check in a daemon thread (a hung one must not keep the process from
    exiting)."""

    run: Callable[[], None]
    explain: Callable[[Exception], str]
    started: float = dataclasses.field(default_factory=time.monotonic)
    finished: threading.Event = dataclasses.field(default_factory=threading.Event)
    seconds: float = 0.0
    error: str | None = None

    def __post_init__(self):
        threading.Thread(target=self._run, daemon=True, name="readiness check").start()

    def _run(self) -> None:
        try:
            self.run()
        except Exception as error:
            self.error = self.explain(error)
        finally:
            self.seconds = time.monotonic() - self.started
            self.finished.set()


class Readiness:
    """The checks of one application."""

    def __init__(self, engine: sa.Engine, timeout: float):
        self.engine = engine
        self.timeout = timeout
        self._running: dict[str, _Check] = {}
        self._lock = threading.Lock()
        self._store: ObjectStore | None = None
        self._store_client = None

    def run(self) -> dict[str, dict]:
        """Each check's outcome: ``ok``, ``seconds`` and, when not ok, ``error`` (a sentence
        without addresses' passwords or keys)."""
        started = time.monotonic()
        with self._lock:
            checks = {"database": (self._query_database, self._explain_database),
                      "store": (self._head_bucket(), self._explain_store)}
            for name, (run, explain) in checks.items():
                if name not in self._running or self._running[name].finished.is_set():
                    self._running[name] = _Check(run, explain)
            running = dict(self._running)
        results = {}
        for name, check in running.items():
            if check.finished.wait(max(0.0, started + self.timeout - time.monotonic())):
                results[name] = {"ok": check.error is None, "seconds": round(check.seconds, 4)}
                if check.error is not None:
                    results[name]["error"] = check.error
            else:
                results[name] = {"ok": False,
                                 "seconds": round(time.monotonic() - started, 4),
                                 "error": self._not_answering(name)}
        return results

    def _query_database(self) -> None:
        """A connection from the pool and a query on it, below SQLAlchemy's transactions: on
        SQLite a transaction begun outside a request would wait for the write lock."""
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            cursor.close()
        finally:
            connection.close()

    def _head_bucket(self) -> Callable[[], None]:
        """A HEAD of the bucket through a client with the check's deadline and one attempt (the
        application's client waits out a slow store for longer, with retries)."""
        store = current_app.extensions["object_store"]
        if store is not self._store:
            config = dataclasses.replace(store.config, deadline_seconds=self.timeout)
            self._store_client = s3_client(config, config.endpoint_url, max_attempts=1)
            self._store = store
        client, bucket = self._store_client, store.bucket
        return lambda: client.head_bucket(Bucket=bucket)

    def _not_answering(self, name: str) -> str:
        return f"{SUBJECTS[name]} did not answer within {self.timeout:g} s."

    def _explain_database(self, error: Exception) -> str:
        """The driver's first line says why (refused, unknown host, no such file); a password
        it might quote is masked."""
        reason = getattr(error, "orig", None) or error
        lines = str(reason).strip().splitlines()
        sentence = lines[0].rstrip(".") if lines else type(reason).__name__
        password = self.engine.url.password
        if password:
            sentence = sentence.replace(password, "***")
        return f"The database did not answer: {sentence}."

    def _explain_store(self, error: Exception) -> str:
        if isinstance(error, ReadTimeoutError | ConnectTimeoutError | DeadlinePassed):
            return self._not_answering("store")
        if isinstance(error, BotoConnectionError):
            return "Cannot connect to the object store."
        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "an error")
            return f"The object store answered {code} to a HEAD of the bucket."
        return f"The object store failed ({type(error).__name__})."


def init_health(app: Flask, ready_timeout_seconds: float) -> None:
    """Register the pages; the database checked is the application's engine."""
    with app.app_context():
        engine = db.engine
    app.extensions["readiness"] = Readiness(engine, ready_timeout_seconds)
    app.register_blueprint(blueprint)
