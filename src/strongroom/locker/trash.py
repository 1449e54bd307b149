"""The trash: deleted folders (each one entry, with what was deleted with it) beside files deleted
one by one, and deleting either forever.

A folder deleted as a whole is a *trashed root*: it and the subfolders deleted with it share one
``trashed_at``, and its files point at it with ``File.trashed_with`` (see :func:`folders.trash`).
A subfolder deleted before its parent keeps its own ``trashed_at`` and so is a root of its own.
Deleting forever frees the space at once; the chunks go when the reclaim job finds them unused.
The change feed already said ``destroyed`` when things went to the trash, so purging adds nothing
to it (as :func:`files.empty_trash` never did).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from strongroom.errors import NotFound
from strongroom.locker import files, folders
from strongroom.locker.models import File, Folder


@dataclass(frozen=True)
class TrashedFolder:
    """A folder deleted as a whole, with the files deleted with it (its subfolders' included)."""

    id: int
    path: str
    name: str
    parent: str
    trashed_at: int
    files: int
    size: int


def trashed_folders(session: Session, account_id: int) -> list[TrashedFolder]:
    """The account's trashed roots, most recently deleted first."""
    rows = [
        (f.id, f.path, f.trashed_at or 0)
        for f in session.scalars(
            select(Folder).where(Folder.account_id == account_id, Folder.trashed_at.is_not(None))
        )
    ]
    # A root is a folder no ancestor of which was deleted in the same stroke.
    deleted_together = {(path, at) for _, path, at in rows}
    roots = [
        (i, path, at)
        for i, path, at in rows
        if not any((path[:cut], at) in deleted_together for cut, c in enumerate(path) if c == "/")
    ]
    counts = _counts(session, account_id, [i for i, _, _ in roots])
    roots.sort(key=lambda r: (-r[2], r[1]))
    return [
        TrashedFolder(
            id=i,
            path=path,
            name=path.rsplit("/", 1)[-1],
            parent=path.rpartition("/")[0],
            trashed_at=at,
            files=counts.get(i, (0, 0))[0],
            size=counts.get(i, (0, 0))[1],
        )
        for i, path, at in roots
    ]


def trashed_folder(session: Session, account_id: int, folder_id: int) -> TrashedFolder:
    """One trashed root of the account, as :func:`trashed_folders` lists it.  Raises NotFound
    (another account's, not in the trash, or a folder deleted with its parent: open that)."""
    for found in trashed_folders(session, account_id):
        if found.id == folder_id:
            return found
    raise NotFound("that folder is not in the trash")


def _counts(session: Session, account_id: int, root_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not root_ids:
        return {}
    rows = session.execute(
        select(File.trashed_with, func.count(), func.coalesce(func.sum(File.size), 0))
        .where(File.account_id == account_id, File.trashed_with.in_(root_ids))
        .group_by(File.trashed_with)
    )
    return {int(w or 0): (int(n), int(size)) for w, n, size in rows}


def _trashed_root(session: Session, account_id: int, folder_id: int) -> Folder:
    folder = folders.get(session, account_id, folder_id)
    if folder.trashed_at is None:
        raise NotFound("that folder is not in the trash")
    return folder


def purge_folder(session: Session, account_id: int, folder_id: int) -> int:
    """Delete a trashed folder forever: the subfolders and files deleted with it, and files
    deleted earlier from inside those folders (they cannot come back into a folder that is gone).
    Returns how many files went.  Raises NotFound (another account's, or not in the trash)."""
    folder = _trashed_root(session, account_id, folder_id)
    below = folders.trashed_with(session, folder)
    doomed = list(
        session.scalars(
            select(File.id).where(
                File.account_id == account_id,
                (File.trashed_with == folder_id) | File.folder_id.in_(below),
            )
        )
    )
    # Race: none; the folders are trashed, so no upload or move can put a live file in them.
    purged = files.purge(session, account_id, doomed)
    session.execute(delete(Folder).where(Folder.id.in_(below)))
    return purged


def purge_file(session: Session, account_id: int, file_id: int) -> None:
    """Delete a trashed file forever.  Raises NotFound (another account's, or not trashed)."""
    f = files.get(session, account_id, file_id, trashed=True)
    if f.trashed_at is None:
        raise NotFound("that file is not in the trash")
    files.purge(session, account_id, [f.id])


def empty(session: Session, account_id: int) -> int:
    """Delete everything in the account's trash forever; return how many files went."""
    purged = files.empty_trash(session, account_id)
    session.execute(
        delete(Folder).where(Folder.account_id == account_id, Folder.trashed_at.is_not(None))
    )
    return purged
