"""Blobs in a dict: the in-process store for tests and benchmarks (``memory://``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from strongroom.blobs.base import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobWriter,
    validate_name,
)


class _MemoryWriter(BlobWriter):
    def __init__(self, store: MemoryBlobStore) -> None:
        self._store = store
        self._parts: list[bytes] = []

    def write(self, data: bytes | memoryview) -> None:
        self._parts.append(bytes(data))

    def _commit(self, name: str) -> int:
        data = b"".join(self._parts)
        with self._store.lock:
            self._store.objects[name] = data
        return len(data)

    def _abort(self) -> None:
        self._parts = []


class MemoryBlobStore(BlobStore):
    def __init__(self) -> None:
        self.url = "memory://"
        self.objects: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def writer(self, name: str | None = None) -> BlobWriter:
        return _MemoryWriter(self)

    def get(self, name: str) -> Iterator[bytes]:
        validate_name(name)
        with self.lock:
            data = self.objects.get(name)
        if data is None:
            raise BlobNotFound(f"blob {name} is missing")
        return iter([data] if data else [])

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
        with self.lock:
            items = sorted((k, len(v)) for k, v in self.objects.items() if k.startswith(prefix))
        for name, size in items:
            yield BlobInfo(name, size)
