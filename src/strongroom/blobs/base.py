"""The blob-store seam: named, immutable byte objects on some storage.

A store knows nothing about accounts, encryption or SQL: it keeps opaque bytes under names
(``namespace/id``, both lowercase hex, see :func:`validate_name`).  Writes are atomic: a reader
sees either no object or the whole object, never a part, even if the writer dies half-way.
Encryption and content addressing live on top, in :mod:`strongroom.blobs.vault`.

Backends: :mod:`~strongroom.blobs.local` (a folder), :mod:`~strongroom.blobs.s3` (any S3-compatible
service) and :mod:`~strongroom.blobs.memory` (a dict, for tests and benchmarks).  One contract
suite (``tests/blobs/test_contract.py``) runs against each.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType

from strongroom.errors import InvalidInput, NotFound, ServiceUnavailable

_NAME = re.compile(r"[0-9a-f]{8,64}/[0-9a-f]{16,128}")


class BlobNotFound(NotFound):
    """No object of that name in the store."""

    slug = "blob-not-found"
    title = "Stored content is missing"


class BlobStoreError(ServiceUnavailable):
    """The storage failed (disk full, I/O error, S3 refused); nothing partial was published."""

    slug = "blob-store-error"
    title = "The content store failed"


class BadBlobName(InvalidInput):
    """A name that is not ``<hex namespace>/<hex id>``: refused before touching storage."""

    slug = "bad-blob-name"


def validate_name(name: str) -> str:
    """Return ``name`` if it is ``namespace/id`` in lowercase hex.  Raises BadBlobName."""
    if not _NAME.fullmatch(name):
        raise BadBlobName(f"not a valid blob name: {name[:200]!r}")
    return name


@dataclass(frozen=True)
class BlobInfo:
    name: str
    size: int


class BlobWriter(ABC):
    """An object being written; invisible until :meth:`commit`, gone after :meth:`abort`.

    Use as a context manager: leaving the block without a commit (or with an exception) aborts.
    """

    committed = False
    aborted = False

    @abstractmethod
    def write(self, data: bytes | memoryview) -> None:
        """Append bytes.  Raises BlobStoreError (the writer is then aborted)."""

    @abstractmethod
    def _commit(self, name: str) -> int:
        """Publish the bytes under ``name`` atomically; return the size."""

    @abstractmethod
    def _abort(self) -> None:
        """Discard what was written."""

    def commit(self, name: str) -> int:
        """Publish under ``name`` (replacing any object there) and return the size.

        Raises BadBlobName, BlobStoreError.
        """
        validate_name(name)
        try:
            size = self._commit(name)
        except BaseException:
            self.abort()
            raise
        self.committed = True
        return size

    def abort(self) -> None:
        if not self.committed and not self.aborted:
            self.aborted = True
            self._abort()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


class BlobStore(ABC):
    """Where blobs live.  Every method may raise BlobStoreError when the storage itself fails."""

    url: str

    @abstractmethod
    def writer(self, name: str | None = None) -> BlobWriter:
        """Start writing a new object, named on commit; ``name`` given here is a hint that lets
        some backends skip a copy (the same name must then be committed)."""

    @abstractmethod
    def get(self, name: str) -> Iterator[bytes]:
        """Stream the object's bytes.  Raises BlobNotFound (before the first chunk)."""

    @abstractmethod
    def size(self, name: str) -> int:
        """The object's size in bytes.  Raises BlobNotFound."""

    @abstractmethod
    def delete(self, name: str) -> bool:
        """Remove the object; False if there was none."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Every object whose name starts with ``prefix`` (e.g. a namespace and ``/``)."""

    def exists(self, name: str) -> bool:
        try:
            self.size(name)
        except BlobNotFound:
            return False
        return True

    def put(self, name: str, data: bytes | Iterable[bytes]) -> int:
        """Write a whole object in one call; return its size."""
        with self.writer(name) as w:
            for piece in [data] if isinstance(data, bytes | memoryview) else data:
                w.write(piece)
            return w.commit(name)

    def read(self, name: str) -> bytes:
        return b"".join(self.get(name))

    def delete_namespace(self, namespace: str) -> int:
        """Delete every object of ``namespace``; return how many."""
        return sum(self.delete(info.name) for info in list(self.list(namespace + "/")))

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
