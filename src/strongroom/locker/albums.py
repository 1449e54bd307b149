"""Albums: named, ordered selections of photos and videos; a photo can be in several."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from strongroom.accounts import changes
from strongroom.errors import InvalidInput, NotFound
from strongroom.locker import files
from strongroom.locker.files import MEDIA
from strongroom.locker.models import Album, AlbumItem, File


@dataclass(frozen=True)
class AlbumView:
    id: int
    name: str
    cover_file_id: int | None
    count: int
    created_at: int
    updated_at: int


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 255:
        raise InvalidInput("an album name has 1 to 255 characters")
    return cleaned


def get(session: Session, account_id: int, album_id: int) -> Album:
    album = session.get(Album, album_id)
    if album is None or album.account_id != account_id:
        raise NotFound("no such album")
    return album


def _view(session: Session, a: Album) -> AlbumView:
    count = session.scalar(select(func.count()).where(AlbumItem.album_id == a.id)) or 0
    cover = a.cover_file_id
    if cover is None:
        cover = session.scalar(
            select(AlbumItem.file_id)
            .where(AlbumItem.album_id == a.id)
            .order_by(AlbumItem.position)
            .limit(1)
        )
    return AlbumView(a.id, a.name, cover, int(count), a.created_at, a.updated_at)


def create(session: Session, account_id: int, name: str, now: int) -> AlbumView:
    album = Album(account_id=account_id, name=_name(name), created_at=now, updated_at=now)
    session.add(album)
    session.flush()
    changes.record(session, account_id, "album", [(album.id, changes.CREATED)], now)
    return _view(session, album)


def list_albums(session: Session, account_id: int) -> list[AlbumView]:
    rows = session.scalars(
        select(Album).where(Album.account_id == account_id).order_by(Album.updated_at.desc())
    ).all()
    return [_view(session, a) for a in rows]


def view(session: Session, account_id: int, album_id: int) -> AlbumView:
    return _view(session, get(session, account_id, album_id))


def update(
    session: Session,
    account_id: int,
    album_id: int,
    *,
    name: str | None,
    cover_file_id: int | None,
    now: int,
) -> AlbumView:
    album = get(session, account_id, album_id)
    if name is not None:
        album.name = _name(name)
    if cover_file_id is not None:
        in_album = session.scalar(
            select(AlbumItem.file_id).where(
                AlbumItem.album_id == album.id, AlbumItem.file_id == cover_file_id
            )
        )
        if in_album is None:
            raise InvalidInput("the cover must be one of the album's pictures")
        album.cover_file_id = cover_file_id
    album.updated_at = now
    changes.record(session, account_id, "album", [(album.id, changes.UPDATED)], now)
    return _view(session, album)


def remove(session: Session, account_id: int, album_id: int, now: int) -> None:
    """Delete an album (its photos stay in the locker)."""
    session.delete(get(session, account_id, album_id))
    changes.record(session, account_id, "album", [(album_id, changes.DESTROYED)], now)


def add(session: Session, account_id: int, album_id: int, file_ids: list[int], now: int) -> int:
    """Append photos or videos (of this account) to an album; return how many were added."""
    album = get(session, account_id, album_id)
    wanted = list(dict.fromkeys(file_ids))
    found = {
        f.id: f
        for f in session.scalars(
            select(File).where(
                File.id.in_(wanted), File.account_id == account_id, File.trashed_at.is_(None)
            )
        )
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"no such file: {missing[0]}")
    if any(found[i].category not in MEDIA for i in wanted):
        raise InvalidInput("albums hold photos and videos")
    present = set(session.scalars(select(AlbumItem.file_id).where(AlbumItem.album_id == album.id)))
    position = (
        session.scalar(
            select(func.coalesce(func.max(AlbumItem.position), 0)).where(
                AlbumItem.album_id == album.id
            )
        )
        or 0
    )
    added = 0
    for fid in wanted:
        if fid not in present:
            position += 1
            session.add(AlbumItem(album_id=album.id, file_id=fid, position=position, added_at=now))
            added += 1
    album.updated_at = now
    changes.record(session, account_id, "album", [(album.id, changes.UPDATED)], now)
    return added


def remove_item(session: Session, account_id: int, album_id: int, file_id: int, now: int) -> None:
    album = get(session, account_id, album_id)
    gone = session.execute(
        delete(AlbumItem).where(AlbumItem.album_id == album.id, AlbumItem.file_id == file_id)
    )
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise NotFound("that file is not in the album")
    if album.cover_file_id == file_id:
        album.cover_file_id = None
    album.updated_at = now
    changes.record(session, account_id, "album", [(album.id, changes.UPDATED)], now)


def reorder(
    session: Session, account_id: int, album_id: int, file_ids: list[int], now: int
) -> None:
    """Put the album's items in this order (items not named keep their order, after these)."""
    album = get(session, account_id, album_id)
    items = {
        i.file_id: i
        for i in session.scalars(select(AlbumItem).where(AlbumItem.album_id == album.id))
    }
    order = [f for f in dict.fromkeys(file_ids) if f in items]
    rest = sorted((i for f, i in items.items() if f not in order), key=lambda i: i.position)
    for position, item in enumerate([items[f] for f in order] + rest, start=1):
        item.position = position
    album.updated_at = now


def items(session: Session, account_id: int, album_id: int) -> list[files.FileView]:
    album = get(session, account_id, album_id)
    rows = session.scalars(
        select(File)
        .join(AlbumItem, AlbumItem.file_id == File.id)
        .where(AlbumItem.album_id == album.id, File.trashed_at.is_(None))
        .order_by(AlbumItem.position)
    ).all()
    return files.views(session, list(rows))
