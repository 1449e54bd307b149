"""Folders: a tree of paths, so a computer's folders back up as they are.

Each folder row holds its full path (``Photos/2024/Trip``); the root is no row at all (files
there have ``folder_id`` None).  Paths reach this module already cleaned by :mod:`locker.paths`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from strongroom.accounts import changes, usage
from strongroom.errors import Conflict, NotFound
from strongroom.locker.models import File, Folder
from strongroom.locker.paths import LockerPath, is_within, join_path, split_path


@dataclass(frozen=True)
class FolderView:
    id: int
    path: str
    name: str
    created_at: int
    trashed_at: int | None


def _view(f: Folder) -> FolderView:
    return FolderView(f.id, f.path, f.path.rsplit("/", 1)[-1], f.created_at, f.trashed_at)


def _under(path: str) -> ColumnElement[bool]:
    """SQL condition: a folder path equal to ``path`` or below it."""
    prefix = path + "/"
    return or_(Folder.path == path, func.substr(Folder.path, 1, len(prefix)) == prefix)


def find(session: Session, account_id: int, parts: LockerPath) -> Folder | None:
    """The live folder at ``parts`` (None for the root or when there is none)."""
    if not parts:
        return None
    return session.scalar(
        select(Folder).where(
            Folder.account_id == account_id,
            Folder.path == join_path(parts),
            Folder.trashed_at.is_(None),
        )
    )


def require(session: Session, account_id: int, path: str) -> int | None:
    """The id of an existing folder (None for the root).  Raises NotFound, BadPath."""
    parts = split_path(path)
    if not parts:
        return None
    folder = find(session, account_id, parts)
    if folder is None:
        raise NotFound(f"no folder {path!r}")
    return folder.id


def ensure(session: Session, account_id: int, parts: LockerPath, now: int) -> int | None:
    """The folder at ``parts``, created with its missing parents (like ``mkdir -p``)."""
    if not parts:
        return None
    usage.lock_account(session, account_id)  # two writers never create one folder twice
    whole = find(session, account_id, parts)
    if whole is not None:  # the usual case: one query, not one per level
        return whole.id
    folder_id: int | None = None
    created = []
    for depth in range(1, len(parts) + 1):
        existing = find(session, account_id, parts[:depth])
        if existing is not None:
            folder_id = existing.id
            continue
        folder = Folder(account_id=account_id, path=join_path(parts[:depth]), created_at=now)
        session.add(folder)
        session.flush()
        folder_id = folder.id
        created.append(folder.id)
    if created:
        changes.record(session, account_id, "folder", [(i, changes.CREATED) for i in created], now)
    return folder_id


def get(session: Session, account_id: int, folder_id: int) -> Folder:
    folder = session.get(Folder, folder_id)
    if folder is None or folder.account_id != account_id:
        raise NotFound("no such folder")
    return folder


def path_of(session: Session, folder_id: int | None) -> str:
    if folder_id is None:
        return ""
    return session.scalar(select(Folder.path).where(Folder.id == folder_id)) or ""


def paths_of(session: Session, folder_ids: set[int]) -> dict[int, str]:
    if not folder_ids:
        return {}
    rows = session.execute(select(Folder.id, Folder.path).where(Folder.id.in_(folder_ids)))
    return {int(i): str(p) for i, p in rows}


def children(session: Session, account_id: int, parts: LockerPath) -> list[FolderView]:
    """The live folders directly inside ``parts``."""
    parent = join_path(parts)
    prefix = parent + "/" if parent else ""
    query = select(Folder).where(Folder.account_id == account_id, Folder.trashed_at.is_(None))
    if prefix:
        query = query.where(func.substr(Folder.path, 1, len(prefix)) == prefix)
    rows = session.scalars(query.order_by(Folder.path)).all()
    return [_view(f) for f in rows if "/" not in f.path[len(prefix) :]]


def move(session: Session, account_id: int, folder_id: int, new_path: str, now: int) -> FolderView:
    """Rename or move a folder (and everything below it).  Raises Conflict, NotFound, BadPath."""
    folder = get(session, account_id, folder_id)
    target = split_path(new_path)
    if not target:
        raise Conflict("a folder cannot become the root")
    if is_within(target, split_path(folder.path)):
        raise Conflict("a folder cannot move into itself")
    if find(session, account_id, target) is not None:
        raise Conflict(f"there is already a folder {join_path(target)!r}")
    if target[:-1]:
        ensure(session, account_id, target[:-1], now)
    old, new = folder.path, join_path(target)
    moved = session.scalars(
        select(Folder).where(
            Folder.account_id == account_id,
            _under(old),
            Folder.trashed_at.is_(None),  # a trashed folder once at this path keeps it
        )
    ).all()
    for f in moved:
        f.path = new + f.path[len(old) :]
    changes.record(session, account_id, "folder", [(f.id, changes.UPDATED) for f in moved], now)
    return _view(folder)


def trash(session: Session, account_id: int, folder_id: int, now: int) -> int:
    """Move a folder, its subfolders and their files to the trash; return the file count."""
    folder = get(session, account_id, folder_id)
    if folder.trashed_at is not None:
        return 0
    below = list(
        session.scalars(
            select(Folder.id).where(
                Folder.account_id == account_id,
                _under(folder.path),
                Folder.trashed_at.is_(None),
            )
        )
    )
    session.execute(update(Folder).where(Folder.id.in_(below)).values(trashed_at=now))
    files = list(
        session.scalars(select(File.id).where(File.folder_id.in_(below), File.trashed_at.is_(None)))
    )
    session.execute(
        update(File).where(File.id.in_(files)).values(trashed_at=now, trashed_with=folder_id)
    )
    changes.record(session, account_id, "folder", [(f, changes.DESTROYED) for f in below], now)
    changes.record(session, account_id, "file", [(f, changes.DESTROYED) for f in files], now)
    return len(files)


def restore(session: Session, account_id: int, folder_id: int, now: int) -> int:
    """Bring a trashed folder back with what was trashed with it; return the file count.

    Where a live folder has the path again (made anew, or by restoring one file of this folder
    on its own), the two are merged: the restored files go into the live folder, and the trashed
    folder's row goes.  Raises Conflict, changing nothing, if a restored file would take the name
    of a live file there."""
    folder = get(session, account_id, folder_id)
    if folder.trashed_at is None:
        return 0
    parent = split_path(folder.path)[:-1]
    if parent:
        ensure(session, account_id, parent, now)
    below = trashed_with(session, folder)
    paths = {
        i: p for i, p in session.execute(select(Folder.id, Folder.path).where(Folder.id.in_(below)))
    }
    live = {
        p: i
        for p, i in session.execute(
            select(Folder.path, Folder.id).where(
                Folder.account_id == account_id,
                Folder.path.in_(list(paths.values())),
                Folder.trashed_at.is_(None),
            )
        )
    }
    into = {fid: live[path] for fid, path in paths.items() if path in live}
    files = list(
        session.execute(
            select(File.id, File.folder_id, File.name).where(File.trashed_with == folder_id)
        )
    )
    _refuse_clashes(
        session, account_id, [(into[f], name, paths[f]) for _, f, name in files if f in into]
    )
    for trashed, target in into.items():
        # Files deleted from it earlier (still in the trash) now belong to the live folder.
        session.execute(update(File).where(File.folder_id == trashed).values(folder_id=target))
    kept = [f for f in below if f not in into]
    session.execute(update(Folder).where(Folder.id.in_(kept)).values(trashed_at=None))
    session.execute(delete(Folder).where(Folder.id.in_(list(into))))
    ids = [i for i, _, _ in files]
    session.execute(update(File).where(File.id.in_(ids)).values(trashed_at=None, trashed_with=None))
    changes.record(session, account_id, "folder", [(f, changes.CREATED) for f in kept], now)
    changes.record(session, account_id, "file", [(f, changes.CREATED) for f in ids], now)
    return len(ids)


def _refuse_clashes(session: Session, account_id: int, coming: list[tuple[int, str, str]]) -> None:
    """Raises Conflict if any ``(live folder id, file name, path)`` names a live file."""
    if not coming:
        return
    taken = {
        (f, n)
        for f, n in session.execute(
            select(File.folder_id, File.name).where(
                File.account_id == account_id,
                File.folder_id.in_(sorted({f for f, _, _ in coming})),
                File.trashed_at.is_(None),
            )
        )
    }
    for folder_id, name, path in sorted(coming, key=lambda c: (c[2], c[1])):
        if (folder_id, name) in taken:
            raise Conflict(f"there is a file named {name!r} in {path!r} again; rename it first")


def trashed_with(session: Session, folder: Folder) -> list[int]:
    """A trashed folder and the subfolders trashed with it.  Another folder once at the same
    path, deleted in the same millisecond, is not one of them."""
    prefix = folder.path + "/"
    below = session.scalars(
        select(Folder.id).where(
            Folder.account_id == folder.account_id,
            func.substr(Folder.path, 1, len(prefix)) == prefix,
            Folder.trashed_at == folder.trashed_at,
        )
    )
    return [folder.id, *below]
