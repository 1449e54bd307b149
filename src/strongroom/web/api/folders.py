"""Folders of the locker: list, create, rename or move, trash, restore; and the trash."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from strongroom.errors import NotFound
from strongroom.locker import folders
from strongroom.locker.paths import split_path
from strongroom.sync.tokens import parse_id
from strongroom.web.deps import CurrentUser, RuntimeDep

router = APIRouter(tags=["files"])


class FolderOut(BaseModel):
    id: str
    path: str
    name: str
    created_at: int
    trashed_at: int | None

    @classmethod
    def of(cls, f: folders.FolderView) -> FolderOut:
        return cls(
            id=str(f.id), path=f.path, name=f.name, created_at=f.created_at, trashed_at=f.trashed_at
        )


class FolderList(BaseModel):
    folders: list[FolderOut]


class FolderIn(BaseModel):
    path: str = Field(min_length=1, max_length=4096)


def _id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise NotFound("no such folder")
    return value


@router.get("/folders", summary="The folders directly inside a folder (the root by default)")
def list_folders(user: CurrentUser, rt: RuntimeDep, parent: str = "") -> FolderList:
    with rt.db.read() as s:
        found = folders.children(s, user.account_id, split_path(parent))
    return FolderList(folders=[FolderOut.of(f) for f in found])


@router.post("/folders", status_code=201, summary="Create a folder (and its parents)")
def create_folder(body: FolderIn, user: CurrentUser, rt: RuntimeDep) -> FolderOut:
    with rt.db.write() as s:
        parts = split_path(body.path)
        folder_id = folders.ensure(s, user.account_id, parts, rt.clock.now_ms())
        assert folder_id is not None
        f = folders.get(s, user.account_id, folder_id)
        return FolderOut(
            id=str(f.id), path=f.path, name=parts[-1], created_at=f.created_at, trashed_at=None
        )


@router.patch("/folders/{folder_id}", summary="Rename or move a folder")
def move_folder(folder_id: str, body: FolderIn, user: CurrentUser, rt: RuntimeDep) -> FolderOut:
    with rt.db.write() as s:
        return FolderOut.of(
            folders.move(s, user.account_id, _id(folder_id), body.path, rt.clock.now_ms())
        )


@router.delete("/folders/{folder_id}", status_code=204, summary="Move a folder to the trash")
def trash_folder(folder_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    with rt.db.write() as s:
        folders.trash(s, user.account_id, _id(folder_id), rt.clock.now_ms())
    return Response(status_code=204)


class Restored(BaseModel):
    files: int


@router.post("/folders/{folder_id}/restore", summary="Bring a folder back from the trash")
def restore_folder(folder_id: str, user: CurrentUser, rt: RuntimeDep) -> Restored:
    with rt.db.write() as s:
        return Restored(
            files=folders.restore(s, user.account_id, _id(folder_id), rt.clock.now_ms())
        )
