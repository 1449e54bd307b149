"""Backing up local files and folders into the locker, in parallel, skipping what is unchanged."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from strongroom.client.api import ApiError, Client
from strongroom.client.state import BackupState
from strongroom.client.uploads import SMALL, folder_of, is_regular, put_batch, put_file, sha256_of

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


def plan(paths: list[Path], folder: str) -> Iterator[tuple[Path, str]]:
    """Every regular file under ``paths`` with the locker folder it goes to."""
    for path in paths:
        if path.is_dir():
            base = path.resolve()
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames.sort()
                for name in sorted(filenames):
                    local = Path(dirpath) / name
                    if is_regular(local):
                        relative = Path(base.name) / local.relative_to(base)
                        yield local, folder_of(relative, folder)
        elif is_regular(path):
            yield path, folder.strip("/")


def backup(
    client: Client,
    paths: list[Path],
    *,
    folder: str,
    state: BackupState,
    workers: int = 4,
    progress: Callable[[int], None] | None = None,
) -> BackupReport:
    report = BackupReport()

    def one(local: Path, remote_folder: str) -> None:
        st = local.stat()
        remote = f"{remote_folder}/{local.name}" if remote_folder else local.name
        known = state.unchanged(local, st.st_size, st.st_mtime_ns, st.st_ino, remote)
        if known is not None:
            report.unchanged += 1
            if progress:
                progress(st.st_size)
            return
        done = put_file(
            client,
            local,
            folder=remote_folder,
            ask_by_hash=not state.seen(local, remote),  # a changed file: just send it
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

    def several(batch: list[tuple[Path, str]]) -> None:
        stats = [p.stat() for p, _ in batch]
        digests = [sha256_of(p) for p, _ in batch]
        stored = put_batch(client, batch)
        for (local, remote_folder), st, digest, made in zip(
            batch, stats, digests, stored, strict=True
        ):
            remote = f"{remote_folder}/{local.name}" if remote_folder else local.name
            state.stored(
                local, st.st_size, st.st_mtime_ns, st.st_ino, digest, remote, str(made["id"])
            )
            if progress:
                progress(st.st_size)
        report.uploaded += len(batch)
        report.sent_bytes += sum(st.st_size for st in stats)

    def guarded(item: tuple[Path, str] | list[tuple[Path, str]]) -> None:
        try:
            if isinstance(item, list):
                several(item)
            else:
                one(*item)
        except (ApiError, OSError) as e:
            for path, _ in item if isinstance(item, list) else [item]:
                report.failed.append((str(path), str(e)))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(guarded, _work(paths, folder, state, report, progress)))
    return report


def _work(
    paths: list[Path],
    folder: str,
    state: BackupState,
    report: BackupReport,
    progress: Callable[[int], None] | None,
) -> Iterator[tuple[Path, str] | list[tuple[Path, str]]]:
    """Large files one by one; small changed files gathered into batches; unchanged skipped."""
    batch: list[tuple[Path, str]] = []
    size = 0
    for local, remote_folder in plan(paths, folder):
        report.files += 1
        st = local.stat()
        if st.st_size >= SMALL:
            yield local, remote_folder
            continue
        remote = f"{remote_folder}/{local.name}" if remote_folder else local.name
        if state.unchanged(local, st.st_size, st.st_mtime_ns, st.st_ino, remote) is not None:
            report.unchanged += 1
            if progress:
                progress(st.st_size)
            continue
        batch.append((local, remote_folder))
        size += st.st_size
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
