"""Zip files written as they are sent: constant memory, whatever the size (ZIP64 when needed).

Entries are stored, not deflated: photos and videos are compressed already, and the stream
starts at once.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


class _Pipe:
    """A write-only file object whose written bytes are collected and handed out in pieces."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        if data:
            self.pieces.append(bytes(data))
            self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.pieces)
        self.pieces = []
        return out


@dataclass(frozen=True)
class Entry:
    name: str
    modified_s: float
    size: int
    chunks: Iterable[bytes]


def unique_names(names: Iterable[str]) -> Iterator[str]:
    """``a.jpg``, ``a (2).jpg``... so two files of one name both end up in the zip."""
    seen: set[str] = set()
    for name in names:
        candidate, n = name, 1
        stem, dot, ext = name.rpartition(".")
        while candidate.lower() in seen:
            n += 1
            candidate = f"{stem} ({n}).{ext}" if dot and stem else f"{name} ({n})"
        seen.add(candidate.lower())
        yield candidate


def stream_zip(entries: Iterable[Entry]) -> Iterator[bytes]:
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, time.gmtime(max(entry.modified_s, 315532800))[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = entry.size
            with archive.open(info, mode="w", force_zip64=entry.size > 0xFFFF0000) as out:
                for chunk in entry.chunks:
                    out.write(chunk)
                    if pipe.pieces:
                        yield pipe.take()
            if pipe.pieces:
                yield pipe.take()
    yield pipe.take()
