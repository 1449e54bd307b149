"""The locker's trash: deleted folders as one entry each, deleting forever, emptying."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from strongroom.errors import NotFound
from strongroom.locker import files as files_mod
from strongroom.locker import trash
from strongroom.sync.tokens import parse_id
from strongroom.web.api.files import FileList, FileOut
from strongroom.web.api.files import cursor_of as file_cursor
from strongroom.web.deps import CurrentUser, RuntimeDep

router = APIRouter(tags=["files"])


class TrashedFolderOut(BaseModel):
    id: str
    path: str
    name: str
    trashed_at: int
    files: int
    """Files deleted with the folder (its subfolders' included)."""
    size: int


class TrashedFolderList(BaseModel):
    folders: list[TrashedFolderOut]


class TrashOut(BaseModel):
    emptied: int


def _id(text: str, what: str) -> int:
    value = parse_id(text)
    if value is None:
        raise NotFound(f"no such {what}")
    return value


@router.get("/trash/folders", summary="Folders in the trash, each with what was deleted with it")
def list_trashed_folders(user: CurrentUser, rt: RuntimeDep) -> TrashedFolderList:
    with rt.db.read() as s:
        found = trash.trashed_folders(s, user.account_id)
    return TrashedFolderList(
        folders=[
            TrashedFolderOut(
                id=str(f.id),
                path=f.path,
                name=f.name,
                trashed_at=f.trashed_at,
                files=f.files,
                size=f.size,
            )
            for f in found
        ]
    )


@router.get(
    "/trash/folders/{folder_id}/files",
    summary="The files deleted with a trashed folder (its subfolders' included), paged by cursor",
)
def list_trashed_folder_files(
    folder_id: str,
    user: CurrentUser,
    rt: RuntimeDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FileList:
    with rt.db.read() as s:
        root = trash.trashed_folder(s, user.account_id, _id(folder_id, "folder"))
        rows = files_mod.list_files(
            s,
            user.account_id,
            sort="name",
            descending=False,
            after=file_cursor(cursor),
            limit=limit,
            trashed=True,
            trashed_with=root.id,
        )
        views = files_mod.views(s, rows)
    last = rows[-1] if len(rows) == limit else None
    more = json.dumps([files_mod.sort_key(last, "name"), last.id]) if last else None
    return FileList(files=[FileOut.of(v) for v in views], cursor=more)


@router.delete("/trash/folders/{folder_id}", summary="Delete a trashed folder forever")
def purge_folder(folder_id: str, user: CurrentUser, rt: RuntimeDep) -> TrashOut:
    with rt.db.write() as s:
        return TrashOut(emptied=trash.purge_folder(s, user.account_id, _id(folder_id, "folder")))


@router.delete("/trash/files/{file_id}", status_code=204, summary="Delete a trashed file forever")
def purge_file(file_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    with rt.db.write() as s:
        trash.purge_file(s, user.account_id, _id(file_id, "file"))
    return Response(status_code=204)


@router.delete("/trash", summary="Empty the trash (deleted for good)")
def empty_trash(user: CurrentUser, rt: RuntimeDep) -> TrashOut:
    with rt.db.write() as s:
        return TrashOut(emptied=trash.empty(s, user.account_id))
