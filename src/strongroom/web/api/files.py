"""The locker's files: listing by category or folder, download (Range), changes, by-hash,
rename/move/copy, trash, versions, thumbnails, zip downloads and usage (the trash itself is
``trash.py``)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from strongroom.accounts import usage as usage_mod
from strongroom.errors import InvalidInput, NotFound
from strongroom.locker import files as files_mod
from strongroom.locker.batches import (
    MAX_FILES,
    KnownFile,
    SmallFile,
    store_known_file,
    store_known_files,
    store_small_files,
)
from strongroom.locker.downloads import FileStream, file_entries, open_file, open_thumbnail
from strongroom.sync import messages as sync
from strongroom.sync import protocol as p
from strongroom.sync.tokens import parse_id
from strongroom.web.deps import CurrentUser, RuntimeDep
from strongroom.web.downloads import send_content
from strongroom.zipstream import stream_zip

router = APIRouter(tags=["files"])


class FileOut(BaseModel):
    id: str
    name: str
    folder: str
    size: int
    content_type: str
    category: str
    sha256: str
    created_at: int
    modified_at: int
    uploaded_at: int
    taken_at: int | None
    trashed_at: int | None
    media: dict[str, Any]
    thumbnail: bool

    @classmethod
    def of(cls, f: files_mod.FileView) -> FileOut:
        return cls(
            id=str(f.id),
            name=f.name,
            folder=f.folder,
            size=f.size,
            content_type=f.content_type,
            category=f.category,
            sha256=f.sha256,
            created_at=f.created_at,
            modified_at=f.modified_at,
            uploaded_at=f.uploaded_at,
            taken_at=f.taken_at,
            trashed_at=f.trashed_at,
            media=f.media,
            thumbnail=f.has_thumbnail,
        )


class FileList(BaseModel):
    files: list[FileOut]
    cursor: str | None


def _file_id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise NotFound("no such file")
    return value


def cursor_of(text: str | None) -> tuple[Any, int] | None:
    """The key a listing's ``cursor`` stands for.  Raises InvalidInput for a forged one."""
    if not text:
        return None
    try:
        key, last = json.loads(text)
        if isinstance(last, int) and isinstance(key, int | str):
            return key, last
    except (ValueError, TypeError):
        pass
    raise InvalidInput("not a cursor from this listing")


@router.get("/files", summary="Files by category or folder, sorted, paged by cursor")
def list_files(
    user: CurrentUser,
    rt: RuntimeDep,
    category: Literal["photos", "videos", "music", "documents", "other"] | None = None,
    folder: str | None = None,
    sort: Literal["date", "name", "size", "taken"] = "date",
    order: Literal["asc", "desc"] = "desc",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    trashed: bool = False,
) -> FileList:
    with rt.db.read() as s:
        rows = files_mod.list_files(
            s,
            user.account_id,
            category=category,
            folder=folder,
            sort=sort,
            descending=order == "desc",
            after=cursor_of(cursor),
            limit=limit,
            trashed=trashed,
        )
        views = files_mod.views(s, rows)
    next_cursor = None
    if len(rows) == limit:
        next_cursor = json.dumps([files_mod.sort_key(rows[-1], sort), rows[-1].id])
    return FileList(files=[FileOut.of(v) for v in views], cursor=next_cursor)


@router.get("/files/changes", summary="What changed in the locker since a state")
def file_changes(
    user: CurrentUser,
    rt: RuntimeDep,
    since: str | None = None,
    max: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> p.ChangesOut:
    return sync.changes_since(rt, user.account_id, since, max, kind="file")


class ByHashIn(BaseModel):
    sha256: str = Field(pattern="^[0-9a-fA-F]{64}$")
    size: int = Field(ge=0)
    filename: str = Field(max_length=1000)
    folder: str = Field("", max_length=4096)
    mtime: float | None = None

    def known(self) -> KnownFile:
        mtime_ms = int(self.mtime * 1000) if self.mtime is not None else None
        return KnownFile(
            self.folder, self.filename, mtime_ms, bytes.fromhex(self.sha256), self.size
        )


@router.post(
    "/files/by-hash",
    status_code=201,
    summary="Create a file from content already stored (no bytes sent); 404 if not stored",
)
def by_hash(body: ByHashIn, user: CurrentUser, rt: RuntimeDep, request: Request) -> FileOut:
    made = store_known_file(rt, user.account_id, body.known())
    request.app.state.events.poke()
    return FileOut.of(made)


class ByHashBatchIn(BaseModel):
    files: list[ByHashIn] = Field(min_length=1, max_length=MAX_FILES)


class ByHashBatchOut(BaseModel):
    files: list[FileOut | None]
    """In the order asked: the file made, or null where the account stores no such bytes
    (send those, e.g. through ``/files/batch``)."""


@router.post(
    "/files/by-hash/batch",
    summary="Create many files from content already stored; null for each that is not stored",
)
def by_hash_batch(
    body: ByHashBatchIn, user: CurrentUser, rt: RuntimeDep, request: Request
) -> ByHashBatchOut:
    made = store_known_files(rt, user.account_id, [f.known() for f in body.files])
    if any(made):
        request.app.state.events.poke()
    return ByHashBatchOut(files=[FileOut.of(f) if f is not None else None for f in made])


class SizesIn(BaseModel):
    sizes: list[int] = Field(max_length=files_mod.SIZES_ASKED)


class SizesOut(BaseModel):
    sizes: list[int]
    """The asked sizes the account stores content of, ascending."""


@router.post(
    "/files/sizes",
    summary="Which of these sizes the account stores content of (hash only those files)",
)
def stored_sizes(body: SizesIn, user: CurrentUser, rt: RuntimeDep) -> SizesOut:
    with rt.db.read() as s:
        return SizesOut(sizes=files_mod.stored_sizes(s, user.account_id, body.sizes))


class BatchOut(BaseModel):
    files: list[FileOut]


@router.post(
    "/files/batch",
    status_code=201,
    summary="Store many small files in one request (multipart: JSON `manifest`, `file` parts)",
)
async def batch(request: Request, user: CurrentUser, rt: RuntimeDep) -> BatchOut:
    from fastapi.concurrency import run_in_threadpool

    form = await request.form(max_files=MAX_FILES, max_fields=4)
    try:
        manifest = json.loads(str(form.get("manifest", "")))
        parts = [p for p in form.getlist("file") if not isinstance(p, str)]
        if not isinstance(manifest, list) or len(manifest) != len(parts):
            raise ValueError
        items = [
            SmallFile(
                str(m.get("folder", "")),
                str(m["name"]),
                int(m["mtime"] * 1000) if m.get("mtime") is not None else None,
                await part.read(),
            )
            for m, part in zip(manifest, parts, strict=True)
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInput(
            "send multipart with `manifest` (a JSON list of {name, folder, mtime}, one per file)"
            " and one `file` part per entry, in the same order"
        ) from None
    finally:
        await form.close()
    stored = await run_in_threadpool(store_small_files, rt, user.account_id, items)
    request.app.state.events.poke()
    return BatchOut(files=[FileOut.of(f) for f in stored])


@router.get("/files/{file_id}", summary="One file")
def get_file(file_id: str, user: CurrentUser, rt: RuntimeDep) -> FileOut:
    with rt.db.read() as s:
        f = files_mod.get(s, user.account_id, _file_id(file_id), trashed=True)
        return FileOut.of(files_mod.views(s, [f])[0])


def _send(request: Request, stream: FileStream) -> Response:
    return send_content(
        request,
        stream.vault,
        stream.chunks,
        size=stream.size,
        sha256=stream.sha256,
        content_type=stream.content_type,
        filename=stream.filename,
        last_modified=stream.last_modified,
    )


@router.get("/files/{file_id}/content", summary="The bytes (Range supported)")
def file_content(file_id: str, user: CurrentUser, rt: RuntimeDep, request: Request) -> Response:
    return _send(request, open_file(rt, user.account_id, _file_id(file_id)))


@router.get(
    "/files/{file_id}/thumbnail", summary="A WebP thumbnail (small: 256 px, large: 1280 px)"
)
def thumbnail(
    file_id: str,
    user: CurrentUser,
    rt: RuntimeDep,
    request: Request,
    size: Literal["small", "large"] = "small",
) -> Response:
    return _send(request, open_thumbnail(rt, user.account_id, _file_id(file_id), size))


class FilePatch(BaseModel):
    name: str | None = Field(None, max_length=1000)
    folder: str | None = Field(None, max_length=4096)


@router.patch("/files/{file_id}", summary="Rename or move")
def patch_file(file_id: str, body: FilePatch, user: CurrentUser, rt: RuntimeDep) -> FileOut:
    with rt.db.write() as s:
        return FileOut.of(
            files_mod.move(
                s,
                user.account_id,
                _file_id(file_id),
                name=body.name,
                folder=body.folder,
                now=rt.clock.now_ms(),
            )
        )


@router.post(
    "/files/{file_id}/copy", status_code=201, summary="Copy (the bytes are not stored twice)"
)
def copy_file(file_id: str, body: FilePatch, user: CurrentUser, rt: RuntimeDep) -> FileOut:
    with rt.db.write() as s:
        return FileOut.of(
            files_mod.copy(
                s,
                user.account_id,
                _file_id(file_id),
                folder=body.folder,
                name=body.name,
                now=rt.clock.now_ms(),
            )
        )


@router.delete("/files/{file_id}", status_code=204, summary="Move to the trash")
def trash_file(file_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    with rt.db.write() as s:
        files_mod.trash(s, user.account_id, _file_id(file_id), rt.clock.now_ms())
    return Response(status_code=204)


@router.post("/files/{file_id}/restore", summary="Bring back from the trash")
def restore_file(file_id: str, user: CurrentUser, rt: RuntimeDep) -> FileOut:
    with rt.db.write() as s:
        return FileOut.of(
            files_mod.restore(s, user.account_id, _file_id(file_id), rt.clock.now_ms())
        )


class VersionOut(BaseModel):
    id: str
    size: int
    sha256: str
    modified_at: int
    created_at: int


class VersionList(BaseModel):
    versions: list[VersionOut]


@router.get("/files/{file_id}/versions", summary="Kept versions, newest (current) first")
def list_versions(file_id: str, user: CurrentUser, rt: RuntimeDep) -> VersionList:
    with rt.db.read() as s:
        rows = files_mod.versions(s, user.account_id, _file_id(file_id))
    return VersionList(
        versions=[
            VersionOut(
                id=str(v.id),
                size=v.size,
                sha256=v.sha256.hex(),
                modified_at=v.modified_at,
                created_at=v.created_at,
            )
            for v in rows
        ]
    )


@router.post("/files/{file_id}/versions/{version_id}/restore", summary="Make a version current")
def restore_version(file_id: str, version_id: str, user: CurrentUser, rt: RuntimeDep) -> FileOut:
    with rt.db.write() as s:
        return FileOut.of(
            files_mod.restore_version(
                s,
                user.account_id,
                _file_id(file_id),
                _file_id(version_id),
                rt.clock.now_ms(),
                keep_versions=rt.settings.file_versions_kept,
            )
        )


class ZipIn(BaseModel):
    ids: list[str] = Field(default_factory=list, max_length=10_000)
    folder: str | None = Field(None, description="A whole folder, with its subfolders.")
    folders: list[str] = Field(
        default_factory=list, max_length=1000, description="Whole folders, beside the files."
    )


@router.post("/files/zip", summary="Download several files and folders as one zip (streamed)")
def zip_files(body: ZipIn, user: CurrentUser, rt: RuntimeDep) -> StreamingResponse:
    ids = [_file_id(i) for i in body.ids]
    folders = [*([body.folder] if body.folder is not None else []), *body.folders]
    entries, name = file_entries(rt, user.account_id, ids=ids, folders=folders)
    return StreamingResponse(
        stream_zip(entries),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.zip"',
            "Cache-Control": "no-store",
        },
    )


class UsageOut(BaseModel):
    used_bytes: int
    quota_bytes: int
    free_bytes: int
    by_category: dict[str, int]


@router.get("/usage", summary="Storage used, by category, and the quota")
def usage(user: CurrentUser, rt: RuntimeDep) -> UsageOut:
    with rt.db.read() as s:
        u = usage_mod.usage(s, user.account_id)
    return UsageOut(
        used_bytes=u.used_bytes,
        quota_bytes=u.quota_bytes,
        free_bytes=u.free_bytes,
        by_category=u.by_category,
    )
