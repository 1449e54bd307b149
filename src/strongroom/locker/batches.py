"""Many small files in one request: staged with one flush to disk, stored in one transaction;
or, when the account already stores their bytes, made from those by hash, many in one request.

A phone's or computer's documents folder is thousands of files of a few kilobytes; sending each
through its own resumable upload would cost several round trips and transactions apiece.  A
second device backing up the same folder sends only hashes for the files the first one stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.accounts import usage
from strongroom.accounts.keys import vault_for
from strongroom.content import store as content
from strongroom.errors import InvalidInput, NotFound
from strongroom.locker import files
from strongroom.locker.downloads import heads_of
from strongroom.locker.paths import clean_name, split_path
from strongroom.runtime import Runtime

MAX_FILES = 1000
MAX_FILE_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class SmallFile:
    folder: str
    name: str
    mtime_ms: int | None
    data: bytes


def store_small_files(rt: Runtime, account_id: int, batch: list[SmallFile]) -> list[files.FileView]:
    """Store a batch of small files (new files or new versions).  Checks every name first:
    BadPath, InvalidInput or QuotaExceeded refuse the whole batch, storing nothing."""
    if not batch or len(batch) > MAX_FILES:
        raise InvalidInput(f"a batch holds 1 to {MAX_FILES} files")
    places = [(split_path(f.folder), clean_name(f.name)) for f in batch]
    if any(len(f.data) > MAX_FILE_SIZE for f in batch):
        raise InvalidInput(f"files over {MAX_FILE_SIZE} bytes go through resumable uploads")
    with rt.db.read() as s:
        usage.reserve(s, account_id, sum(len(f.data) for f in batch))  # fail early if full
        vault = vault_for(s, rt.store, rt.keyring, account_id)
    staged = content.stage_many(rt.db, vault, account_id, rt.clock, [f.data for f in batch])
    now = rt.clock.now_ms()
    with rt.db.write() as s:
        usage.lock_account(s, account_id)
        ids = content.commit_many(s, account_id, staged, now)
        incoming = [
            files.Incoming(
                folder,
                name,
                files.NewBytes(cid, st.size, st.sha256, f.data[:8192]),
                f.mtime_ms if f.mtime_ms is not None else now,
            )
            for (folder, name), cid, st, f in zip(places, ids, staged, batch, strict=True)
        ]
        stored = files.store_many(
            s, account_id, incoming, now=now, keep_versions=rt.settings.file_versions_kept
        )
    return [v for v, _ in stored]


@dataclass(frozen=True)
class KnownFile:
    """A small file named by the hash and size of its bytes, instead of the bytes."""

    folder: str
    name: str
    mtime_ms: int | None
    sha256: bytes
    size: int


def store_known_files(
    rt: Runtime, account_id: int, batch: list[KnownFile]
) -> list[files.FileView | None]:
    """Make each file of ``batch`` whose bytes the account already stores (same hash and size),
    in one transaction; None in its place for each other file (its bytes must be sent).
    Checks every name first: BadPath or InvalidInput refuse the whole batch, storing nothing."""
    if not batch or len(batch) > MAX_FILES:
        raise InvalidInput(f"a batch holds 1 to {MAX_FILES} files")
    places = [(split_path(f.folder), clean_name(f.name)) for f in batch]
    with rt.db.read() as s:
        found = content.find_many(s, account_id, [(f.sha256, f.size) for f in batch])
    chosen = [
        (i, f, found[f.sha256, f.size]) for i, f in enumerate(batch) if (f.sha256, f.size) in found
    ]
    made: list[files.FileView | None] = [None] * len(batch)
    if not chosen:
        return made
    heads = heads_of(rt, account_id, {cid for _, _, cid in chosen})  # to tell each file's type
    now = rt.clock.now_ms()
    incoming = [
        files.Incoming(
            places[i][0],
            places[i][1],
            files.NewBytes(cid, f.size, f.sha256, heads[cid]),
            f.mtime_ms if f.mtime_ms is not None else now,
        )
        for i, f, cid in chosen
    ]
    with rt.db.write() as s:
        stored = files.store_many(
            s, account_id, incoming, now=now, keep_versions=rt.settings.file_versions_kept
        )
    for (i, _, _), (view, _) in zip(chosen, stored, strict=True):
        made[i] = view
    return made


def store_known_file(rt: Runtime, account_id: int, known: KnownFile) -> files.FileView:
    """Make one file from bytes the account already stores.  Raises NotFound if it does not."""
    [made] = store_known_files(rt, account_id, [known])
    if made is None:
        raise NotFound("no stored content with that hash and size; upload the bytes")
    return made
