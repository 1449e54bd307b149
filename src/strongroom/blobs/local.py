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
    READ_SIZE,
    BlobInfo,
    BlobNotFound,
    BlobReader,
    BlobStore,
    BlobStoreError,
    BlobWriter,
    is_valid_name,
    validate_name,
    validate_prefix,
)
from strongroom.blobs.nesting import nest, unnest

Opener = Callable[[Path], BinaryIO]
_KNOWN_FOLDERS = 100_000


def _open_exclusive(path: Path) -> BinaryIO:
    return path.open("xb", buffering=0)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
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

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        assert self._file is not None  # BlobWriter.write refuses closed writers
        view = memoryview(data).cast("B")
        try:
            # An unbuffered file may take fewer bytes than offered: write the rest.
            while view:
                written = self._file.write(view)
                if not written:
                    raise OSError(errno.EIO, "the file accepted no bytes")
                view = view[written:]
                self._size += written
        except OSError as e:
            raise _failure("write a blob", e) from None

    def _commit(self, name: str) -> int:
        assert self._file is not None
        target = self._store.path_of(name)
        try:
            # Folders first, so that on journaling filesystems the file's fsync commits them
            # too and the fsyncs of new folders below find nothing left to do.
            created = self._store.make_folders(target.parent)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            os.replace(self._tmp, target)
            for folder in [target.parent, *(f.parent for f in created)]:
                _fsync_dir(folder)
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
        try:
            self._tmp.unlink(missing_ok=True)
        except OSError:
            pass  # clean_temporary removes it later


class _LocalReader(BlobReader):
    """An open file: reads by offset (``pread``) from the version that was opened."""

    def __init__(self, fd: int, name: str, tail: int) -> None:
        self._fd = fd
        self._name = name
        try:
            self.size = os.fstat(fd).st_size
            keep = min(tail, self.size)
            self.tail = self._pread(keep, self.size - keep) if keep else b""
        except BaseException:
            self.close()
            raise

    def _pread(self, length: int, offset: int) -> bytes:
        try:
            return os.pread(self._fd, length, offset)
        except OSError as e:
            raise _failure(f"read blob {self._name}", e) from None

    def stream(self, start: int, end: int, chunk: int = READ_SIZE) -> Iterator[bytes]:
        position = start
        while position < end:
            piece = self._pread(min(chunk, end - position), position)
            if not piece:
                raise BlobStoreError(f"blob {self._name} ended at {position}, before {end}")
            position += len(piece)
            yield piece

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __del__(self) -> None:
        self.close()


class LocalBlobStore(BlobStore):
    """A folder on a local or mounted filesystem.  ``opener`` is the file-creation seam."""

    def __init__(self, root: Path, *, opener: Opener = _open_exclusive) -> None:
        self.root = root.absolute()
        self.url = f"file://{self.root}"
        self.tmp = self.root / ".tmp"
        self.opener = opener
        # Folders known to exist: nothing in Strongroom removes a shard folder, and without
        # this every blob written cost a stat per level.
        self._folders: set[Path] = set()
        try:
            self.tmp.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _failure(f"create the blob folder {self.root}", e) from None

    def path_of(self, name: str) -> Path:
        return self.root / nest(validate_name(name))

    def make_folders(self, folder: Path) -> list[Path]:
        """Create ``folder`` and its missing parents below the root; return those created,
        deepest first.  The caller makes them durable by fsyncing each one's parent."""
        if folder in self._folders:
            return []
        created: list[Path] = []
        known = folder
        while folder != self.root and not folder.is_dir():
            created.append(folder)
            folder = folder.parent
        for new in reversed(created):
            try:
                new.mkdir()
            except FileExistsError:
                pass  # Race: another writer made it; fsyncing its parent again is harmless
        if len(self._folders) >= _KNOWN_FOLDERS:
            self._folders.clear()  # a bound on memory; forgetting only costs a stat again
        self._folders.add(known)
        return created

    def writer(self, name: str | None = None) -> BlobWriter:
        return _LocalWriter(self)

    def open(self, name: str, *, tail: int = 0) -> BlobReader:
        path = self.path_of(name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise BlobNotFound(f"blob {name} is missing") from None
        except OSError as e:
            raise _failure(f"read blob {name}", e) from None
        return _LocalReader(fd, name, tail)

    def size(self, name: str) -> int:
        try:
            return self.path_of(name).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(f"blob {name} is missing") from None
        except OSError as e:
            raise _failure(f"look up blob {name}", e) from None

    def delete(self, name: str) -> bool:
        try:
            self.path_of(name).unlink()
        except FileNotFoundError:
            return False
        except OSError as e:
            raise _failure(f"delete blob {name}", e) from None
        return True

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        validate_prefix(prefix)
        namespace = prefix.split("/", 1)[0] if "/" in prefix else ""
        base = self.root / namespace if namespace else self.root
        if not base.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for fn in sorted(filenames):
                full = Path(dirpath) / fn
                rel = PurePosixPath(full.relative_to(self.root).as_posix())
                name = unnest(rel) if len(rel.parts) == 4 else ""
                if not (is_valid_name(name) and nest(name) == rel and name.startswith(prefix)):
                    continue  # not something this store wrote, or outside the prefix
                try:
                    yield BlobInfo(name, full.stat().st_size)
                except FileNotFoundError:
                    continue  # Race: deleted while listing

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
