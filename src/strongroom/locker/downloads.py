"""Reading locker files back: one file's bytes, a thumbnail, many files for a zip, and storing a
file from content the account already has (upload by hash)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from strongroom.accounts.keys import vault_for
from strongroom.blobs import Vault
from strongroom.content import store as content
from strongroom.errors import NotFound
from strongroom.locker import files, folders
from strongroom.locker.categories import SNIFF_SIZE
from strongroom.locker.models import File, Folder
from strongroom.locker.paths import split_path
from strongroom.runtime import Runtime
from strongroom.zipstream import Entry, unique_names

MAX_ZIP_FILES = 100_000


@dataclass(frozen=True)
class FileStream:
    vault: Vault
    chunks: list[content.ChunkAt]
    size: int
    sha256: bytes
    content_type: str
    filename: str | None
    last_modified: str | None


def open_file(rt: Runtime, account_id: int, file_id: int) -> FileStream:
    """What is needed to send a file's current bytes.  Raises NotFound."""
    with rt.db.read() as s:
        f = files.get(s, account_id, file_id, trashed=True)
        chunks = content.chunk_list(s, f.content_id)
        vault = vault_for(s, rt.store, rt.keyring, account_id)
    return FileStream(
        vault,
        chunks,
        f.size,
        f.sha256,
        f.content_type,
        f.name,
        formatdate(f.modified_at / 1000, usegmt=True),
    )


def open_thumbnail(rt: Runtime, account_id: int, file_id: int, size: str) -> FileStream:
    """A file's thumbnail (``small`` or ``large``).  Raises NotFound when it has none (yet)."""
    with rt.db.read() as s:
        f = files.get(s, account_id, file_id, trashed=True)
        content_id = f.thumb_small_id if size == "small" else f.thumb_large_id
        if content_id is None:
            raise NotFound("this file has no thumbnail (yet)")
        info = content.info(s, account_id, content_id)
        chunks = content.chunk_list(s, content_id)
        vault = vault_for(s, rt.store, rt.keyring, account_id)
    return FileStream(vault, chunks, info.size, info.sha256, "image/webp", None, None)


def heads_of(rt: Runtime, account_id: int, content_ids: set[int]) -> dict[int, bytes]:
    """The first bytes of each of these stored contents (to recognise their types), looked up
    in one read."""
    with rt.db.read() as s:
        chunks = {cid: content.chunk_list(s, cid) for cid in content_ids}
        vault = vault_for(s, rt.store, rt.keyring, account_id)
    return {
        cid: b"".join(content.read_range(vault, at, 0, SNIFF_SIZE)) for cid, at in chunks.items()
    }


def file_entries(
    rt: Runtime, account_id: int, *, ids: list[int], folders: list[str]
) -> tuple[Iterator[Entry], str]:
    """Zip entries for the chosen files and folders (with their subfolders), and a zip name.

    One folder alone: its files with their paths inside it, in a zip named after it.  Otherwise
    each folder is a folder of the zip, beside the chosen files."""
    with rt.db.read() as s:
        vault = vault_for(s, rt.store, rt.keyring, account_id)
        plan: list[tuple[str, float, int, list[content.ChunkAt]]] = []

        def add(f: File, shown: str) -> None:
            if len(plan) >= MAX_ZIP_FILES:
                raise NotFound(f"too many files for one zip (more than {MAX_ZIP_FILES})")
            plan.append((shown, f.modified_at / 1000, f.size, content.chunk_list(s, f.content_id)))

        alone = len(folders) == 1 and not ids
        for folder in folders:
            parts = split_path(folder)
            base = "/".join(parts)
            top = "" if alone else (parts[-1] if parts else "Locker")
            for f, path in _folder_files(s, account_id, base):
                relative = path[len(base) :].lstrip("/") if base else path
                shown = "/".join(p for p in (top, relative, f.name) if p)
                add(f, shown)
        for i in ids:
            f = files.get(s, account_id, i)
            add(f, f.name)
        name = (split_path(folders[0]) or ["Locker"])[-1] if alone else "Files"
    names = unique_names(p[0] for p in plan)
    entries = (
        Entry(n, mtime, size, content.read_range(vault, chunks))
        for n, (_, mtime, size, chunks) in zip(names, plan, strict=True)
    )
    return entries, name


def _folder_files(s: Session, account_id: int, base: str) -> list[tuple[File, str]]:
    query = (
        select(File, func.coalesce(Folder.path, ""))
        .outerjoin(Folder, Folder.id == File.folder_id)
        .where(File.account_id == account_id, File.trashed_at.is_(None))
    )
    if base:
        folders.require(s, account_id, base)  # NotFound for a folder that is not there
        prefix = base + "/"
        query = query.where(
            (Folder.path == base) | (func.substr(Folder.path, 1, len(prefix)) == prefix)
        )
    return [(f, str(p)) for f, p in s.execute(query.order_by(Folder.path, File.name))]
