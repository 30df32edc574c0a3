"""The worker's periodic jobs: each runs at once, then once per interval; one that fails is
logged and tried again at its next turn, and does not stop the others."""

from __future__ import annotations

import datetime as dt

from portfolio.core.periodic import PeriodicJob, Schedule

T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


def test_jobs_run_at_once_then_each_interval_and_a_failure_stops_nothing(caplog):
    runs = []

    def broken():
        runs.append("broken")
        raise RuntimeError("database away")

    schedule = Schedule([PeriodicJob("hourly", dt.timedelta(hours=1), lambda: runs.append("h")),
                         PeriodicJob("broken", dt.timedelta(minutes=10), broken)])
    assert schedule.run_due(T0) == 600
    assert runs == ["h", "broken"]
    assert "the periodic job broken failed" in caplog.text

    assert schedule.run_due(T0 + dt.timedelta(minutes=5)) == 300
    assert runs == ["h", "broken"]
    assert schedule.run_due(T0 + dt.timedelta(minutes=10)) == 600
    assert runs == ["h", "broken", "broken"]
    schedule.run_due(T0 + dt.timedelta(hours=1))
    assert runs.count("h") == 2


def test_with_no_job_there_is_nothing_to_wait_for():
    assert Schedule([]).run_due(T0) is None
