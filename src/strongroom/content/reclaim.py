"""Reclaiming storage: contents nothing refers to, then chunks no content uses, then their blobs
and the packs none of whose chunks is used any more.

Referencing columns (a message part's or file version's ``content_id``) are passed in by the
caller (``jobs``), since this package cannot know the domains above it.

# Race: an upload may be about to reference a chunk that looks unused (it was stored or touched
# by a stager, whose content is not committed yet).  Only chunks untouched for ``grace_ms`` are
# candidates, and their rows stay locked (``FOR UPDATE``; SQLite's writer lock) while their blobs
# are deleted, so a stager's touch waits and then finds the row gone, and stores the blob again.
# A stager never adds chunks to a pack that exists (each batch is a new pack), so a pack that no
# chunk row points into stays unused; it is deleted once older than the grace period (a stager
# records its pack and the pack's chunk rows in one transaction).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from strongroom.accounts.keys import namespace_of
from strongroom.blobs import BlobStore
from strongroom.blobs.vault import Placement
from strongroom.content.models import Chunk, Content, ContentChunk, Pack
from strongroom.db import Database


@dataclass
class Reclaimed:
    contents: int = 0
    chunks: int = 0
    bytes: int = 0


def reclaim_contents(
    session: Session, referencing: list[QueryableAttribute[Any]], cutoff: int, limit: int = 5000
) -> int:
    """Delete contents untouched since ``cutoff`` that no referencing column points to."""
    unused = [~exists().where(col == Content.id) for col in referencing]
    doomed = list(
        session.scalars(
            select(Content.id).where(Content.last_used_at < cutoff, *unused).limit(limit)
        )
    )
    if doomed:
        session.execute(delete(ContentChunk).where(ContentChunk.content_id.in_(doomed)))
        session.execute(delete(Content).where(Content.id.in_(doomed)))
    return len(doomed)


ChunkRef = tuple[QueryableAttribute[int], QueryableAttribute[str | None]]
"""An (account id, blob id) pair of columns naming chunks outside any content (an upload's
staged chunks, for instance), which must be kept too."""


def reclaim_chunks(
    db: Database,
    store: BlobStore,
    cutoff: int,
    batch: int = 200,
    also_used: list[ChunkRef] | None = None,
) -> Reclaimed:
    """Delete chunks untouched since ``cutoff`` that no content, nor ``also_used``, uses: the
    blob first, then the row."""
    result = Reclaimed()
    pairs: list[tuple[Any, Any]] = [(ContentChunk.account_id, ContentChunk.blob_id)]
    pairs += also_used or []
    unused = [
        ~exists().where(and_(account == Chunk.account_id, blob == Chunk.blob_id))
        for account, blob in pairs
    ]
    while True:
        with db.write() as s:
            rows = s.execute(
                select(Chunk.account_id, Chunk.blob_id, Chunk.stored_size, Chunk.pack_id)
                .where(Chunk.last_used_at < cutoff, *unused)
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).all()
            namespaces = _Namespaces(s)
            for account_id, blob_id, stored_size, pack_id in rows:
                namespace = namespaces.of(account_id)
                if pack_id is None and namespace is not None:
                    store.delete(f"{namespace}/{blob_id}")
                s.execute(
                    delete(Chunk).where(Chunk.account_id == account_id, Chunk.blob_id == blob_id)
                )
                if pack_id is None:
                    result.bytes += stored_size
            result.chunks += len(rows)
        if len(rows) < batch:
            break
    result.bytes += reclaim_packs(db, store, cutoff, batch)
    return result


def reclaim_packs(db: Database, store: BlobStore, cutoff: int, batch: int = 200) -> int:
    """Delete packs older than ``cutoff`` (and retired before it) that no chunk row points into;
    return the bytes freed."""
    freed = 0
    in_use = exists().where(
        and_(Chunk.account_id == Pack.account_id, Chunk.pack_id == Pack.pack_id)
    )
    while True:
        with db.write() as s:
            rows = s.execute(
                select(Pack.account_id, Pack.pack_id, Pack.stored_size)
                .where(
                    Pack.created_at < cutoff,
                    or_(Pack.retired_at.is_(None), Pack.retired_at < cutoff),
                    ~in_use,
                )
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).all()
            namespaces = _Namespaces(s)
            for account_id, pack_id, stored_size in rows:
                namespace = namespaces.of(account_id)
                if namespace is not None:
                    store.delete(f"{namespace}/{pack_id}")
                s.execute(
                    delete(Pack).where(Pack.account_id == account_id, Pack.pack_id == pack_id)
                )
                freed += stored_size
        if len(rows) < batch:
            return freed


REPACK_BELOW = 0.5
"""A pack whose chunks in use fill less than this share of it is rewritten (:func:`repack`)."""


def repack(db: Database, store: BlobStore, cutoff: int, now: int, limit: int = 64) -> int:
    """Copy the chunks still in use out of mostly unused packs into a new pack per account, so
    that the rest of their space can be freed; return the bytes that will be freed.

    Sealed chunks are copied as they are (a chunk's sealing does not depend on where it lies),
    so nothing is decrypted.  The old packs are *retired*, not deleted: a reader that looked up
    a chunk's old place just before the move can still read it, and :func:`reclaim_packs`
    deletes them once the grace period has passed.

    # Race: a chunk reclaimed while its pack is copied leaves unused bytes in the new pack; a
    # chunk row is moved only if it still points into the old pack (compare-and-set), so two
    # jobs repacking at once leave the loser's pack unused (reclaimed like any other).
    """
    live = (
        select(Chunk.account_id, Chunk.pack_id, func.sum(Chunk.stored_size).label("live"))
        .where(Chunk.pack_id.is_not(None))
        .group_by(Chunk.account_id, Chunk.pack_id)
        .subquery()
    )
    with db.read() as s:
        sparse = s.execute(
            select(Pack.account_id, Pack.pack_id, Pack.stored_size, live.c.live)
            .join(live, and_(live.c.account_id == Pack.account_id, live.c.pack_id == Pack.pack_id))
            .where(
                Pack.created_at < cutoff,
                Pack.retired_at.is_(None),
                live.c.live < Pack.stored_size * REPACK_BELOW,
            )
            .limit(limit)
        ).all()
    by_account: dict[int, list[tuple[str, int, int]]] = {}
    for account_id, pack_id, size, used in sparse:
        by_account.setdefault(int(account_id), []).append((str(pack_id), int(size), int(used)))
    freed = 0
    for account_id, packs in by_account.items():
        freed += _repack_account(db, store, account_id, packs, now)
    return freed


def _repack_account(
    db: Database, store: BlobStore, account_id: int, packs: list[tuple[str, int, int]], now: int
) -> int:
    old = [pack_id for pack_id, _, _ in packs]
    with db.read() as s:
        namespace = namespace_of(s, account_id)
        chunks = s.execute(
            select(Chunk.blob_id, Chunk.pack_id, Chunk.pack_offset, Chunk.stored_size)
            .where(Chunk.account_id == account_id, Chunk.pack_id.in_(old))
            .order_by(Chunk.pack_id, Chunk.pack_offset)
        ).all()
    if namespace is None:
        return 0
    new_id = secrets.token_hex(32)
    moved: list[tuple[str, str, int]] = []  # blob id, old pack, new offset
    at = 0
    with store.writer(f"{namespace}/{new_id}") as out:  # durable at commit
        for blob_id, pack_id, offset, size in chunks:
            out.write(store.read_range(f"{namespace}/{pack_id}", int(offset or 0), int(size)))
            moved.append((str(blob_id), str(pack_id), at))
            at += int(size)
        out.commit(f"{namespace}/{new_id}")
    with db.write() as s:
        s.add(Pack(account_id=account_id, pack_id=new_id, stored_size=at, created_at=now))
        for blob_id, pack_id, offset in moved:
            s.execute(
                update(Chunk)
                .where(
                    Chunk.account_id == account_id,
                    Chunk.blob_id == blob_id,
                    Chunk.pack_id == pack_id,
                )
                .values(pack_id=new_id, pack_offset=offset)
            )
        s.execute(
            update(Pack)
            .where(Pack.account_id == account_id, Pack.pack_id.in_(old))
            .values(retired_at=now)
        )
    return sum(size for _, size, _ in packs) - at


class _Namespaces:
    """Each account's storage namespace, looked up once per transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known: dict[int, str | None] = {}

    def of(self, account_id: int) -> str | None:
        if account_id not in self._known:
            self._known[account_id] = namespace_of(self._session, account_id)
        return self._known[account_id]


def referenced_blobs(session: Session, account_id: int) -> list[tuple[str, int | None]]:
    """Every object the account's chunks are in, with its stored size (for ``strongroom
    verify``): chunks stored as blobs of their own, and packs."""
    own = session.execute(
        select(Chunk.blob_id, Chunk.stored_size).where(
            Chunk.account_id == account_id, Chunk.pack_id.is_(None)
        )
    )
    packs = session.execute(
        select(Pack.pack_id, Pack.stored_size).where(Pack.account_id == account_id)
    )
    return [(str(b), int(n)) for b, n in [*own, *packs]]


def packed_chunks(session: Session, account_id: int) -> dict[str, list[tuple[str, Placement]]]:
    """The chunks in each of the account's packs, ``pack id -> [(blob id, placement)]`` (for
    ``strongroom verify --read-data``, which checks them one by one)."""
    found: dict[str, list[tuple[str, Placement]]] = {}
    rows = session.execute(
        select(Chunk.pack_id, Chunk.blob_id, Chunk.pack_offset, Chunk.stored_size).where(
            Chunk.account_id == account_id, Chunk.pack_id.is_not(None)
        )
    )
    for pack_id, blob_id, offset, stored_size in rows:
        found.setdefault(str(pack_id), []).append(
            (str(blob_id), Placement(str(pack_id), int(offset or 0), int(stored_size)))
        )
    return found
