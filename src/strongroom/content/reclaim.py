"""Reclaiming storage: contents nothing refers to, then chunks no content uses, then their blobs.

Referencing columns (a message part's or file version's ``content_id``) are passed in by the
caller (``jobs``), since this package cannot know the domains above it.

# Race: an upload may be about to reference a chunk that looks unused (it was stored or touched
# by a stager, whose content is not committed yet).  Only chunks untouched for ``grace_ms`` are
# candidates, and their rows stay locked (``FOR UPDATE``; SQLite's writer lock) while their blobs
# are deleted, so a stager's touch waits and then finds the row gone, and stores the blob again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.orm import QueryableAttribute, Session

from strongroom.accounts.keys import namespace_of
from strongroom.blobs import BlobStore
from strongroom.content.models import Chunk, Content, ContentChunk
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
                select(Chunk.account_id, Chunk.blob_id, Chunk.stored_size)
                .where(Chunk.last_used_at < cutoff, *unused)
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).all()
            namespaces: dict[int, str | None] = {}
            for account_id, blob_id, stored_size in rows:
                if account_id not in namespaces:
                    namespaces[account_id] = namespace_of(s, account_id)
                namespace = namespaces[account_id]
                if namespace is not None:
                    store.delete(f"{namespace}/{blob_id}")
                s.execute(
                    delete(Chunk).where(Chunk.account_id == account_id, Chunk.blob_id == blob_id)
                )
                result.bytes += stored_size
            result.chunks += len(rows)
        if len(rows) < batch:
            return result


def referenced_blobs(session: Session, account_id: int) -> list[tuple[str, int | None]]:
    """Every chunk the account has, with its stored size (for ``strongroom verify``)."""
    return [
        (str(b), int(n))
        for b, n in session.execute(
            select(Chunk.blob_id, Chunk.stored_size).where(Chunk.account_id == account_id)
        )
    ]
