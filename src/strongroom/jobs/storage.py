"""Storage housekeeping: reclaiming unused content and chunks; what ``verify`` must find."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import QueryableAttribute

from strongroom.content import reclaim
from strongroom.jobs.runner import JobContext
from strongroom.locker.models import File, FileVersion, Upload, UploadChunk
from strongroom.messages.models import MessagePart
from strongroom.runtime import Runtime

REFERENCING: list[QueryableAttribute[Any]] = [
    MessagePart.content_id,
    File.content_id,
    FileVersion.content_id,
    File.thumb_small_id,
    File.thumb_large_id,
    Upload.content_id,
]
"""Every column that points at a stored content; a content none of them uses can go."""

CHUNKS_IN_UPLOADS: list[reclaim.ChunkRef] = [
    (UploadChunk.account_id, UploadChunk.blob_id),
    (Upload.account_id, Upload.tail_blob),
]


def reclaim_storage(ctx: JobContext) -> dict[str, Any]:
    return reclaim_all(ctx.runtime)


def reclaim_all(rt: Runtime) -> dict[str, Any]:
    """Unused contents, then chunks and packs, then rewrite mostly unused packs; the counts."""
    cutoff = rt.clock.now_ms() - rt.settings.reclaim_grace_hours * 3_600_000
    contents = 0
    while True:
        with rt.db.write() as s:
            done = reclaim.reclaim_contents(s, REFERENCING, cutoff)
        contents += done
        if not done:
            break
    result = reclaim.reclaim_chunks(rt.db, rt.store, cutoff, also_used=CHUNKS_IN_UPLOADS)
    repacked = reclaim.repack(rt.db, rt.store, cutoff, rt.clock.now_ms())
    return {
        "contents": contents,
        "chunks": result.chunks,
        "bytes": result.bytes,
        "repacked_bytes": repacked,
    }
