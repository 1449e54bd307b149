"""Backing up local files and folders into the locker, in parallel, skipping what is unchanged."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strongroom.client.api import ApiError, Client
from strongroom.client.state import BackupState, Known
from strongroom.client.uploads import (
    SMALL,
    by_hash_many,
    is_regular,
    put_batch,
    put_file,
    sha256_of,
    stored_sizes,
)

BATCH_FILES = 200
BATCH_BYTES = 8 * 1024 * 1024


@dataclass
class BackupReport:
    files: int = 0
    unchanged: int = 0
    by_hash: int = 0
    uploaded: int = 0
    sent_bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Entry:
    """A regular file found by :func:`scan`, with the ``stat`` taken while walking."""

    path: Path
    folder: str
    size: int
    mtime_ns: int
    inode: int

    @property
    def remote(self) -> str:
        return f"{self.folder}/{self.path.name}" if self.folder else self.path.name


def _entry(path: Path, folder: str, st: os.stat_result) -> Entry:
    return Entry(path, folder, st.st_size, st.st_mtime_ns, st.st_ino)


def _walk(root: str, base: str, out: list[Entry]) -> None:
    """Files of each folder (name order) before its subfolders (name order), like a sorted
    ``os.walk``; one ``scandir`` per folder, and each file's ``stat`` is the one the walk made."""
    stack = [(root, base)]
    while stack:
        folder, remote = stack.pop()
        try:
            with os.scandir(folder) as it:
                found = sorted(it, key=lambda e: e.name)
        except OSError:
            continue  # an unreadable folder is skipped, as os.walk does
        subfolders = []
        for e in found:
            try:
                if e.is_dir(follow_symlinks=False):
                    subfolders.append((e.path, f"{remote}/{e.name}" if remote else e.name))
                elif e.is_file(follow_symlinks=False) and os.access(e.path, os.R_OK):
                    out.append(_entry(Path(e.path), remote, e.stat(follow_symlinks=False)))
            except OSError:
                continue  # Race: gone while walking
        stack.extend(reversed(subfolders))


def scan(paths: list[Path], folder: str) -> list[Entry]:
    """Every regular file under ``paths`` with the locker folder it goes to, walked once."""
    out: list[Entry] = []
    for path in paths:
        if path.is_dir():
            base = path.resolve()
            _walk(str(base), "/".join(p for p in (folder.strip("/"), base.name) if p), out)
        elif is_regular(path):
            out.append(_entry(path, folder.strip("/"), path.stat()))
    return out


def backup(
    client: Client,
    paths: list[Path],
    *,
    folder: str,
    state: BackupState,
    workers: int = 4,
    progress: Callable[[int], None] | None = None,
    entries: list[Entry] | None = None,
) -> BackupReport:
    """Back up ``paths`` (or the ``entries`` a :func:`scan` of them found) into ``folder``.

    What the device stored before is read from ``state`` once, so a file whose size, mtime and
    inode are unchanged costs no request and no query of its own.
    """
    report = BackupReport()
    known = state.known_files()
    todo = scan(paths, folder) if entries is None else entries
    may_be_stored = _may_be_stored(client, todo, known)

    def one(entry: Entry) -> None:
        local = entry.path
        st = local.stat()
        remote = entry.remote
        done = put_file(
            client,
            local,
            folder=entry.folder,
            ask_by_hash=may_be_stored(entry),
            resume_url=state.upload_url(local, st.st_size, st.st_mtime_ns),
            remember=lambda url: state.remember_upload(local, st.st_size, st.st_mtime_ns, url),
            progress=progress,
        )
        state.stored(
            local, st.st_size, st.st_mtime_ns, st.st_ino, done.sha256, remote, done.file_id
        )
        if done.by_hash:
            report.by_hash += 1
        else:
            report.uploaded += 1
            report.sent_bytes += done.sent_bytes

    def several(batch: list[Entry]) -> None:
        stats = [e.path.stat() for e in batch]
        known = _by_hash(client, batch, stats, may_be_stored)
        send = [i for i in range(len(batch)) if i not in known]
        sent = put_batch(client, [(batch[i].path, batch[i].folder) for i in send]) if send else []
        for i, (made, digest) in [*known.items(), *zip(send, sent, strict=True)]:
            entry, st = batch[i], stats[i]
            state.stored(
                entry.path,
                st.st_size,
                st.st_mtime_ns,
                st.st_ino,
                digest,
                entry.remote,
                str(made["id"]),
            )
            if progress:
                progress(st.st_size)
        report.by_hash += len(known)
        report.uploaded += len(send)
        report.sent_bytes += sum(stats[i].st_size for i in send)

    def guarded(item: Entry | list[Entry]) -> None:
        try:
            if isinstance(item, list):
                several(item)
            else:
                one(item)
        except (ApiError, OSError) as e:
            for entry in item if isinstance(item, list) else [item]:
                report.failed.append((str(entry.path), str(e)))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(guarded, _work(todo, known, report, progress)))
    return report


_NOWHERE = Known(-1, -1, -1, "", "", "")


def _by_hash(
    client: Client,
    batch: list[Entry],
    stats: list[os.stat_result],
    may_be_stored: Callable[[Entry], bool],
) -> dict[int, tuple[dict[str, Any], str]]:
    """The files of a batch of small ones that the server made from bytes it already had (by
    their place in the batch: the file made, and the hash of its bytes), asking in one request
    about those that may be stored.  Hashing a small file costs little beside a round trip."""
    asked = [i for i, entry in enumerate(batch) if may_be_stored(entry)]
    if not asked:
        return {}
    digests = {i: sha256_of(batch[i].path) for i in asked}
    items = [
        (digests[i], stats[i].st_size, batch[i].folder, batch[i].path.name, stats[i].st_mtime)
        for i in asked
    ]
    answers = by_hash_many(client, items)
    if answers is None:  # a server from before the question
        return {}
    return {
        i: (made, digests[i]) for i, made in zip(asked, answers, strict=True) if made is not None
    }


def _may_be_stored(
    client: Client, entries: list[Entry], known: dict[str, Known]
) -> Callable[[Entry], bool]:
    """Which files to hash and ask the server for by hash before sending them (large files
    one by one, small ones a batch at a time).

    Not a file backed up before that has changed since: its new bytes are rarely stored.  Not a
    file whose size no other file here has and the account stores no content of: it cannot be
    stored yet.  Reading and hashing a file only to hear "not stored" costs as much CPU as
    sending it, and on a first backup that is nearly every file.
    """

    def seen_before(entry: Entry) -> bool:
        """Backed up before under the same name (so changed since, when it is asked about)."""
        return known.get(str(entry.path), _NOWHERE).remote == entry.remote

    sizes = Counter(e.size for e in entries if not seen_before(e))
    unique = [size for size, count in sizes.items() if count == 1]
    found = stored_sizes(client, unique) if unique else set()
    alone = set(unique) - found if found is not None else set()
    return lambda entry: not seen_before(entry) and entry.size not in alone


def _work(
    entries: list[Entry],
    known: dict[str, Known],
    report: BackupReport,
    progress: Callable[[int], None] | None,
) -> Iterator[Entry | list[Entry]]:
    """Large files one by one; small changed files gathered into batches; unchanged skipped."""
    batch: list[Entry] = []
    size = 0
    for entry in entries:
        report.files += 1
        before = known.get(str(entry.path))
        if before is not None and before.matches(entry):
            report.unchanged += 1
            if progress:
                progress(entry.size)
            continue
        if entry.size >= SMALL:
            yield entry
            continue
        batch.append(entry)
        size += entry.size
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
