"""Files: storing (a new file or a new version), listing, renaming, moving, copying, trash.

Every change goes through the change sequence (kind ``file``); every kept version counts its
size once against the account's quota, in the file's category.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from strongroom.accounts import changes, usage
from strongroom.content import store as content
from strongroom.errors import Conflict, InvalidInput, NotFound
from strongroom.locker import folders
from strongroom.locker.categories import SNIFF_SIZE, Category, detect
from strongroom.locker.models import File, FileVersion
from strongroom.locker.paths import LockerPath, clean_name, split_path

Sort = Literal["date", "name", "size", "taken"]
MEDIA = (Category.PHOTOS.value, Category.VIDEOS.value)
MAX_PAGE = 500


@dataclass(frozen=True)
class FileView:
    id: int
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
    media: dict[str, Any] = field(default_factory=dict)
    has_thumbnail: bool = False


def view(f: File, folder_path: str) -> FileView:
    return FileView(
        id=f.id,
        name=f.name,
        folder=folder_path,
        size=f.size,
        content_type=f.content_type,
        category=f.category,
        sha256=f.sha256.hex(),
        created_at=f.created_at,
        modified_at=f.modified_at,
        uploaded_at=f.uploaded_at,
        taken_at=f.taken_at,
        trashed_at=f.trashed_at,
        media=dict(f.media or {}),
        has_thumbnail=f.thumb_small_id is not None,
    )


def views(session: Session, rows: list[File]) -> list[FileView]:
    paths = folders.paths_of(session, {f.folder_id for f in rows if f.folder_id is not None})
    return [view(f, paths.get(f.folder_id, "") if f.folder_id else "") for f in rows]


def get(session: Session, account_id: int, file_id: int, *, trashed: bool = False) -> File:
    """A file of the account (live, or also trashed).  Raises NotFound."""
    f = session.get(File, file_id)
    if f is None or f.account_id != account_id or (f.trashed_at is not None and not trashed):
        raise NotFound("no such file")
    return f


def _live_named(session: Session, account_id: int, folder_id: int | None, name: str) -> File | None:
    in_folder = File.folder_id.is_(None) if folder_id is None else File.folder_id == folder_id
    return session.scalar(
        select(File).where(
            File.account_id == account_id, in_folder, File.name == name, File.trashed_at.is_(None)
        )
    )


@dataclass(frozen=True)
class NewBytes:
    """Content already committed (or found by hash) for a file being stored."""

    content_id: int
    size: int
    sha256: bytes
    head: bytes


@dataclass(frozen=True)
class Incoming:
    """Bytes (already committed as content) to put at ``folder/name``."""

    folder: LockerPath
    name: str
    data: NewBytes
    modified_at: int


def store(
    session: Session,
    account_id: int,
    *,
    folder: LockerPath,
    name: str,
    data: NewBytes,
    modified_at: int,
    now: int,
    keep_versions: int,
) -> tuple[FileView, bool]:
    """Put bytes at ``folder/name``: a new file, or a new version of the file already there.

    Returns the file and whether it is new; see :func:`store_many`.
    """
    [result] = store_many(
        session,
        account_id,
        [Incoming(folder, name, data, modified_at)],
        now=now,
        keep_versions=keep_versions,
    )
    return result


def store_many(
    session: Session, account_id: int, items: list[Incoming], *, now: int, keep_versions: int
) -> list[tuple[FileView, bool]]:
    """Put several files at once (one quota check, one change record): each a new file, or a
    new version of the file already at its path.  The same bytes as the current version add
    nothing.  Reserves quota for all first (QuotaExceeded: nothing stored).
    """
    names = [clean_name(it.name) for it in items]
    folder_ids = {
        f: folders.ensure(session, account_id, f, now) for f in {it.folder for it in items}
    }
    existing = _existing(session, account_id, folder_ids, names)
    needed = sum(
        it.data.size
        for it, n in zip(items, names, strict=True)
        if not _same(existing.get((folder_ids[it.folder], n)), it.data)
    )
    usage.reserve(session, account_id, needed)
    results: list[tuple[File, bool]] = []
    stored: list[tuple[File, Incoming]] = []
    grown: dict[str, tuple[int, int]] = {}
    for it, name in zip(items, names, strict=True):
        key = (folder_ids[it.folder], name)
        current = existing.get(key)
        if _same(current, it.data):
            assert current is not None
            results.append((current, False))
            continue
        f = _apply(session, account_id, key, name, it, current, now)
        existing[key] = f
        stored.append((f, it))
        size, count = grown.get(f.category, (0, 0))
        grown[f.category] = (size + it.data.size, count + (current is None))
        results.append((f, current is None))
    session.flush()  # one round trip gives every new file its id
    versions = [
        FileVersion(
            file_id=f.id,
            account_id=account_id,
            content_id=it.data.content_id,
            size=it.data.size,
            sha256=it.data.sha256,
            modified_at=it.modified_at,
            created_at=now,
        )
        for f, it in stored
    ]
    session.add_all(versions)
    for category, (size, count) in grown.items():
        usage.add(session, account_id, category, size, count)
    for f, is_new in results:
        if not is_new:
            _prune_versions(session, f, keep_versions)
    touched = list(
        {f.id: (f.id, changes.CREATED if new else changes.UPDATED) for f, new in results}.values()
    )
    changes.record(session, account_id, "file", touched, now)
    return [
        (v, new)
        for v, (_, new) in zip(views(session, [f for f, _ in results]), results, strict=True)
    ]


def _same(current: File | None, data: NewBytes) -> bool:
    return current is not None and current.sha256 == data.sha256 and current.size == data.size


def _existing(
    session: Session, account_id: int, folder_ids: dict[LockerPath, int | None], names: list[str]
) -> dict[tuple[int | None, str], File]:
    found: dict[tuple[int | None, str], File] = {}
    for folder_id in set(folder_ids.values()):
        in_folder = File.folder_id.is_(None) if folder_id is None else File.folder_id == folder_id
        for f in session.scalars(
            select(File).where(
                File.account_id == account_id,
                in_folder,
                File.name.in_(set(names)),
                File.trashed_at.is_(None),
            )
        ):
            found[(folder_id, f.name)] = f
    return found


def _apply(
    session: Session,
    account_id: int,
    key: tuple[int | None, str],
    name: str,
    it: Incoming,
    current: File | None,
    now: int,
) -> File:
    kind = detect(name, it.data.head[:SNIFF_SIZE])
    thumb = "pending" if kind.category.value in MEDIA else "none"
    if current is None:
        f = File(
            account_id=account_id,
            folder_id=key[0],
            name=name,
            content_id=it.data.content_id,
            size=it.data.size,
            sha256=it.data.sha256,
            content_type=kind.content_type,
            category=kind.category.value,
            created_at=now,
            modified_at=it.modified_at,
            uploaded_at=now,
            media={},
            thumb_state=thumb,
        )
        session.add(f)  # inserted with the others at store_many's flush
        return f
    current.content_id, current.size, current.sha256 = (
        it.data.content_id,
        it.data.size,
        it.data.sha256,
    )
    current.content_type, current.modified_at, current.uploaded_at = (
        kind.content_type,
        it.modified_at,
        now,
    )
    if kind.category.value != current.category:
        _move_usage(session, current, kind.category.value)
    current.thumb_state = thumb
    current.thumb_small_id = current.thumb_large_id = None
    return current


def _move_usage(session: Session, f: File, category: str) -> None:
    kept = session.scalar(select(func.sum(FileVersion.size)).where(FileVersion.file_id == f.id))
    usage.add(session, f.account_id, f.category, -int(kept or 0), -1)
    usage.add(session, f.account_id, category, int(kept or 0), 1)
    f.category = category


def _prune_versions(session: Session, f: File, keep: int) -> None:
    old = session.execute(
        select(FileVersion.id, FileVersion.size)
        .where(FileVersion.file_id == f.id)
        .order_by(FileVersion.id.desc())
        .offset(max(keep, 1))
    ).all()
    if old:
        session.execute(delete(FileVersion).where(FileVersion.id.in_([v[0] for v in old])))
        usage.add(session, f.account_id, f.category, -sum(v[1] for v in old), 0)


def list_files(
    session: Session,
    account_id: int,
    *,
    category: str | None = None,
    folder: str | None = None,
    sort: Sort = "date",
    descending: bool = True,
    after: tuple[Any, int] | None = None,
    limit: int = 100,
    trashed: bool = False,
    alone: bool = False,
    trashed_with: int | None = None,
) -> list[File]:
    """A page of files, ordered by ``sort`` then id; ``after`` is the last row's key.  With
    ``trashed`` and ``alone``, only files deleted on their own (not with a folder); with
    ``trashed_with``, only the files deleted with that trashed folder."""
    query = select(File).where(File.account_id == account_id)
    query = query.where(File.trashed_at.is_not(None) if trashed else File.trashed_at.is_(None))
    if trashed and alone:
        query = query.where(File.trashed_with.is_(None))
    if trashed_with is not None:
        query = query.where(File.trashed_with == trashed_with)
    if category is not None:
        if category not in {c.value for c in Category}:
            raise InvalidInput(f"unknown category {category!r}")
        query = query.where(File.category == category)
    if folder is not None:
        folder_id = folders.require(session, account_id, folder)
        query = query.where(
            File.folder_id.is_(None) if folder_id is None else File.folder_id == folder_id
        )
    column = {
        "date": File.uploaded_at,
        "name": File.name,
        "size": File.size,
        "taken": func.coalesce(File.taken_at, File.modified_at),
    }[sort]
    if after is not None:
        key, last_id = after
        if descending:
            query = query.where((column < key) | ((column == key) & (File.id < last_id)))
        else:
            query = query.where((column > key) | ((column == key) & (File.id > last_id)))
    order = (column.desc(), File.id.desc()) if descending else (column.asc(), File.id.asc())
    return list(session.scalars(query.order_by(*order).limit(min(limit, MAX_PAGE))))


def sort_key(f: File, sort: Sort) -> Any:
    return {
        "date": f.uploaded_at,
        "name": f.name,
        "size": f.size,
        "taken": f.taken_at if f.taken_at is not None else f.modified_at,
    }[sort]


def move(
    session: Session,
    account_id: int,
    file_id: int,
    *,
    name: str | None,
    folder: str | None,
    now: int,
) -> FileView:
    """Rename and/or move a file.  Raises Conflict if the target name is taken."""
    f = get(session, account_id, file_id)
    new_name = clean_name(name) if name is not None else f.name
    folder_id = (
        folders.ensure(session, account_id, split_path(folder), now)
        if folder is not None
        else f.folder_id
    )
    clash = _live_named(session, account_id, folder_id, new_name)
    if clash is not None and clash.id != f.id:
        raise Conflict(f"there is already a file named {new_name!r} there")
    f.name, f.folder_id = new_name, folder_id
    changes.record(session, account_id, "file", [(f.id, changes.UPDATED)], now)
    return view(f, folders.path_of(session, folder_id))


def copy(
    session: Session,
    account_id: int,
    file_id: int,
    *,
    folder: str | None,
    name: str | None,
    now: int,
) -> FileView:
    """A new file with the same bytes (stored once; counted again against the quota)."""
    f = get(session, account_id, file_id)
    target = (
        split_path(folder)
        if folder is not None
        else split_path(folders.path_of(session, f.folder_id))
    )
    new_name = clean_name(name) if name is not None else f.name
    folder_id = folders.ensure(session, account_id, target, now)
    if _live_named(session, account_id, folder_id, new_name) is not None:
        raise Conflict(f"there is already a file named {new_name!r} there")
    usage.reserve(session, account_id, f.size)
    twin = File(
        **{
            c: getattr(f, c)
            for c in (
                "account_id",
                "content_id",
                "size",
                "sha256",
                "content_type",
                "category",
                "modified_at",
                "taken_at",
                "media",
                "thumb_state",
                "thumb_small_id",
                "thumb_large_id",
            )
        }
    )
    twin.folder_id, twin.name, twin.created_at, twin.uploaded_at = folder_id, new_name, now, now
    session.add(twin)
    session.flush()
    session.add(
        FileVersion(
            file_id=twin.id,
            account_id=account_id,
            content_id=f.content_id,
            size=f.size,
            sha256=f.sha256,
            modified_at=f.modified_at,
            created_at=now,
        )
    )
    usage.add(session, account_id, f.category, f.size, 1)
    changes.record(session, account_id, "file", [(twin.id, changes.CREATED)], now)
    return view(twin, folders.path_of(session, folder_id))


def trash(session: Session, account_id: int, file_id: int, now: int) -> None:
    f = get(session, account_id, file_id)
    f.trashed_at, f.trashed_with = now, None
    changes.record(session, account_id, "file", [(f.id, changes.DESTROYED)], now)


def restore(session: Session, account_id: int, file_id: int, now: int) -> FileView:
    """Bring a file back from the trash (into its folder, recreated if need be)."""
    f = get(session, account_id, file_id, trashed=True)
    if f.trashed_at is None:
        return view(f, folders.path_of(session, f.folder_id))
    path = split_path(folders.path_of(session, f.folder_id))
    folder_id = folders.ensure(session, account_id, path, now)
    if _live_named(session, account_id, folder_id, f.name) is not None:
        raise Conflict(f"there is a file named {f.name!r} there again; rename it first")
    f.folder_id, f.trashed_at, f.trashed_with = folder_id, None, None
    changes.record(session, account_id, "file", [(f.id, changes.CREATED)], now)
    return view(f, folders.path_of(session, folder_id))


def purge(session: Session, account_id: int, file_ids: list[int]) -> int:
    """Delete files for good (their versions too); return how many.  The space is freed now,
    the chunks when the reclaim job finds them unused."""
    rows = session.execute(
        select(File.id, File.category).where(File.account_id == account_id, File.id.in_(file_ids))
    ).all()
    for fid, category in rows:
        kept = session.scalar(select(func.sum(FileVersion.size)).where(FileVersion.file_id == fid))
        usage.add(session, account_id, category, -int(kept or 0), -1)
    session.execute(delete(File).where(File.id.in_([r[0] for r in rows])))
    return len(rows)


def empty_trash(session: Session, account_id: int, older_than: int | None = None) -> int:
    query = select(File.id).where(File.account_id == account_id, File.trashed_at.is_not(None))
    if older_than is not None:
        query = query.where(File.trashed_at < older_than)
    return purge(session, account_id, list(session.scalars(query)))


def versions(session: Session, account_id: int, file_id: int) -> list[FileVersion]:
    get(session, account_id, file_id, trashed=True)
    return list(
        session.scalars(
            select(FileVersion)
            .where(FileVersion.file_id == file_id)
            .order_by(FileVersion.id.desc())
        )
    )


SIZES_ASKED = 10_000
"""The most sizes one question of :func:`stored_sizes` may ask about."""


def stored_sizes(session: Session, account_id: int, sizes: list[int]) -> list[int]:
    """Which of ``sizes`` the account stores content of, in order: a file of any other size
    cannot be created by hash, so a device sends it without reading it to hash it first."""
    if len(sizes) > SIZES_ASKED:
        raise InvalidInput(f"ask about at most {SIZES_ASKED} sizes at a time")
    if any(size < 0 for size in sizes):
        raise InvalidInput("a size cannot be negative")
    return sorted(content.stored_sizes(session, account_id, sizes))


def restore_version(
    session: Session,
    account_id: int,
    file_id: int,
    version_id: int,
    now: int,
    *,
    keep_versions: int,
) -> FileView:
    """Make an older version current again (as a new version, so nothing is lost)."""
    f = get(session, account_id, file_id)
    old = session.get(FileVersion, version_id)
    if old is None or old.file_id != f.id:
        raise NotFound("no such version")
    data = NewBytes(old.content_id, old.size, old.sha256, b"")
    folder = split_path(folders.path_of(session, f.folder_id))
    made, _ = store(
        session,
        account_id,
        folder=folder,
        name=f.name,
        data=data,
        modified_at=old.modified_at,
        now=now,
        keep_versions=keep_versions,
    )
    return made
