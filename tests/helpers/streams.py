"""Large deterministic streams for the object-store tests, generated as they are read."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

MiB = 1024 * 1024


def payload(size: int, seed: str = "") -> Iterator[bytes]:
    """Deterministic bytes in 64 KiB blocks, so a large stream need not be held to compare."""
    block = 0
    while size > 0:
        data = hashlib.sha256(f"{seed}{block}".encode()).digest() * 2048
        yield data[:size]
        size -= len(data)
        block += 1


class GeneratedStream:
    """A stream with ``read`` only (no seek, no tell), giving short reads as a socket does."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._pending = b""
        self.largest_read = 0

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self._pending + b"".join(self._chunks)
        self.largest_read = max(self.largest_read, size)
        if not self._pending:
            self._pending = next(self._chunks, b"")
        data, self._pending = self._pending[:size], self._pending[size:]
        return data
