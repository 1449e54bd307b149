"""Content-defined chunking: where a file's bytes are cut into the chunks that are stored once.

Cut points depend only on the bytes around them (FastCDC 2020, via the compiled ``pyfastcdc``
0.3.1, pinned exactly), so inserting or changing bytes in the middle of a file moves only the
cuts near the change and every other chunk is found again and deduplicated.  Chunks average a
little over ``AVG_SIZE`` (256 KiB; pyfastcdc's real average is about avg + min, ~320 KiB), are
never smaller
than ``min_size = avg / 4`` except the last one of a file, and never larger than
``max_size = avg * 4``.  A file smaller than ``min_size`` is one chunk; an empty file is none.

Cut points are part of the storage format: a library upgrade or parameter change that moves them
makes every later upload miss the chunks already stored.  ``tests/content/test_chunking.py`` keeps
a golden list of offsets that fails when that happens.

Size.  The average is a trade between deduplication and bookkeeping.  Changing 1 MiB inside a
40 MiB file stores, over 100 keys: with a 256 KiB average 1.4 MiB more on average (worst seen
2.0 MiB; never more than the edit plus two maximum-size chunks, 3 MiB); with 512 KiB 2.0 MiB
(worst 3.6 MiB); with 1 MiB 3.1 MiB (worst 6.7 MiB).  We keep an edit under 3 MiB always, so
the average is 256 KiB (real average about 320 KiB: pyfastcdc's is about avg + min), a quarter
of the "about 1 MiB" first planned; restic's chunker (512 KiB minimum, 1 MiB average) stores
more per edit.

Keying.  pyfastcdc takes a ``seed`` that it XORs into every entry of its gear table, the way
borg XORs its ``chunk_seed`` into the buzhash table, so an account with its own seed cuts the
same bytes at different places than another account would, and stored chunk sizes do not give
away which well-known file someone has.  The library takes that seed as a 63-bit integer (values
of 2**63 and above overflow inside it), so :class:`Chunker` derives it from the account's 32-byte
secret with keyed BLAKE2b.  Only the gear table's low ~48 bits reach the masks FastCDC tests, so
the key that actually matters is smaller still.  Who this is for: someone who sees the blob store
(an S3 provider) but no keys still sees each encrypted chunk's size.  The keyed table stops them
matching those sizes against a known file's chunking.  It is not a cryptographic guarantee: an
attacker who can also get chosen content stored in the account can learn enough of the table to
recognise content (Truong, Merz, Scarlata, Günther and Paterson, "Breaking and Fixing
Content-Defined Chunking", RWC 2025; Alexeev and Zhang, "Chunking Attacks on File Backup
Services using Content-Defined Chunking"), which is true of borg's and restic's keying too.

Streaming.  :class:`StreamChunker` takes bytes in whatever pieces they arrive (an HTTP body in
64 KiB reads) and gives back each chunk as soon as its end is certain, with cut points identical
to :meth:`Chunker.cut` over the whole file.  It holds at most ``max_size`` plus one piece.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from pyfastcdc import FastCDC

AVG_SIZE = 256 * 1024
"""The average chunk size we ask FastCDC for (min = avg // 4, max = avg * 4)."""

SEED_SIZE = 32
"""Bytes in an account's chunker secret."""

_SEED_PERSON = b"sr-chunker-v1"
_SEED_MASK = (1 << 63) - 1


@dataclass(frozen=True, slots=True)
class Chunk:
    """One content-defined piece of a file: where it starts and its bytes (a private copy)."""

    offset: int
    data: bytes

    @property
    def length(self) -> int:
        return len(self.data)

    @property
    def end(self) -> int:
        """Offset of the first byte after this chunk."""
        return self.offset + len(self.data)


def gear_seed(secret: bytes) -> int:
    """The pyfastcdc ``seed`` for a 32-byte account secret: non-zero and below 2**63.

    Raises ValueError when ``secret`` is not 32 bytes (a programming error, not user input).
    """
    if len(secret) != SEED_SIZE:
        raise ValueError(f"a chunker secret has {SEED_SIZE} bytes, not {len(secret)}")
    digest = hashlib.blake2b(b"", key=secret, digest_size=8, person=_SEED_PERSON).digest()
    # Zero would silently select the library's unkeyed default table.
    return (int.from_bytes(digest, "big") & _SEED_MASK) or 1


class Chunker:
    """The cutting rules for one account: average size and gear-table key.

    ``Chunker(secret)`` with the account's 32-byte chunker secret; ``Chunker(None)`` uses the
    library's unkeyed table (for tests and for data that is not an account's).  Cheap to build;
    safe to share between threads because every cut gets its own pyfastcdc object.
    """

    def __init__(self, secret: bytes | None, *, avg_size: int = AVG_SIZE) -> None:
        self._seed = 0 if secret is None else gear_seed(secret)
        probe = self._fastcdc(avg_size)  # validates avg_size against the library's bounds
        self.avg_size = probe.avg_size
        self.min_size = probe.min_size
        self.max_size = probe.max_size

    def _fastcdc(self, avg_size: int | None = None) -> FastCDC:
        return FastCDC(avg_size or self.avg_size, normalized_chunking=1, seed=self._seed)

    def cut(self, data: bytes | bytearray | memoryview) -> Iterator[Chunk]:
        """Cut a whole buffer at once; the reference every other way of cutting must match."""
        for c in self._fastcdc().cut_buf(data):
            yield Chunk(c.offset, bytes(c.data))

    def cut_offsets(self, data: bytes | bytearray | memoryview) -> list[int]:
        """The start offset of every chunk of ``data``, without copying any bytes."""
        return [c.offset for c in self._fastcdc().cut_buf(data)]

    def cut_file(
        self, path: str | os.PathLike[str], *, read_size: int = 1024 * 1024
    ) -> Iterator[Chunk]:
        """Cut a file read in ``read_size`` pieces, holding about ``max_size`` bytes at a time."""
        stream = self.stream()
        with open(path, "rb") as f:
            while piece := f.read(read_size):
                yield from stream.feed(piece)
        yield from stream.finish()

    def stream(self, *, start_offset: int = 0) -> StreamChunker:
        """A :class:`StreamChunker` for one file.

        To resume after a restart, pass the end of the last chunk already taken as
        ``start_offset`` and feed the file's bytes from there: cut points depend only on the
        bytes since the previous cut, so the result matches cutting the whole file.
        """
        return StreamChunker(self._fastcdc(), start_offset=start_offset)


class StreamChunker:
    """Cuts one file fed piece by piece, emitting each chunk once its cut point is certain.

    ``feed(piece)`` returns the chunks completed so far (often none); ``finish()`` returns the
    rest, ending with the file's last, possibly short, chunk.  The emitted chunks are exactly
    those :meth:`Chunker.cut` gives for the concatenated pieces.  Not thread-safe: one file, one
    feeder.

    Why a cut can be certain before ``max_size`` bytes are buffered: FastCDC tests positions
    one by one from ``min_size`` on (with a stricter mask before ``avg_size``, a looser one
    after) and stops at the first match.  Given fewer bytes it tests a prefix of the same
    positions with the same masks, so a cut found before the end of the buffered bytes is the
    cut the whole file has; reaching the end without one proves nothing until ``max_size``
    bytes are buffered, where a cut is forced.  One look takes every certain cut in the
    buffered bytes.  The first look is at ``avg_size`` bytes (earlier cuts are rare) and a
    failed look is retried only once the buffer has doubled; with the 1 MiB pieces an upload
    feeds, each byte is scanned about 1.3 times.
    """

    def __init__(self, fastcdc: FastCDC, *, start_offset: int = 0) -> None:
        self._cdc = fastcdc
        self._buf = bytearray()
        self._start = 0  # bytes at the front of _buf already emitted (compacted lazily)
        self._offset = start_offset  # file offset of _buf[_start]
        self._try_at = fastcdc.avg_size  # pending length at which to look for a cut again
        self._finished = False

    @property
    def offset(self) -> int:
        """File offset where the next chunk will start (the end of the last emitted one)."""
        return self._offset

    @property
    def pending(self) -> int:
        """Bytes fed but not yet emitted in a chunk."""
        return len(self._buf) - self._start

    def pending_bytes(self) -> bytes:
        """A copy of the bytes fed but not yet emitted (what a resumed upload keeps as its tail)."""
        with memoryview(self._buf) as view:
            return bytes(view[self._start :])

    def feed(self, piece: bytes | bytearray | memoryview) -> list[Chunk]:
        """Add the next bytes of the file; return the chunks that are now complete.

        Raises ValueError after :meth:`finish`.
        """
        if self._finished:
            raise ValueError("this file's chunking is already finished")
        # Emitted bytes are dropped here, once per feed, rather than after every chunk: a huge
        # piece is then not moved again for each chunk cut from it, and the buffer never holds
        # more than the pending bytes (under max_size) plus this piece.
        if self._start:
            del self._buf[: self._start]
            self._start = 0
        self._buf += piece
        out: list[Chunk] = []
        if self.pending >= self._try_at:
            lengths = self._certain_cuts()
            if lengths:
                out = [self._take(length) for length in lengths]
                self._try_at = self._cdc.avg_size
            else:
                self._try_at = min(2 * self.pending, self._cdc.max_size)
        return out

    def finish(self) -> list[Chunk]:
        """Signal the end of the file; return every chunk not yet emitted."""
        self._finished = True
        with memoryview(self._buf) as view:
            rest = view[self._start :]
            out = [Chunk(self._offset + c.offset, bytes(c.data)) for c in self._cdc.cut_buf(rest)]
            rest.release()
        self._offset += self.pending
        self._buf = bytearray()
        self._start = 0
        return out

    def _certain_cuts(self) -> list[int]:
        """Lengths of the pending chunks whose cut points can no longer move, in order.

        One pass over the pending bytes: every chunk that ends before them is certain, and the
        last one too if it is ``max_size`` long (a forced cut).
        """
        with memoryview(self._buf) as view:
            rest = view[self._start :]
            lengths = [c.length for c in self._cdc.cut_buf(rest)]
            rest.release()
        if lengths and lengths[-1] < self._cdc.max_size:
            lengths.pop()  # it ends where the bytes end: more bytes may move its cut
        return lengths

    def _take(self, length: int) -> Chunk:
        start = self._start
        with memoryview(self._buf) as view:
            chunk = Chunk(self._offset, bytes(view[start : start + length]))
        self._start += length
        self._offset += length
        return chunk
