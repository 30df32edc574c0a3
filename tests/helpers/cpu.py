"""CPU time spent by other processes of this machine (Linux ``/proc``): a benchmark's cost per
request that other work on a shared machine does not inflate, as it does wall-clock figures."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User plus system CPU seconds each process has used so far (those that cannot be read,
    gone or another user's, are left out)."""
    used = {}
    for pid in pids:
        try:
            # The fields after the command name, which may itself hold spaces and parentheses.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return used


def children_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (a gunicorn master's workers)."""
    found: set[int] = set()
    if not Path("/proc").is_dir():  # not Linux: no figure, rather than a failed benchmark
        return found
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def database_backends(url: str) -> set[int]:
    """Process ids of the PostgreSQL server's backends connected to the database of ``url``
    (this look-up's own excepted): readable here when the server runs on this machine."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(sa.text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")))
    finally:
        engine.dispose()


def spent(before: dict[int, float], after: dict[int, float]) -> float | None:
    """CPU seconds used between two readings; a process new in ``after`` counts from zero.
    None when no process could be read (a database server on another machine)."""
    if not after:
        return None
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
