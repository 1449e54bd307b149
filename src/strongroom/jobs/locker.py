"""Locker jobs: thumbnails and media facts, trash expiry, expired uploads."""

from __future__ import annotations

import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from strongroom.accounts.keys import vault_for
from strongroom.clock import DAY_MS
from strongroom.content import store as content
from strongroom.errors import StrongroomError
from strongroom.jobs.runner import JobContext
from strongroom.locker import files, uploads
from strongroom.locker.models import File, Folder
from strongroom.locker.photos import PhotoInfo, Thumbnail, read_photo
from strongroom.locker.video import NoPoster, make_poster, probe_video
from strongroom.runtime import Runtime

BATCH = 10


def make_thumbnails(ctx: JobContext) -> dict[str, Any]:
    """Thumbnails, date taken, camera and place of every photo and video still waiting."""
    rt = ctx.runtime
    done = failed = 0
    while True:
        with rt.db.read() as s:
            waiting = s.execute(
                select(File.id, File.account_id, File.content_id, File.category, File.name)
                .where(File.thumb_state == "pending")
                .limit(BATCH)
            ).all()
        if not waiting:
            return {"done": done, "failed": failed}
        for file_id, account_id, content_id, category, name in waiting:
            try:
                _one(rt, file_id, account_id, content_id, category, name)
                done += 1
            except StrongroomError as e:
                failed += 1
                _mark(
                    rt,
                    file_id,
                    content_id,
                    {"thumb_state": "failed", "media": {"error": e.detail[:500]}},
                )
            ctx.progress(done=done, failed=failed)


def _mark(rt: Runtime, file_id: int, content_id: int, values: dict[str, Any]) -> None:
    with rt.db.write() as s:  # only if the file was not replaced meanwhile
        s.execute(
            update(File).where(File.id == file_id, File.content_id == content_id).values(**values)
        )


def _one(
    rt: Runtime, file_id: int, account_id: int, content_id: int, category: str, name: str
) -> None:
    with rt.db.read() as s:
        vault = vault_for(s, rt.store, rt.keyring, account_id)
        chunks = content.chunk_list(s, content_id)
    with tempfile.TemporaryDirectory(prefix="strongroom-media-") as scratch:
        path = Path(scratch) / "original"
        with path.open("wb") as f:
            for piece in content.read_range(vault, chunks):
                f.write(piece)
        if category == "photos":
            photo = read_photo(path, name=name)
            thumbs, media, taken = photo.thumbnails, _photo_media(photo.info), _taken(photo.info)
        else:
            info = probe_video(path)
            poster = make_poster(path)
            thumbs = [] if isinstance(poster, NoPoster) else poster.thumbnails
            media = (
                {"duration": info.duration, "width": info.width, "height": info.height}
                if info
                else {}
            )
            taken = None
    ids = [_store_thumb(rt, vault, account_id, t) for t in thumbs]
    values: dict[str, Any] = {"thumb_state": "done", "media": media, "taken_at": taken}
    if ids:
        values.update(thumb_small_id=ids[0], thumb_large_id=ids[-1])
    _mark(rt, file_id, content_id, values)


def _store_thumb(rt: Runtime, vault: Any, account_id: int, thumb: Thumbnail) -> int:
    staged = content.stage(rt.db, vault, account_id, rt.clock, [thumb.data])
    with rt.db.write() as s:
        return content.commit(s, account_id, staged, rt.clock.now_ms())


def _photo_media(info: PhotoInfo) -> dict[str, Any]:
    media: dict[str, Any] = {"width": info.width, "height": info.height}
    if info.camera_make or info.camera_model:
        media["camera"] = " ".join(x for x in (info.camera_make, info.camera_model) if x)
    if info.latitude is not None and info.longitude is not None:
        media["gps"] = [info.latitude, info.longitude]
    if info.taken_at is not None:
        media["taken"] = info.taken_at.isoformat()
    return media


def _taken(info: PhotoInfo) -> int | None:
    """Date taken as UTC ms; a camera's zone-less wall clock is taken as if it were UTC."""
    if info.taken_at is None:
        return None
    moment = info.taken_at if info.taken_at.tzinfo else info.taken_at.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def expire_trash(ctx: JobContext) -> dict[str, Any]:
    rt = ctx.runtime
    cutoff = rt.clock.now_ms() - rt.settings.trash_days * DAY_MS
    with rt.db.read() as s:
        accounts = set(s.scalars(select(File.account_id).where(File.trashed_at < cutoff)))
    purged = 0
    for account_id in accounts:
        with rt.db.write() as s:
            purged += files.empty_trash(s, account_id, older_than=cutoff)
    with rt.db.write() as s:
        s.execute(delete(Folder).where(Folder.trashed_at < cutoff))
    return {"purged": purged}


def expire_uploads(ctx: JobContext) -> dict[str, Any]:
    with ctx.runtime.db.write() as s:
        return {"expired": uploads.expire(s, ctx.runtime.clock.now_ms())}
