"""Blobs as files in a folder: ``<root>/<namespace>/ab/cd/<id>``.

Writes go to ``<root>/.tmp/`` first, are fsynced, then renamed into place (and the folder fsynced),
so a crash, a full disk or an I/O error never leaves a partial object under a real name.
Leftover temporary files are removed by :meth:`LocalBlobStore.clean_temporary`.
"""

from __future__ import annotations

import errno
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from strongroom.blobs.base import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStoreError,
    BlobWriter,
    validate_name,
)
from strongroom.blobs.nesting import nest, unnest

READ_SIZE = 1024 * 1024
Opener = Callable[[Path], BinaryIO]


def _open_exclusive(path: Path) -> BinaryIO:
    return path.open("xb", buffering=0)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _failure(action: str, e: OSError) -> BlobStoreError:
    reason = "the disk is full" if e.errno == errno.ENOSPC else (e.strerror or str(e))
    return BlobStoreError(f"could not {action}: {reason}")


class _LocalWriter(BlobWriter):
    def __init__(self, store: LocalBlobStore) -> None:
        self._store = store
        self._tmp = store.tmp / f"{secrets.token_hex(12)}.tmp"
        try:
            self._file: BinaryIO | None = store.opener(self._tmp)
        except OSError as e:
            raise _failure("start writing a blob", e) from None
        self._size = 0

    def write(self, data: bytes | memoryview) -> None:
        assert self._file is not None, "write after commit or abort"
        try:
            self._file.write(data)
        except OSError as e:
            self.abort()
            raise _failure("write a blob", e) from None
        self._size += len(data)

    def _commit(self, name: str) -> int:
        assert self._file is not None
        target = self._store.path_of(name)
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp, target)
            _fsync_dir(target.parent)
        except OSError as e:
            raise _failure("store a blob", e) from None
        return self._size

    def _abort(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass  # the write already failed; removing the file is what matters
            self._file = None
        self._tmp.unlink(missing_ok=True)


class LocalBlobStore(BlobStore):
    """A folder on a local or mounted filesystem.  ``opener`` is the file-creation seam."""

    def __init__(self, root: Path, *, opener: Opener = _open_exclusive) -> None:
        self.root = root.absolute()
        self.url = f"file://{self.root}"
        self.tmp = self.root / ".tmp"
        self.opener = opener
        try:
            self.tmp.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _failure(f"create the blob folder {self.root}", e) from None

    def path_of(self, name: str) -> Path:
        return self.root / nest(validate_name(name))

    def writer(self, name: str | None = None) -> BlobWriter:
        return _LocalWriter(self)

    def get(self, name: str) -> Iterator[bytes]:
        path = self.path_of(name)
        try:
            f = path.open("rb", buffering=0)
        except FileNotFoundError:
            raise BlobNotFound(f"blob {name} is missing") from None
        except OSError as e:
            raise _failure(f"read blob {name}", e) from None
        return self._stream(f, name)

    @staticmethod
    def _stream(f: BinaryIO, name: str) -> Iterator[bytes]:
        with f:
            while True:
                try:
                    piece = f.read(READ_SIZE)
                except OSError as e:
                    raise _failure(f"read blob {name}", e) from None
                if not piece:
                    return
                yield piece

    def size(self, name: str) -> int:
        try:
            return self.path_of(name).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(f"blob {name} is missing") from None

    def delete(self, name: str) -> bool:
        try:
            self.path_of(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        base = self.root
        namespace = prefix.split("/", 1)[0] if "/" in prefix else ""
        if namespace:
            base = self.root / namespace
        if not base.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for fn in sorted(filenames):
                full = Path(dirpath) / fn
                rel = PurePosixPath(full.relative_to(self.root).as_posix())
                if len(rel.parts) != 4:
                    continue
                name = unnest(rel)
                if name.startswith(prefix):
                    try:
                        yield BlobInfo(name, full.stat().st_size)
                    except FileNotFoundError:
                        continue  # deleted while listing

    def clean_temporary(self, older_than_s: float = 3600) -> int:
        """Remove temporary files left by writers that died; return how many."""
        cutoff = time.time() - older_than_s
        removed = 0
        for f in self.tmp.iterdir():
            try:
                if f.stat().st_mtime < cutoff:
                    f.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
