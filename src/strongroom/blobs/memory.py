"""Blobs in a dict: the in-process store for tests and benchmarks (``memory://``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from strongroom.blobs.base import (
    READ_SIZE,
    BlobInfo,
    BlobNotFound,
    BlobReader,
    BlobStore,
    BlobStoreError,
    BlobWriter,
    validate_name,
    validate_prefix,
)


class _MemoryWriter(BlobWriter):
    def __init__(self, store: MemoryBlobStore) -> None:
        self._store = store
        self._parts: list[bytes] = []

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        self._parts.append(bytes(data))

    def _commit(self, name: str) -> int:
        data = b"".join(self._parts)
        self._parts = []
        with self._store.lock:
            self._store.objects[name] = data
        return len(data)

    def _abort(self) -> None:
        self._parts = []


class _MemoryReader(BlobReader):
    """A reference to the bytes that were stored when opened (they never change)."""

    def __init__(self, data: bytes, name: str, tail: int) -> None:
        self._data = memoryview(data)
        self._name = name
        self.size = len(data)
        self.tail = bytes(self._data[max(0, self.size - tail) :]) if tail else b""

    def stream(self, start: int, end: int, chunk: int = READ_SIZE) -> Iterator[bytes]:
        if end > self.size:
            raise BlobStoreError(f"blob {self._name} has {self.size} bytes, not {end}")
        for position in range(start, end, chunk):
            yield bytes(self._data[position : min(position + chunk, end)])


class MemoryBlobStore(BlobStore):
    def __init__(self) -> None:
        self.url = "memory://"
        self.objects: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def writer(self, name: str | None = None) -> BlobWriter:
        return _MemoryWriter(self)

    def open(self, name: str, *, tail: int = 0) -> BlobReader:
        validate_name(name)
        with self.lock:
            data = self.objects.get(name)
        if data is None:
            raise BlobNotFound(f"blob {name} is missing")
        return _MemoryReader(data, name, tail)

    def size(self, name: str) -> int:
        validate_name(name)
        with self.lock:
            if name not in self.objects:
                raise BlobNotFound(f"blob {name} is missing")
            return len(self.objects[name])

    def delete(self, name: str) -> bool:
        validate_name(name)
        with self.lock:
            return self.objects.pop(name, None) is not None

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        validate_prefix(prefix)
        with self.lock:
            items = sorted((k, len(v)) for k, v in self.objects.items() if k.startswith(prefix))
        for name, size in items:
            yield BlobInfo(name, size)
