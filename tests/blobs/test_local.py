"""The folder backend beyond the shared contract: failures injected behind its file-creation seam,
durable layout, and cleaning up after writers that died."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from strongroom.blobs import BlobStoreError, Vault, VaultKey
from strongroom.blobs.local import LocalBlobStore
from tests.blobs.stores import MiB, leftovers, name, random_bytes


class FailingFile:
    """A real file on disk that fails like a disk does: ``write`` stores what fits in
    ``budget`` bytes, then raises ``error``; ``flush`` can fail too (as fsync does on EIO)."""

    def __init__(self, path: Path, budget: int, error: int, fail_flush: bool = False) -> None:
        self.path = path
        self._file = path.open("xb", buffering=0)
        self._budget = budget
        self._error = error
        self._fail_flush = fail_flush
        self.written = 0

    def write(self, data) -> int:
        room = self._budget - self.written
        if room < len(data):
            self.written += self._file.write(bytes(data[:room])) or 0
            raise OSError(self._error, os.strerror(self._error))
        self.written += self._file.write(data) or 0
        return len(data)

    def flush(self) -> None:
        if self._fail_flush:
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()


class ShortWritingFile(FailingFile):
    """A file that takes at most 1000 bytes per call, as a raw file may."""

    def write(self, data) -> int:
        return self._file.write(bytes(data[:1000])) or 0


def failing_store(root: Path, budget: int, error: int, **kw) -> tuple[LocalBlobStore, list]:
    opened: list[FailingFile] = []

    def opener(path: Path) -> FailingFile:
        opened.append(FailingFile(path, budget, error, **kw))
        return opened[-1]

    return LocalBlobStore(root, opener=opener), opened  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "message"), [(errno.ENOSPC, "the disk is full"), (errno.EIO, "error")]
)
def test_write_failing_half_way_leaves_no_partial_blob(tmp_path, error, message) -> None:
    store, opened = failing_store(tmp_path, budget=3 * MiB, error=error)
    n = name()

    with pytest.raises(BlobStoreError, match=message):
        store.put(n, [random_bytes(MiB) for _ in range(6)])

    assert opened[0].written == 3 * MiB  # it did fail half-way, with bytes on disk
    assert not opened[0].path.exists()
    assert not store.exists(n) and not store.path_of(n).exists()
    assert list(store.tmp.iterdir()) == []
    assert leftovers(store) == []


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EIO])
def test_vault_write_on_a_failing_disk_stores_nothing(tmp_path, error) -> None:
    store, opened = failing_store(tmp_path, budget=2 * MiB + 100, error=error)
    vault = Vault(store, VaultKey(os.urandom(32), "a1a1a1a1a1a1a1a1"))

    with pytest.raises(BlobStoreError):
        vault.put_stream(random_bytes(MiB) for _ in range(5))
    with pytest.raises(BlobStoreError):
        vault.put(random_bytes(5 * MiB))

    assert [f.written for f in opened] == [2 * MiB + 100] * 2
    assert list(store.list()) == []
    assert leftovers(store) == []


def test_failure_at_commit_leaves_nothing(tmp_path) -> None:
    store, opened = failing_store(tmp_path, budget=10 * MiB, error=errno.EIO, fail_flush=True)
    n = name()

    with pytest.raises(BlobStoreError):
        store.put(n, random_bytes(MiB))

    assert opened[0].written == MiB
    assert not store.exists(n)
    assert leftovers(store) == []


def test_failure_creating_the_file_is_a_store_error(tmp_path) -> None:
    def opener(path: Path):
        raise OSError(errno.ENOSPC, "No space left on device")

    store = LocalBlobStore(tmp_path, opener=opener)

    with pytest.raises(BlobStoreError, match="disk is full"):
        store.put(name(), b"x")
    assert leftovers(store) == []


def test_short_writes_are_completed(tmp_path) -> None:
    store = LocalBlobStore(
        tmp_path,
        opener=lambda p: ShortWritingFile(p, 0, 0),  # type: ignore[arg-type,return-value]
    )
    data = random_bytes(50_000)
    n = name()

    assert store.put(n, data) == len(data)

    assert store.read(n) == data


def test_blobs_are_nested_by_the_start_of_their_id(tmp_path) -> None:
    store = LocalBlobStore(tmp_path)
    n = "0123abcd/" + "ab" * 16

    store.put(n, b"x")

    assert (tmp_path / "0123abcd" / "ab" / "ab" / ("ab" * 16)).read_bytes() == b"x"


def test_files_the_store_did_not_write_are_not_listed(tmp_path) -> None:
    store = LocalBlobStore(tmp_path)
    n = name("0123abcd")
    store.put(n, b"x")
    folder = store.path_of(n).parent
    (folder / "notes.txt").write_text("stray")
    (folder / ("ff" * 16)).write_text("in the wrong folder")
    (tmp_path / "README").write_text("stray")

    assert [info.name for info in store.list()] == [n]


def test_a_writer_whose_process_died_leaves_only_a_temporary_file_which_is_cleaned(
    tmp_path,
) -> None:
    store = LocalBlobStore(tmp_path)
    script = (
        "import os, sys; from pathlib import Path; "
        "from strongroom.blobs.local import LocalBlobStore; "
        "w = LocalBlobStore(Path(sys.argv[1])).writer(); w.write(b'half a blob'); os._exit(3)"
    )
    died = subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False)
    [stale_file] = store.tmp.iterdir()
    old = time.time() - 7200
    os.utime(stale_file, (old, old))
    with store.writer() as fresh:
        fresh.write(b"still being written")

        assert died.returncode == 3
        assert list(store.list()) == []
        assert store.clean_temporary(older_than_s=3600) == 1

        assert len(list(store.tmp.iterdir())) == 1  # the live writer's file is kept
        fresh.commit(name())
    assert list(store.tmp.iterdir()) == []
