"""Backing up local files and folders into the locker, in parallel, skipping what is unchanged."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from strongroom.client.api import ApiError, Client
from strongroom.client.state import BackupState
from strongroom.client.uploads import folder_of, is_regular, put_file, sha256_of


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
        digest = sha256_of(local)
        done = put_file(
            client,
            local,
            folder=remote_folder,
            sha256=digest,
            resume_url=state.upload_url(local, st.st_size, st.st_mtime_ns),
            remember=lambda url: state.remember_upload(local, st.st_size, st.st_mtime_ns, url),
            progress=progress,
        )
        state.stored(
            local, st.st_size, st.st_mtime_ns, st.st_ino, digest, remote, str(done.file["id"])
        )
        if done.by_hash:
            report.by_hash += 1
        else:
            report.uploaded += 1
            report.sent_bytes += done.sent_bytes

    def guarded(item: tuple[Path, str]) -> None:
        report.files += 1
        try:
            one(*item)
        except (ApiError, OSError) as e:
            report.failed.append((str(item[0]), str(e)))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(guarded, plan(paths, folder)))
    return report
