"""Many slow reads or writes at once (objects in the store), with bounded memory."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_bounded(function: Callable[[Item], Result], items: Iterable[Item], threads: int,
                name: str = "worker") -> Iterator[Result]:
    """``function(item)`` for every item on ``threads`` threads, the results in the order they
    finish. At most ``threads * 2`` items are taken ahead of the results (``Executor.map`` would
    take them all at once: a million rows would become a million pending futures). The first
    exception raised by ``function`` propagates and the items not yet started are dropped."""
    with ThreadPoolExecutor(threads, thread_name_prefix=name) as pool:
        pending: set[Future] = set()
        try:
            for item in items:
                if len(pending) >= threads * 2:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (future.result() for future in done)
                pending.add(pool.submit(function, item))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        finally:
            for future in pending:
                future.cancel()
