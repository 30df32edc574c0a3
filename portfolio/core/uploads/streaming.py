"""An upload read once, front to back, on its way to storage: hashed, counted and limited."""

from __future__ import annotations

import hashlib
from typing import BinaryIO

from portfolio.core.uploads import UploadRejected, display_name, human_size
from portfolio.core.uploads.sniffing import HEAD_SIZE

CHUNK_SIZE = 1024 * 1024


class StreamReader:
    """A file-like view of an upload that hashes and counts bytes as they pass, and refuses
    the file once it exceeds ``max_bytes``.

    ``read(n)`` returns exactly ``n`` bytes until the end: boto3's ``upload_fileobj`` takes a
    short read of a non-seekable stream for its end and would store a truncated object.
    """

    def __init__(self, stream: BinaryIO, filename: str, max_bytes: int,
                 chunk_size: int = CHUNK_SIZE):
        self._stream = stream
        self._name = display_name(filename)
        self.max_bytes = max_bytes
        self.chunk_size = chunk_size
        self._head: bytes | None = None
        self._head_offset = 0
        self._stream_ended = False
        self._hash = hashlib.sha256()
        self._size = 0
        self._exhausted = False

    def peek_head(self) -> bytes:
        """The first ``HEAD_SIZE`` bytes (fewer for a shorter file), kept for ``read`` to
        replay, so the type can be sniffed before anything is stored."""
        if self._head is None:
            self._head = self._read_stream(HEAD_SIZE)
        return self._head

    def read(self, n: int | None = -1) -> bytes:
        # Reading "everything" would put a 2 GB upload in memory.
        wanted = self.chunk_size if n is None or n < 0 else n
        head = self.peek_head()
        data = head[self._head_offset:self._head_offset + wanted]
        self._head_offset += len(data)
        if len(data) < wanted:
            data += self._read_stream(wanted - len(data))
        if wanted and not data:
            self._exhausted = True
        self._size += len(data)
        if self._size > self.max_bytes:
            raise UploadRejected(
                f"{self._name} is larger than the {human_size(self.max_bytes)} limit")
        self._hash.update(data)
        return data

    def _read_stream(self, n: int) -> bytes:
        parts = []
        while n > 0 and not self._stream_ended:
            part = self._stream.read(n)
            if not part:
                self._stream_ended = True
            parts.append(part)
            n -= len(part)
        return b"".join(parts)

    @property
    def sha256(self) -> str:
        if not self._exhausted:
            raise RuntimeError("the hash of an upload is known only once it has been read whole")
        return self._hash.hexdigest()

    @property
    def size(self) -> int:
        return self._size

    @property
    def exhausted(self) -> bool:
        return self._exhausted
