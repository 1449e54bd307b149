"""Processes that encrypt and write blobs, so that storing uploads uses more than one core.

A server process runs Python on one core at a time (the GIL).  Storing a chunk is mostly
work that holds it: AES-GCM, building the file's name, creating, writing and renaming the
file (about 1 ms of CPU per 320 KiB chunk on the reference machine, most of an upload's cost
per byte).  :meth:`SealerPool.put_many` hands a batch of chunks, already named, to worker
processes (``spawn``: nothing of the server's threads or locks is inherited) that seal and
write them into the same folder with :meth:`Vault.put` and flush them to disk; it returns
once every blob is durable, exactly as the in-process path does after its ``sync``.

The workers get the account's :class:`~strongroom.blobs.vault.VaultKey` (derived keys only,
never the data key or the master key) with each batch, over a pipe to a child process of
the server.  They keep nothing between batches but the store's set of shard folders that
exist.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from pathlib import Path

from strongroom.blobs.vault import Vault, VaultKey

MIN_BATCH = 1024 * 1024
"""Batches smaller than this are stored in the calling thread: a handful of small chunks costs
less than the trip to another process."""

_stores: dict[str, object] = {}  # per worker process: root -> LocalBlobStore


def _watch_parent(parent: int) -> None:
    """In a worker: exit as soon as the server process is gone.  A server that is killed (not
    stopped) cannot shut its pool down, and an idle worker would otherwise wait forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="sealer-watchdog", daemon=True).start()


def _seal_and_write(root: str, key: VaultKey, items: list[tuple[str, bytes]]) -> list[int]:
    """In a worker: store each ``(blob_id, plaintext)`` and flush; the stored sizes, in order."""
    from strongroom.blobs.local import LocalBlobStore

    store = _stores.get(root)
    if not isinstance(store, LocalBlobStore):
        store = _stores[root] = LocalBlobStore(Path(root))
    vault = Vault(store, key)
    sizes = [vault.put(data, deferred=True, blob_id=blob_id).stored_size for blob_id, data in items]
    store.sync()
    return sizes


class SealerPool:
    """``processes`` worker processes for one local store's folder, started on first use."""

    def __init__(self, root: Path, processes: int) -> None:
        self.root = str(root)
        self.processes = processes
        self.min_batch = MIN_BATCH
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_watch_parent,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def put_many(self, key: VaultKey, items: list[tuple[str, bytes]]) -> list[int] | None:
        """Seal and write ``(blob_id, plaintext)`` pairs (ids already computed); durable on
        return.  The stored sizes, in order; None if a worker process died (the pool starts
        afresh next time, and the caller stores the batch itself).  Raises what
        :meth:`Vault.put` raises."""
        pool = self._executor()
        try:
            futures = [
                pool.submit(_seal_and_write, self.root, key, share)
                for share in _split(items, self.processes)
            ]
            return [size for future in futures for size in future.result()]
        except BrokenExecutor:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return None

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _split(items: list[tuple[str, bytes]], parts: int) -> list[list[tuple[str, bytes]]]:
    """``items`` in up to ``parts`` consecutive runs of about equal bytes."""
    total = sum(len(data) for _, data in items)
    target = total / max(1, parts)
    shares: list[list[tuple[str, bytes]]] = [[]]
    size = 0
    for item in items:
        if size >= target * len(shares) and len(shares) < parts:
            shares.append([])
        shares[-1].append(item)
        size += len(item[1])
    return [s for s in shares if s]


def default_processes() -> int:
    """One per core, at most four (each uses about 40 MiB)."""
    return max(1, min(4, os.cpu_count() or 1))
