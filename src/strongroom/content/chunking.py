"""Cutting content into chunks.

Interim implementation: fixed-size pieces.  It is replaced by content-defined chunking (FastCDC)
once the locker's chunker lands; both fit the same :class:`Chunker` interface.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

CHUNK_SIZE = 1024 * 1024


class Chunker(Protocol):
    def feed(self, data: bytes | memoryview) -> Iterable[bytes | memoryview]:
        """Take more bytes; return the chunks now complete."""

    def finish(self) -> Iterable[bytes | memoryview]:
        """No more bytes: return the remaining chunk(s)."""


class FixedChunker:
    def __init__(self, size: int = CHUNK_SIZE) -> None:
        self.size = size
        self._buffer = bytearray()

    def feed(self, data: bytes | memoryview) -> list[bytes]:
        self._buffer += data
        out = []
        while len(self._buffer) >= self.size:
            out.append(bytes(self._buffer[: self.size]))
            del self._buffer[: self.size]
        return out

    def finish(self) -> list[bytes]:
        out = [bytes(self._buffer)] if self._buffer else []
        self._buffer.clear()
        return out


def new_chunker() -> Chunker:
    return FixedChunker()
