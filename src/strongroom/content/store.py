"""Storing and reading content: chunk, hash, encrypt as bytes arrive; stream back, with ranges.

Writing happens in two steps.  *Staging* (:class:`Stager`, :func:`stage_bytes`) cuts the bytes
into chunks, stores the chunks the account does not have yet (outside any long transaction: blob
writes may be slow) and records each chunk's row at once.  *Committing* (:func:`commit`) then,
inside the caller's transaction, finds or creates the content row that owns those chunks.

# Race: a chunk the stager finds already stored is "touched" (``last_used_at = now``) by an
# UPDATE; reclaiming (``content/reclaim.py``) deletes only chunks untouched for the grace period
# and holds the chunk rows' locks while it deletes their blobs, so a touch either lands first
# (and the chunk is kept) or after the row is gone (and the stager stores the blob again).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from strongroom.blobs import Vault
from strongroom.blobs.vault import Placement
from strongroom.clock import Clock
from strongroom.content.chunking import Chunker, StreamChunker
from strongroom.content.models import Chunk, Content, ContentChunk
from strongroom.db import Database, execute_many, insert_rows, select_in
from strongroom.errors import NotFound

STAGE_BYTES = 16 * 1024 * 1024
"""Chunk bytes held before they are stored as one batch: one flush to disk and two database
transactions per batch, so the bigger the batch the less each MiB costs in syncs and in turns
at SQLite's write lock (8 chunks a batch, ~2.5 MiB, made that bookkeeping most of an upload's
time).  Memory per upload stays bounded: this plus one chunk plus the piece being fed."""


@dataclass(frozen=True)
class StagedChunk:
    blob_id: str
    size: int


@dataclass
class Staged:
    """Content whose chunks are stored, waiting for :func:`commit`."""

    sha256: bytes
    size: int
    chunks: list[StagedChunk] = field(default_factory=list)

    @property
    def sha256_hex(self) -> str:
        return self.sha256.hex()


def put_chunks(
    db: Database, vault: Vault, account_id: int, pieces: Sequence[bytes | memoryview], now: int
) -> list[StagedChunk]:
    """Store the pieces the account lacks; touch the ones it has.  Returns them in order."""
    ids = [vault.key.blob_id(p) for p in pieces]
    # Plain SQL: this runs for every few MiB of every upload, and building these statements
    # through SQLAlchemy (a multi-row upsert is compiled afresh for each row count) cost more
    # than running them.
    with db.write() as s:
        have = {str(row[0]) for row in select_in(s, _TOUCH, (now, account_id), sorted(set(ids)))}
    missing: dict[str, bytes | memoryview] = {}
    for blob_id, piece in zip(ids, pieces, strict=True):
        if blob_id not in have and blob_id not in missing:
            missing[blob_id] = piece
    if missing:
        # One pack per batch, durable before the database records it.
        placed = vault.put_pack(list(missing.items()))
        rows = [
            (account_id, blob_id, len(data), at.stored_size, now, at.pack_id, at.offset)
            for (blob_id, data), at in zip(missing.items(), placed, strict=True)
        ]
        pack_size = sum(at.stored_size for at in placed)
        with db.write() as s:
            execute_many(s, _RECORD_PACK, [(account_id, placed[0].pack_id, pack_size, now)])
            execute_many(s, _RECORD, rows)
    return [StagedChunk(b, len(p)) for b, p in zip(ids, pieces, strict=True)]


_TOUCH = (
    "UPDATE chunks SET last_used_at = ? WHERE account_id = ? AND blob_id IN (*) RETURNING blob_id"
)
_RECORD_PACK = (
    "INSERT INTO packs (account_id, pack_id, stored_size, created_at) VALUES (?, ?, ?, ?)"
)
# Race: two uploads of the same new bytes both store them; the first row keeps its place and
# the other pack's copy is never read (the pack goes once none of its chunks is used).
_RECORD = (
    "INSERT INTO chunks (account_id, blob_id, size, stored_size, last_used_at, pack_id,"
    " pack_offset) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (account_id, blob_id) DO UPDATE SET last_used_at = excluded.last_used_at"
)


class Stager:
    """Takes bytes in pieces of any size (as an upload arrives) and stages them as content."""

    def __init__(
        self,
        db: Database,
        vault: Vault,
        account_id: int,
        clock: Clock,
    ) -> None:
        self._db, self._vault, self._account, self._clock = db, vault, account_id, clock
        self._chunker: StreamChunker = Chunker(vault.key.chunker_secret).stream()
        self._hash = hashlib.sha256()
        self._size = 0
        self._pending: list[bytes | memoryview] = []
        self._pending_bytes = 0
        self.chunks: list[StagedChunk] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._hash.update(data)
        self._size += len(data)
        for chunk in self._chunker.feed(data):
            self._pending.append(chunk.data)
            self._pending_bytes += len(chunk.data)
        if self._pending_bytes >= STAGE_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pieces = [bytes(p) for p in self._pending]
            self._pending, self._pending_bytes = [], 0
            self.chunks += put_chunks(
                self._db, self._vault, self._account, pieces, self._clock.now_ms()
            )

    def finish(self) -> Staged:
        self._pending.extend(c.data for c in self._chunker.finish())
        self._flush()
        return Staged(self._hash.digest(), self._size, self.chunks)


def stage(
    db: Database, vault: Vault, account_id: int, clock: Clock, pieces: Iterable[bytes]
) -> Staged:
    stager = Stager(db, vault, account_id, clock)
    for piece in pieces:
        stager.write(piece)
    return stager.finish()


def commit(session: Session, account_id: int, staged: Staged, now: int) -> int:
    """The id of the account's content with these bytes, created if new (inside a transaction)."""
    return commit_many(session, account_id, [staged], now)[0]


def commit_many(session: Session, account_id: int, staged: list[Staged], now: int) -> list[int]:
    """:func:`commit` for several contents, with one lookup and one insert round."""
    keys = {(st.sha256, st.size) for st in staged}
    found = {
        (bytes(sha), int(size)): int(cid)
        for cid, sha, size in session.execute(
            select(Content.id, Content.sha256, Content.size).where(
                Content.account_id == account_id, Content.sha256.in_({k[0] for k in keys})
            )
        )
    }
    if found:
        session.execute(
            update(Content).where(Content.id.in_(list(found.values()))).values(last_used_at=now)
        )
    fresh: dict[tuple[bytes, int], tuple[Content, Staged]] = {}
    for st in staged:
        key = (st.sha256, st.size)
        if key not in found and key not in fresh:
            fresh[key] = (
                Content(
                    account_id=account_id,
                    sha256=st.sha256,
                    size=st.size,
                    chunk_count=len(st.chunks),
                    created_at=now,
                    last_used_at=now,
                ),
                st,
            )
    session.add_all([c for c, _ in fresh.values()])
    session.flush()
    rows = []
    for content, st in fresh.values():
        found[(st.sha256, st.size)] = content.id
        offset = 0
        for seq, chunk in enumerate(st.chunks):
            rows.append(
                {
                    "content_id": content.id,
                    "seq": seq,
                    "account_id": account_id,
                    "blob_id": chunk.blob_id,
                    "offset": offset,
                    "size": chunk.size,
                }
            )
            offset += chunk.size
    if rows:
        insert_rows(session, ContentChunk, rows)
    return [found[(st.sha256, st.size)] for st in staged]


def stage_many(
    db: Database, vault: Vault, account_id: int, clock: Clock, blobs: list[bytes]
) -> list[Staged]:
    """Stage several small contents with one round of chunk writes (one flush to disk)."""
    chunker = Chunker(vault.key.chunker_secret)
    cuts = [[c.data for c in chunker.cut(data)] for data in blobs]
    stored = put_chunks(
        db, vault, account_id, [p for pieces in cuts for p in pieces], clock.now_ms()
    )
    result, at = [], 0
    for data, pieces in zip(blobs, cuts, strict=True):
        result.append(
            Staged(hashlib.sha256(data).digest(), len(data), stored[at : at + len(pieces)])
        )
        at += len(pieces)
    return result


@dataclass(frozen=True)
class ContentInfo:
    id: int
    sha256: bytes
    size: int


def info(session: Session, account_id: int, content_id: int) -> ContentInfo:
    row = session.get(Content, content_id)
    if row is None or row.account_id != account_id:
        raise NotFound("no such content")
    return ContentInfo(row.id, row.sha256, row.size)


def find(session: Session, account_id: int, sha256: bytes, size: int) -> int | None:
    """The account's content with this hash and size, if stored."""
    return session.scalar(
        select(Content.id).where(
            Content.account_id == account_id, Content.sha256 == sha256, Content.size == size
        )
    )


_SIZES = "SELECT DISTINCT size FROM contents WHERE account_id = ? AND size IN (*)"


def stored_sizes(session: Session, account_id: int, sizes: list[int]) -> set[int]:
    """Which of ``sizes`` the account stores some content of (any hash)."""
    return {int(size) for (size,) in select_in(session, _SIZES, (account_id,), sorted(set(sizes)))}


class ChunkAt(NamedTuple):
    """One chunk of a content: its blob, where it starts in the content, its size, and where
    its sealed bytes are (None: a blob of its own)."""

    blob_id: str
    offset: int
    size: int
    at: Placement | None


def placement(pack_id: str | None, offset: int | None, stored_size: int | None) -> Placement | None:
    """A chunk row's place in its pack (None for a chunk stored as a blob of its own)."""
    if pack_id is None or offset is None or stored_size is None:
        return None
    return Placement(pack_id, int(offset), int(stored_size))


def chunk_list(session: Session, content_id: int) -> list[ChunkAt]:
    """Each chunk of the content, in order."""
    rows = session.execute(
        select(
            ContentChunk.blob_id,
            ContentChunk.offset,
            ContentChunk.size,
            Chunk.pack_id,
            Chunk.pack_offset,
            Chunk.stored_size,
        )
        .outerjoin(
            Chunk,
            (Chunk.account_id == ContentChunk.account_id) & (Chunk.blob_id == ContentChunk.blob_id),
        )
        .where(ContentChunk.content_id == content_id)
        .order_by(ContentChunk.seq)
    ).all()
    return [ChunkAt(str(b), int(o), int(n), placement(p, po, st)) for b, o, n, p, po, st in rows]


def read_range(
    vault: Vault, chunks: Sequence[ChunkAt], start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """Stream bytes ``start`` to ``end`` (exclusive; None = to the end), reading only the chunks
    that overlap; every chunk is verified as it is read."""
    total = chunks[-1].offset + chunks[-1].size if chunks else 0
    stop = total if end is None else min(end, total)
    for chunk in chunks:
        if chunk.offset + chunk.size <= start or chunk.offset >= stop:
            continue
        data = vault.read(chunk.blob_id, chunk.at)
        yield data[max(0, start - chunk.offset) : stop - chunk.offset]
