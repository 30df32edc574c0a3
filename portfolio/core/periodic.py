"""Jobs the worker runs now and then (a daily digest), registered by the features that own them:
the worker is in ``core`` and cannot import a feature, so a feature registers its job here when
it is imported, as it answers a :class:`~portfolio.core.hooks.Hook`.

A job commits its own work and must be safe to run again (a restarted worker runs every job at
once); its interval is how often it is looked at, not a promise that it does something.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: dt.timedelta
    #: Called in an application context with no transaction open; commits its own.
    run: Callable[[], object]


_jobs: list[PeriodicJob] = []


def every(interval: dt.timedelta, name: str):
    """Decorator: the worker calls the function every ``interval``."""

    def register(run: Callable[[], object]) -> Callable[[], object]:
        _jobs.append(PeriodicJob(name, interval, run))
        return run

    return register


class Schedule:
    """When each registered job last ran in this worker."""

    def __init__(self, jobs: Sequence[PeriodicJob] | None = None):
        #: The registered jobs unless others are given (a test's).
        self._jobs = _jobs if jobs is None else list(jobs)
        self._last: dict[str, dt.datetime] = {}

    def run_due(self, now: dt.datetime) -> float | None:
        """Run the jobs due at ``now`` (a failure is logged, and the job tried again at its next
        turn); returns seconds until the next is due, None if none is registered."""
        waits = []
        for job in self._jobs:
            last = self._last.get(job.name)
            if last is None or now - last >= job.interval:
                self._last[job.name] = now
                try:
                    job.run()
                except Exception:
                    logger.exception("the periodic job %s failed", job.name)
                last = now
            waits.append((last + job.interval - now).total_seconds())
        return min(waits) if waits else None
