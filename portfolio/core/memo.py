"""A bounded, thread-safe memo of computed values for one process: what many requests would
otherwise compute again from the same inputs. A key must name everything the value depends on;
nothing here ever finds out that a value went stale."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

from portfolio.core.transaction import has_written

Value = TypeVar("Value")


class Memo(Generic[Value]):
    """The last ``size`` values by key, the least recently used forgotten first."""

    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    def get(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """The value kept for ``key``, or ``compute()``'s, then kept. Two threads missing at
        once may both compute: values are pure, so either result is right."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value


_by_database: weakref.WeakKeyDictionary[object, dict[str, Memo]] = weakref.WeakKeyDictionary()
_by_database_lock = threading.Lock()


def database_memo(session, name: str, size: int) -> Memo:
    """The memo called ``name`` of the database ``session`` reads (its engine, or the connection
    a test binds it to): what was read from one database is never served from another."""
    bind = session.get_bind()
    with _by_database_lock:
        memos = _by_database.setdefault(bind, {})
        if name not in memos:
            memos[name] = Memo(size)
        return memos[name]


def read_through(session, name: str, size: int, ids: Sequence[int],
                 keys_of: Callable[[Sequence[int]], Mapping[int, Hashable]],
                 read: Callable[[Sequence[int]], Mapping[int, Value]]) -> dict[int, Value]:
    """Per id, the value kept in the database's memo ``name`` under the key ``keys_of`` gives it
    now, the missing ones read together by ``read``. A transaction that has written reads
    everything afresh and keeps nothing: what it reads may yet be rolled back."""
    if has_written(session):
        return dict(read(ids))
    keys = keys_of(ids)
    kept = database_memo(session, name, size)
    missing = [i for i in ids if (i, keys[i]) not in kept]
    fresh = read(missing) if missing else {}

    def fetch(i: int) -> Value:
        # Kept a moment ago but forgotten since, under many ids at once: read it alone.
        return fresh[i] if i in fresh else read([i])[i]

    return {i: kept.get((i, keys[i]), lambda i=i: fetch(i)) for i in ids}
