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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType

from strongroom.errors import InvalidInput, NotFound, ServiceUnavailable

_NAME = re.compile(r"[0-9a-f]{8,64}/[0-9a-f]{16,128}")
_PREFIX = re.compile(r"[0-9a-f]{0,64}|[0-9a-f]{8,64}/[0-9a-f]{0,128}")
READ_SIZE = 1024 * 1024


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


def is_valid_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def validate_name(name: str) -> str:
    """Return ``name`` if it is ``namespace/id`` in lowercase hex.  Raises BadBlobName."""
    if not _NAME.fullmatch(name):
        raise BadBlobName(f"not a valid blob name: {name[:200]!r}")
    return name


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it can start a valid name (``""``, ``ab``, ``ns/``, ``ns/ab``).

    Raises BadBlobName, so that a listing never walks outside the store.
    """
    if not _PREFIX.fullmatch(prefix):
        raise BadBlobName(f"not a valid blob name prefix: {prefix[:200]!r}")
    return prefix


@dataclass(frozen=True)
class BlobInfo:
    name: str
    size: int


class BlobWriter(ABC):
    """An object being written; invisible until :meth:`commit`, gone after :meth:`abort`.

    Use as a context manager: leaving the block without a commit (or with an exception) aborts.
    Any failure while writing or committing aborts the writer, so nothing is left behind.
    """

    committed = False
    aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes; the writer keeps no reference to ``data`` once this returns.

        Raises BlobStoreError (the writer is then aborted), ValueError after commit or abort.
        """
        self._check_open()
        try:
            self._write(data)
        except BaseException:
            self.abort()
            raise

    def commit(self, name: str) -> int:
        """Publish under ``name`` (replacing any object there) and return the size.

        Raises BadBlobName, BlobStoreError (the writer is then aborted), ValueError after
        commit or abort.
        """
        self._check_open()
        try:
            validate_name(name)
            size = self._commit(name)
        except BaseException:
            self.abort()
            raise
        self.committed = True
        return size

    def abort(self) -> None:
        """Discard what was written (a no-op after commit or an earlier abort)."""
        if not self.committed and not self.aborted:
            self.aborted = True
            self._abort()

    def _check_open(self) -> None:
        if self.committed or self.aborted:
            state = "committed" if self.committed else "aborted"
            raise ValueError(f"this blob writer was already {state}")

    @abstractmethod
    def _write(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes (copying what must outlive the call)."""

    @abstractmethod
    def _commit(self, name: str) -> int:
        """Publish the bytes under ``name`` atomically; return the size."""

    @abstractmethod
    def _abort(self) -> None:
        """Discard what was written; must not raise for storage failures."""

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


class BlobReader(ABC):
    """One version of a stored object, open for reading at any offset.

    ``size`` is the object's size and ``tail`` its last bytes, as many as asked for in
    :meth:`BlobStore.open` (fetched at once: one round trip on S3).  Everything read through one
    reader comes from the same version of the object: if it is replaced or deleted meanwhile,
    reads either still see the old version or fail with BlobStoreError.
    """

    size: int
    tail: bytes

    @abstractmethod
    def stream(self, start: int, end: int, chunk: int = READ_SIZE) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) in pieces of at most ``chunk`` bytes.

        Raises BlobStoreError, also when fewer bytes than asked for arrive.
        """

    def read(self, start: int, length: int) -> bytes:
        """``length`` bytes from ``start``.  Raises BlobStoreError."""
        return b"".join(self.stream(start, start + length, max(length, 1)))

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the file or connection (also done when the reader is garbage-collected)."""

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _read_all(reader: BlobReader) -> Iterator[bytes]:
    with reader:
        yield from reader.stream(0, reader.size)


class BlobStore(ABC):
    """Where blobs live.  Every method may raise BlobStoreError when the storage itself fails,
    and BadBlobName for a name (or prefix) that :func:`validate_name` refuses."""

    url: str

    @abstractmethod
    def writer(self, name: str | None = None) -> BlobWriter:
        """Start writing a new object, named on commit (and durable once committed); ``name``
        given here is a hint that lets some backends skip a copy (the same name must then be
        committed, else ValueError)."""

    @abstractmethod
    def open(self, name: str, *, tail: int = 0) -> BlobReader:
        """Open the object for reading, fetching up to ``tail`` bytes from its end at once.

        Raises BlobNotFound.
        """

    @abstractmethod
    def size(self, name: str) -> int:
        """The object's size in bytes.  Raises BlobNotFound."""

    @abstractmethod
    def delete(self, name: str) -> bool:
        """Remove the object; False if there was none."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Every object whose name starts with ``prefix`` (e.g. a namespace and ``/``), in
        name order; objects being written are never listed."""

    def get(self, name: str) -> Iterator[bytes]:
        """Stream the object's bytes.  Raises BlobNotFound (before the first chunk)."""
        return _read_all(self.open(name))

    def exists(self, name: str) -> bool:
        try:
            self.size(name)
        except BlobNotFound:
            return False
        return True

    def put(
        self,
        name: str,
        data: bytes | bytearray | memoryview | Iterable[bytes],
    ) -> int:
        """Write a whole object in one call; return its size."""
        with self.writer(name) as w:
            for piece in [data] if isinstance(data, bytes | bytearray | memoryview) else data:
                w.write(piece)
            return w.commit(name)

    def read(self, name: str) -> bytes:
        return b"".join(self.get(name))

    def read_range(self, name: str, start: int, length: int) -> bytes:
        """``length`` bytes of the object from ``start``, in one read (a packed blob).

        Raises BlobNotFound, BlobStoreError (also when the object ends before them).
        """
        with self.open(name) as reader:
            return reader.read(start, length)

    def delete_namespace(self, namespace: str) -> int:
        """Delete every object of ``namespace``; return how many.  Raises BadBlobName."""
        return sum(self.delete(info.name) for info in self._namespace_listing(namespace))

    def _namespace_listing(self, namespace: str) -> Sequence[BlobInfo]:
        if "/" in namespace or not namespace:
            raise BadBlobName(f"not a valid blob namespace: {namespace[:200]!r}")
        return list(self.list(validate_prefix(namespace + "/")))

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
