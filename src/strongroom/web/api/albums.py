"""Albums: create, rename, cover, add and remove photos and videos, order."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from strongroom.errors import NotFound
from strongroom.locker import albums
from strongroom.sync.tokens import parse_id
from strongroom.web.api.files import FileOut
from strongroom.web.deps import CurrentUser, RuntimeDep

router = APIRouter(tags=["albums"])


def _id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise NotFound("no such album or file")
    return value


class AlbumOut(BaseModel):
    id: str
    name: str
    cover_file_id: str | None
    count: int
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, a: albums.AlbumView) -> AlbumOut:
        return cls(
            id=str(a.id),
            name=a.name,
            cover_file_id=str(a.cover_file_id) if a.cover_file_id else None,
            count=a.count,
            created_at=a.created_at,
            updated_at=a.updated_at,
        )


class AlbumList(BaseModel):
    albums: list[AlbumOut]


class AlbumIn(BaseModel):
    name: str = Field(max_length=1000)


class AlbumPatch(BaseModel):
    name: str | None = Field(None, max_length=1000)
    cover_file_id: str | None = None


class ItemsIn(BaseModel):
    file_ids: list[str] = Field(max_length=10_000)


class AlbumItems(BaseModel):
    album: AlbumOut
    files: list[FileOut]


@router.get("/albums", summary="Albums, most recently changed first")
def list_albums(user: CurrentUser, rt: RuntimeDep) -> AlbumList:
    with rt.db.read() as s:
        return AlbumList(albums=[AlbumOut.of(a) for a in albums.list_albums(s, user.account_id)])


@router.post("/albums", status_code=201, summary="Create an album")
def create_album(body: AlbumIn, user: CurrentUser, rt: RuntimeDep) -> AlbumOut:
    with rt.db.write() as s:
        return AlbumOut.of(albums.create(s, user.account_id, body.name, rt.clock.now_ms()))


@router.get("/albums/{album_id}", summary="An album and its photos and videos, in order")
def get_album(album_id: str, user: CurrentUser, rt: RuntimeDep) -> AlbumItems:
    with rt.db.read() as s:
        album = albums.view(s, user.account_id, _id(album_id))
        found = albums.items(s, user.account_id, album.id)
    return AlbumItems(album=AlbumOut.of(album), files=[FileOut.of(f) for f in found])


@router.patch("/albums/{album_id}", summary="Rename, or choose the cover")
def patch_album(album_id: str, body: AlbumPatch, user: CurrentUser, rt: RuntimeDep) -> AlbumOut:
    cover = _id(body.cover_file_id) if body.cover_file_id is not None else None
    with rt.db.write() as s:
        return AlbumOut.of(
            albums.update(
                s,
                user.account_id,
                _id(album_id),
                name=body.name,
                cover_file_id=cover,
                now=rt.clock.now_ms(),
            )
        )


@router.delete("/albums/{album_id}", status_code=204, summary="Delete an album (not its photos)")
def delete_album(album_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    with rt.db.write() as s:
        albums.remove(s, user.account_id, _id(album_id), rt.clock.now_ms())
    return Response(status_code=204)


@router.post("/albums/{album_id}/items", summary="Add photos or videos")
def add_items(album_id: str, body: ItemsIn, user: CurrentUser, rt: RuntimeDep) -> AlbumOut:
    with rt.db.write() as s:
        albums.add(
            s, user.account_id, _id(album_id), [_id(i) for i in body.file_ids], rt.clock.now_ms()
        )
        return AlbumOut.of(albums.view(s, user.account_id, _id(album_id)))


@router.put("/albums/{album_id}/items", summary="Set the order of the album's items")
def order_items(album_id: str, body: ItemsIn, user: CurrentUser, rt: RuntimeDep) -> AlbumOut:
    with rt.db.write() as s:
        albums.reorder(
            s, user.account_id, _id(album_id), [_id(i) for i in body.file_ids], rt.clock.now_ms()
        )
        return AlbumOut.of(albums.view(s, user.account_id, _id(album_id)))


@router.delete("/albums/{album_id}/items/{file_id}", status_code=204, summary="Remove an item")
def remove_item(album_id: str, file_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    with rt.db.write() as s:
        albums.remove_item(s, user.account_id, _id(album_id), _id(file_id), rt.clock.now_ms())
    return Response(status_code=204)
