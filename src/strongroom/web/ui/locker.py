"""The locker pages: Photos (a timeline by date taken), Videos, Music, Documents, All files (a
folder browser), Albums, Trash, and each file's own page (preview, details, versions).

Pages are rendered whole on the server.  ``static/locker.js`` asks the same routes for fragments
(``?partial=1``: the next page of tiles, or a file's details for the viewer), asks ``/locker/tiles``
for tiles whose thumbnails were made meanwhile, and makes every change through the JSON API
(uploads through tus).  ``POST /locker/zip`` is the one form: a download the browser streams to
disk, which a script's ``fetch`` could only buffer in memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from strongroom.accounts import usage
from strongroom.accounts.auth import Principal
from strongroom.errors import InvalidInput, NotFound
from strongroom.locker import albums, folders, trash
from strongroom.locker import files as files_mod
from strongroom.locker.downloads import file_entries
from strongroom.locker.files import FileView, Sort
from strongroom.locker.models import File
from strongroom.locker.paths import LockerPath, split_path
from strongroom.sync.tokens import parse_id
from strongroom.web.deps import RuntimeDep
from strongroom.web.pages import render
from strongroom.web.ui.access import check_form, require_user
from strongroom.web.ui.dashboard import usage_segments
from strongroom.zipstream import stream_zip

router = APIRouter(include_in_schema=False)

PAGE = 60
"""Files per page of a listing (the next page loads as the reader scrolls)."""


@dataclass(frozen=True)
class Tab:
    """A category tab: what it lists, in which order, and how it is laid out."""

    key: str
    title: str
    category: str
    sort: Sort
    layout: str
    """``grid`` (pictures) or ``rows`` (a list with names)."""
    empty: str


TABS = {
    "photos": Tab(
        "photos",
        "Photos",
        "photos",
        "taken",
        "grid",
        "Photos you upload appear here by date taken.",
    ),
    "videos": Tab(
        "videos", "Videos", "videos", "date", "grid", "Videos you upload appear here, newest first."
    ),
    "music": Tab("music", "Music", "music", "date", "rows", "Songs you upload can be played here."),
    "documents": Tab(
        "documents",
        "Documents",
        "documents",
        "date",
        "rows",
        "PDFs, Word, Excel, PowerPoint and OpenDocument files appear here.",
    ),
}


@dataclass(frozen=True)
class Tile:
    """One file in a listing, with what its picture and its group heading need."""

    file: FileView
    pending: bool
    """A thumbnail is still being made: show a placeholder and ask again later."""
    month: str
    """``2024-05``: the photo timeline's group (taken, else modified, as the camera's clock)."""
    month_label: str
    trashed_with: int | None = None


def tile(f: FileView, thumb_state: str, trashed_with: int | None = None) -> Tile:
    when = datetime.fromtimestamp((f.taken_at or f.modified_at) / 1000, UTC)
    return Tile(f, thumb_state == "pending", f"{when:%Y-%m}", f"{when:%B %Y}", trashed_with)


def tiles_of(s: Session, rows: list[File]) -> list[Tile]:
    return [
        tile(v, r.thumb_state, r.trashed_with)
        for v, r in zip(files_mod.views(s, rows), rows, strict=True)
    ]


def _after(cursor: str | None) -> tuple[Any, int] | None:
    if not cursor:
        return None
    try:
        key, last = json.loads(cursor)
        if isinstance(last, int) and isinstance(key, int | str):
            return key, last
    except (ValueError, TypeError):
        pass
    raise InvalidInput("this page link is broken; go back to the first page")


def _page(
    s: Session, account_id: int, cursor: str | None, **query: Any
) -> tuple[list[Tile], str | None]:
    """A page of tiles and the cursor of the next one (None on the last page)."""
    rows = files_mod.list_files(s, account_id, after=_after(cursor), limit=PAGE, **query)
    sort = query.get("sort", "date")
    more = (
        json.dumps([files_mod.sort_key(rows[-1], sort), rows[-1].id]) if len(rows) == PAGE else None
    )
    return tiles_of(s, rows), more


def _header(s: Session, principal: Principal, active: str) -> dict[str, Any]:
    used = usage.usage(s, principal.account_id)
    return {"usage": used, "segments": usage_segments(used), "active": active}


def folder_href(parts: LockerPath | list[str]) -> str:
    return "/locker/files" + "".join("/" + quote(p, safe="") for p in parts)


def crumbs(path: str) -> list[tuple[str, str]]:
    """Breadcrumbs of a folder path: (name, link) from the root down."""
    parts = list(split_path(path))
    return [("All files", "/locker/files")] + [
        (p, folder_href(parts[: i + 1])) for i, p in enumerate(parts)
    ]


def _listing(
    request: Request,
    principal: Principal,
    template: str,
    context: dict[str, Any],
) -> Response:
    """The whole page, or (``?partial=1``) only its tiles for the script to append."""
    if request.query_params.get("partial"):
        context["fragment"] = True
        return render(request, "locker/_tiles.html", context, principal=principal)
    return render(request, template, context, principal=principal)


def _next_url(request: Request, cursor: str | None) -> str | None:
    return f"{request.url.path}?cursor={quote(cursor, safe='')}" if cursor else None


@router.get("/locker")
def locker_home() -> Response:
    return RedirectResponse("/locker/photos", status_code=303)


@router.get("/locker/files")
@router.get("/locker/files/{path:path}")
def files_page(
    request: Request, rt: RuntimeDep, path: str = "", cursor: str | None = None
) -> Response:
    """A folder: breadcrumbs, its subfolders (first page only), then its files by name."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        context = _header(s, principal, "files")
        try:
            parts = split_path(path)
            tiles, more = _page(
                s, principal.account_id, cursor, folder=path, sort="name", descending=False
            )
        except NotFound:
            return _not_found(request, principal, context, "This folder is not here")
        subfolders = [] if cursor else folders.children(s, principal.account_id, parts)
    context.update(
        {
            "title": parts[-1] if parts else "All files",
            "layout": "rows",
            "view": "files",
            "folder": "/".join(parts),
            "crumbs": crumbs(path),
            "subfolders": [(f, folder_href([*parts, f.name])) for f in subfolders],
            "tiles": tiles,
            "next_url": _next_url(request, more),
            "older_page": cursor is not None,
        }
    )
    return _listing(request, principal, "locker/files.html", context)


@router.get("/locker/trash")
def trash_page(request: Request, rt: RuntimeDep, cursor: str | None = None) -> Response:
    """Deleted folders (one row each, on the first page), then files deleted on their own."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        context = _header(s, principal, "trash")
        tiles, more = _page(s, principal.account_id, cursor, trashed=True, alone=True)
        gone = [] if cursor else trash.trashed_folders(s, principal.account_id)
    context.update(
        {
            "title": "Trash",
            "layout": "rows",
            "view": "trash",
            "trashed_folders": gone,
            "tiles": tiles,
            "next_url": _next_url(request, more),
            "older_page": cursor is not None,
            "trash_days": rt.settings.trash_days,
        }
    )
    return _listing(request, principal, "locker/trash.html", context)


@router.get("/locker/trash/folders/{folder_id}")
def trashed_folder_page(
    folder_id: str, request: Request, rt: RuntimeDep, cursor: str | None = None
) -> Response:
    """A deleted folder opened: what was deleted with it, by name, to restore it or not."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        context = _header(s, principal, "trash")
        try:
            root = trash.trashed_folder(s, principal.account_id, parse_id(folder_id) or -1)
        except NotFound:
            return _not_found(request, principal, context, "This folder is not in the trash")
        tiles, more = _page(
            s,
            principal.account_id,
            cursor,
            trashed=True,
            trashed_with=root.id,
            sort="name",
            descending=False,
        )
    context.update(
        {
            "title": root.name,
            "layout": "rows",
            "view": "trash-folder",
            "trashed_folders": [] if cursor else [root],
            "root": root,
            "tiles": tiles,
            "next_url": _next_url(request, more),
            "older_page": cursor is not None,
            "trash_days": rt.settings.trash_days,
        }
    )
    return _listing(request, principal, "locker/trash_folder.html", context)


def _thumb_states(s: Session, ids: list[int]) -> dict[int, str]:
    rows = s.execute(select(File.id, File.thumb_state).where(File.id.in_(ids)))
    return {int(i): str(state) for i, state in rows}


@router.get("/locker/albums")
def albums_page(request: Request, rt: RuntimeDep) -> Response:
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        context = _header(s, principal, "albums")
        found = albums.list_albums(s, principal.account_id)
        covers = [a.cover_file_id for a in found if a.cover_file_id is not None]
        with_thumbs = {
            i
            for i, t in s.execute(select(File.id, File.thumb_small_id).where(File.id.in_(covers)))
            if t is not None
        }
    context.update({"title": "Albums", "albums": found, "with_thumbs": with_thumbs})
    return render(request, "locker/albums.html", context, principal=principal)


@router.get("/locker/albums/{album_id}")
def album_page(album_id: str, request: Request, rt: RuntimeDep) -> Response:
    """An album as a gallery: its photos and videos in the album's order."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        context = _header(s, principal, "albums")
        try:
            album = albums.view(s, principal.account_id, parse_id(album_id) or -1)
        except NotFound:
            return _not_found(request, principal, context, "This album is not here")
        items = albums.items(s, principal.account_id, album.id)
        states = _thumb_states(s, [f.id for f in items])
    context.update(
        {
            "title": album.name,
            "album": album,
            "layout": "grid",
            "view": "album",
            "tiles": [tile(f, states.get(f.id, "none")) for f in items],
            "next_url": None,
        }
    )
    return render(request, "locker/album.html", context, principal=principal)


@router.get("/locker/tiles")
def tiles_fragment(
    request: Request, rt: RuntimeDep, ids: str = "", layout: str = "grid", view: str = ""
) -> Response:
    """Tiles of the given files again (the script asks while thumbnails are being made); an
    album's tiles (``view=album``) come with their ordering buttons."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    wanted = [i for i in (parse_id(x) for x in ids.split(",")[:PAGE]) if i is not None]
    with rt.db.read() as s:
        rows = [
            r
            for r in s.scalars(select(File).where(File.id.in_(wanted)))
            if r.account_id == principal.account_id and r.trashed_at is None
        ]
        context: dict[str, Any] = {
            "tiles": tiles_of(s, rows),
            "layout": "rows" if layout == "rows" else "grid",
            "view": "album" if view == "album" else None,
        }
    context.update({"fragment": True, "no_headings": True, "next_url": None})
    return render(request, "locker/_tiles.html", context, principal=principal)


@router.get("/locker/f/{file_id}")
def file_page(file_id: str, request: Request, rt: RuntimeDep) -> Response:
    """A file: its preview, details and versions (``?partial=1``: for the viewer)."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        context = _header(s, principal, "files")
        try:
            row = files_mod.get(s, principal.account_id, parse_id(file_id) or -1, trashed=True)
        except NotFound:
            return _not_found(request, principal, context, "This file is not here")
        [shown] = tiles_of(s, [row])
        versions = files_mod.versions(s, principal.account_id, row.id)
    f = shown.file
    context.update(
        {
            "title": f.name,
            "t": shown,
            "f": f,
            "versions": versions,
            "crumbs": crumbs(f.folder),
            "active": f.category if f.category in TABS else "files",
        }
    )
    if request.query_params.get("partial"):
        return render(request, "locker/_panel.html", context, principal=principal)
    return render(request, "locker/file.html", context, principal=principal)


@router.post("/locker/zip")
async def zip_download(request: Request, rt: RuntimeDep) -> Response:
    """Chosen files (``id`` fields) and whole folders (``folder`` fields), as one zip streamed
    to disk."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    form = await request.form()
    check_form(request, principal, form)
    ids = [parse_id(str(x)) for x in form.getlist("id")]
    entries, name = await run_in_threadpool(
        file_entries,
        rt,
        principal.account_id,
        ids=[i if i is not None else -1 for i in ids],
        folders=[str(f) for f in form.getlist("folder")],
    )
    return StreamingResponse(
        stream_zip(entries),
        media_type="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}.zip",
            "Cache-Control": "no-store",
        },
    )


@router.get("/locker/{tab}")
def category_page(
    tab: str, request: Request, rt: RuntimeDep, cursor: str | None = None
) -> Response:
    """Photos (a timeline by date taken), Videos, Music or Documents."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    shown = TABS.get(tab)
    if shown is None:
        raise NotFound(f"there is no locker page called {tab!r}")
    with rt.db.read() as s:
        context = _header(s, principal, shown.key)
        tiles, more = _page(
            s, principal.account_id, cursor, category=shown.category, sort=shown.sort
        )
    context.update(
        {
            "title": shown.title,
            "tab": shown,
            "layout": shown.layout,
            "view": shown.key,
            "tiles": tiles,
            "next_url": _next_url(request, more),
            "older_page": cursor is not None,
        }
    )
    return _listing(request, principal, "locker/category.html", context)


def _not_found(
    request: Request, principal: Principal, context: dict[str, Any], title: str
) -> Response:
    context.update({"title": title})
    return render(request, "locker/not_found.html", context, principal=principal, status=404)
