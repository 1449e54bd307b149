"""A device's memory of what it has backed up: one SQLite file on the device.

Keyed by local path; a file whose size, modification time and inode are unchanged since it was
stored is not read again (the way restic's and borg's file caches skip unchanged files).  Also
remembers the tus URL of an upload in progress, so an interrupted one resumes.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, inode INTEGER,
    sha256 TEXT, remote TEXT, file_id TEXT
);
CREATE TABLE IF NOT EXISTS uploads (
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, url TEXT
);
"""


@dataclass(frozen=True)
class Known:
    size: int
    mtime_ns: int
    inode: int
    sha256: str
    remote: str
    file_id: str

    def matches(self, entry: _Stat) -> bool:
        """Whether ``entry`` (a file now) is what was stored: same size, mtime, inode, place."""
        return (self.size, self.mtime_ns, self.inode, self.remote) == (
            entry.size,
            entry.mtime_ns,
            entry.inode,
            entry.remote,
        )


class _Stat(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def mtime_ns(self) -> int: ...
    @property
    def inode(self) -> int: ...
    @property
    def remote(self) -> str: ...


class BackupState:
    """Thread-safe; one connection shared under a lock (writes are tiny)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + _SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def unchanged(
        self, path: Path, size: int, mtime_ns: int, inode: int, remote: str
    ) -> Known | None:
        with self._lock:
            row = self._db.execute(
                "SELECT size, mtime_ns, inode, sha256, remote, file_id FROM files WHERE path = ?"
                " AND size = ? AND mtime_ns = ? AND inode = ?",
                (str(path), size, mtime_ns, inode),
            ).fetchone()
        if row is None or row[4] != remote:
            return None
        return Known(*row)

    def known_files(self) -> dict[str, Known]:
        """Every file stored before, by local path, in one query (a backup's first step: a
        query per file cost more than walking the folder)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path, size, mtime_ns, inode, sha256, remote, file_id FROM files"
            ).fetchall()
        return {str(r[0]): Known(*r[1:]) for r in rows}

    def stored(
        self,
        path: Path,
        size: int,
        mtime_ns: int,
        inode: int,
        sha256: str,
        remote: str,
        file_id: str,
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                (str(path), size, mtime_ns, inode, sha256, remote, file_id),
            )
            self._db.execute("DELETE FROM uploads WHERE path = ?", (str(path),))

    def upload_url(self, path: Path, size: int, mtime_ns: int) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT url FROM uploads WHERE path = ? AND size = ? AND mtime_ns = ?",
                (str(path), size, mtime_ns),
            ).fetchone()
        return row[0] if row else None

    def remember_upload(self, path: Path, size: int, mtime_ns: int, url: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?)",
                (str(path), size, mtime_ns, url),
            )
