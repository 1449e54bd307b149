"""Storing and reading content: chunk, hash, encrypt as bytes arrive; stream back, with ranges.

Writing happens in two steps.  *Staging* (:class:`Stager`, :func:`stage`, :func:`stage_many`)
cuts the bytes into chunks, stores the chunks the account does not have yet (outside any long
transaction: blob writes may be slow) and records each chunk's row at once (or, asked to,
hands the rows to the caller to record with the contents: :class:`ChunkRecords`).
*Committing* (:func:`commit`) then, inside the caller's transaction, finds or creates the
content row that owns those chunks.

# Race: a chunk the stager finds already stored is "touched" (``last_used_at = now``) by an
# UPDATE, in the transaction that records the new ones; reclaiming (``content/reclaim.py``)
# deletes only chunks untouched for the grace period and holds the chunk rows' locks while it
# deletes their blobs, so a touch either lands first (and the chunk is kept) or after the row is
# gone (and the stager stores the blob again).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from strongroom.blobs import Vault
from strongroom.blobs.vault import Placement
from strongroom.clock import Clock
from strongroom.content.chunking import Chunker, StreamChunker
from strongroom.content.models import Chunk, Content, ContentChunk
from strongroom.db import Database, execute_many, insert_tuples, select_in
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


@dataclass
class ChunkRecords:
    """Chunks stored in the vault (their packs durable) but not recorded yet: the rows
    :func:`record_chunks` writes, in the transaction that commits the contents using them."""

    packs: list[tuple[int, str, int, int]] = field(default_factory=list)
    chunks: list[tuple[int, str, int, int, int, str, int]] = field(default_factory=list)


def put_chunks(
    db: Database,
    vault: Vault,
    account_id: int,
    pieces: Sequence[bytes | memoryview],
    now: int,
    *,
    later: ChunkRecords | None = None,
) -> list[StagedChunk]:
    """Store the pieces the account lacks; touch the ones it has.  Returns them in order.

    Which pieces are stored is first looked up in a read, which waits for no writer: an
    import stages a batch's attachments while the batch before it is being stored, and used to
    wait for that transaction here, which held the import's storing up in turn.  Only the
    last step, recording new chunks and touching the others, is a write (see the race in the
    module docstring: a piece collected since the look-up is stored again).  Pieces touched
    less than :data:`TOUCHED_LATELY_MS` ago are not touched again, so staging the same bytes
    over and over (an import's repeated pictures) takes no turn at the write lock.

    With ``later``, the new pieces' rows are added to it instead, for the caller to record
    with the contents that use them (:func:`record_chunks`): staging new bytes then takes no
    turn at the write lock either.  Until they are recorded the new pieces' pack is on no list,
    as between a pack's write and its record otherwise; a caller that ends up not committing
    must still record them (:func:`record_later`), so that reclaiming finds them."""
    ids = [vault.key.blob_id(p) for p in pieces]
    unique = sorted(set(ids))
    # Plain SQL: this runs for every few MiB of every upload, and building these statements
    # through SQLAlchemy (a multi-row upsert is compiled afresh for each row count) cost more
    # than running them.
    with db.read() as s:
        found = select_in(s, _HAVE, (account_id,), unique)
    seen = {str(blob_id) for blob_id, _ in found}
    stale = {str(blob_id) for blob_id, used in found if used < now - TOUCHED_LATELY_MS}
    todo = [b for b in unique if b not in seen]
    by_id = dict(zip(ids, pieces, strict=True))
    while True:
        lost = _place(db, vault, account_id, by_id, todo, stale, now, later)
        if not lost:
            return [StagedChunk(b, len(p)) for b, p in zip(ids, pieces, strict=True)]
        stale -= lost
        todo = sorted(lost)


def _place(
    db: Database,
    vault: Vault,
    account_id: int,
    pieces: dict[str, bytes | memoryview],
    new: list[str],
    seen: set[str],
    now: int,
    later: ChunkRecords | None = None,
) -> set[str]:
    """Write the ``new`` pieces as one pack (durable before the database records it), then in
    one transaction record them and touch the ``seen`` ones.  Returns the seen ones no longer
    stored (collected since they were seen), which the caller must store after all."""
    if not new and not seen:
        return set()
    placed = vault.put_pack([(b, pieces[b]) for b in new]) if new else []
    records = ChunkRecords() if later is None else later  # later: the caller records them
    if placed:
        pack_size = sum(at.stored_size for at in placed)
        records.packs.append((account_id, placed[0].pack_id, pack_size, now))
        records.chunks += [
            (account_id, blob_id, len(pieces[blob_id]), at.stored_size, now, at.pack_id, at.offset)
            for blob_id, at in zip(new, placed, strict=True)
        ]
    if not seen and later is not None:
        return set()
    with db.write() as s:
        touched = {str(row[0]) for row in select_in(s, _TOUCH, (now, account_id), sorted(seen))}
        if later is None:
            record_chunks(s, records)
    return seen - touched


def record_chunks(session: Session, records: ChunkRecords) -> None:
    """Record chunks staged with ``later`` (:func:`put_chunks`), with their packs, inside the
    caller's transaction."""
    execute_many(session, _RECORD_PACK, records.packs)
    execute_many(session, _RECORD, records.chunks)


def record_later(db: Database, records: ChunkRecords) -> None:
    """Record, in a transaction of their own, chunks staged with ``later`` for contents that
    will not be committed after all (a batch that failed or was never stored): on the lists,
    reclaiming deletes them once nothing uses them."""
    if records.packs or records.chunks:
        with db.write() as s:
            record_chunks(s, records)


_HAVE = "SELECT blob_id, last_used_at FROM chunks WHERE account_id = ? AND blob_id IN (*)"

TOUCHED_LATELY_MS = 10 * 60 * 1000
"""A stored chunk whose ``last_used_at`` is this recent is not touched again by a stager: it
cannot be reclaimed before ``reclaim_grace_hours`` less this have passed, and the stager's
caller commits the content that uses it within seconds.  (A grace period shorter than this
already leaves any touched chunk open to reclaiming before its content is committed.)"""
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
    """:func:`commit` for several contents, with one lookup and one insert round (plain SQL:
    an import commits a batch's attachments at once, and the ORM's unit of work cost more
    than the statements)."""
    if not staged:
        return []
    found = find_many(session, account_id, [(st.sha256, st.size) for st in staged])
    if found:
        select_in(session, _TOUCH_CONTENTS, (now,), sorted(set(found.values())))
    fresh: dict[tuple[bytes, int], Staged] = {}
    for st in staged:
        key = (st.sha256, st.size)
        if key not in found:
            fresh.setdefault(key, st)
    if fresh:
        execute_many(
            session,
            _NEW_CONTENT,
            [
                (account_id, sha, size, len(st.chunks), now, now)
                for (sha, size), st in fresh.items()
            ],
        )
        found = find_many(session, account_id, fresh) | found
        rows = []
        for key, st in fresh.items():
            offset = 0
            for seq, chunk in enumerate(st.chunks):
                rows.append((found[key], seq, account_id, chunk.blob_id, offset, chunk.size))
                offset += chunk.size
        insert_tuples(session, ContentChunk, _CONTENT_CHUNK_COLUMNS, rows)
    return [found[(st.sha256, st.size)] for st in staged]


_CONTENTS = "SELECT id, sha256, size FROM contents WHERE account_id = ? AND sha256 IN (*)"
_TOUCH_CONTENTS = "UPDATE contents SET last_used_at = ? WHERE id IN (*) RETURNING id"
_NEW_CONTENT = (
    "INSERT INTO contents (account_id, sha256, size, chunk_count, created_at, last_used_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_CONTENT_CHUNK_COLUMNS = ("content_id", "seq", "account_id", "blob_id", "offset", "size")


def stage_many(
    db: Database,
    vault: Vault,
    account_id: int,
    clock: Clock,
    blobs: list[bytes],
    *,
    later: ChunkRecords | None = None,
) -> list[Staged]:
    """Stage several small contents with one round of chunk writes (one flush to disk); with
    ``later``, their new chunks are recorded by the caller (:func:`put_chunks`)."""
    chunker = Chunker(vault.key.chunker_secret)
    cuts = [[c.data for c in chunker.cut(data)] for data in blobs]
    hashes = [hashlib.sha256(data).digest() for data in blobs]  # before waiting for a writer
    stored = put_chunks(
        db, vault, account_id, [p for pieces in cuts for p in pieces], clock.now_ms(), later=later
    )
    result, at = [], 0
    for data, digest, pieces in zip(blobs, hashes, cuts, strict=True):
        result.append(Staged(digest, len(data), stored[at : at + len(pieces)]))
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


def find_many(
    session: Session, account_id: int, wanted: Iterable[tuple[bytes, int]]
) -> dict[tuple[bytes, int], int]:
    """:func:`find` for many ``(sha256, size)`` pairs in one query: each stored pair's id."""
    pairs = set(wanted)
    if not pairs:
        return {}
    rows = select_in(session, _CONTENTS, (account_id,), sorted({sha for sha, _ in pairs}))
    return {key: int(cid) for cid, sha, size in rows if (key := (bytes(sha), int(size))) in pairs}


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
