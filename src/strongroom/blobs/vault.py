"""An account's encrypted, content-addressed view of a blob store.

Names.  A blob's id is the keyed BLAKE3 hash of its plaintext (key derived from the account's
data key), so equal content in one account gets one id (deduplication) while equal content in
two accounts gets unrelated ids.  Objects are stored as ``<namespace>/<id>``, the namespace being
the account's random key id, so an account's blobs can be listed and purged together.

Byte layout of a stored blob (version 1)::

    header   = b"SRB1" || salt (16 random bytes)
    key      = HKDF-SHA256(enc_root, salt=salt, info=b"strongroom/blob/v1")
    segment  = AES-256-GCM(key, nonce_i, plaintext_i, aad_i)      (ciphertext || 16-byte tag)
    nonce_i  = i as 11 big-endian bytes || final flag (1 byte: 1 for the last segment, else 0)
    aad_i    = header, plus the 32-byte blob id for the last segment
    blob     = header || segment_0 || ... || segment_n

Every segment but the last holds exactly ``SEGMENT`` plaintext bytes; the last holds 0 to
``SEGMENT``, so the object's size alone says where each segment lies.  The final flag in the
nonce makes truncation at a segment boundary detectable, the id in the last segment's associated
data binds the content to its name (borg's ``assert_id``), and the per-blob salt keeps two writes
of the same content from sharing a keystream (and ties every segment to the header, hence to the
last segment).

Packs (version 1).  A batch of chunks is stored as one object, ``<namespace>/<pack id>`` (a random
id in the same form as a blob id): the sealed chunks one after another, each exactly the bytes it
would have as an object of its own (its own header and salt, its id in its last segment's
associated data).  Where a chunk lies, ``(pack id, offset, stored size)``, is kept by the caller
(the ``chunks`` table); a chunk is read with one ranged read of its pack and checked exactly like
a blob of its own.  The pack itself carries no index: nothing is trusted from it.  One object per
chunk cost a file creation, a rename and often new shard folders for every ~320 KiB stored
(on S3, a PUT), several times the cost of sealing the bytes.

Reading checks the last segment first (one ranged read of the object's tail): a blob that is
truncated, extended, or another blob stored under this name fails there, before any byte is
released.  Every other segment is authenticated before it is released.  So a mismatch raises
:class:`BlobCorrupt` and never returns wrong bytes; damage in the middle of a large blob is found
when the reader reaches it, after the correct bytes before it.  :meth:`Vault.verify` also
recomputes the id from the plaintext.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import blake3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.blobs.base import BlobNotFound, BlobReader, BlobStore, BlobWriter, validate_name
from strongroom.errors import ServiceUnavailable

MAGIC = b"SRB1"
SALT_SIZE = 16
HEADER_SIZE = len(MAGIC) + SALT_SIZE
SEGMENT = 1024 * 1024
TAG = 16
SEALED = SEGMENT + TAG


class BlobCorrupt(ServiceUnavailable):
    """A stored blob failed authentication or its id check: it was damaged or tampered with."""

    slug = "blob-corrupt"
    title = "Stored content is damaged"


def _hkdf(key: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def _bytes_view(data: bytes | bytearray | memoryview) -> memoryview:
    return memoryview(data).cast("B")


class VaultKey:
    """An account's data key, the storage namespace, and the keys derived from them."""

    def __init__(self, data_key: bytes, namespace: str) -> None:
        if len(data_key) != 32:
            raise ValueError("a data key has 32 bytes")
        self.namespace = namespace
        self._id_key = _hkdf(data_key, b"strongroom/blob-id/v1")
        self._enc_root = _hkdf(data_key, b"strongroom/blob-enc/v1")
        self.chunker_secret = _hkdf(data_key, b"strongroom/chunker/v1")
        """Keys the account's content-defined chunker, so cut points differ per account."""

    # One thread: BLAKE3's multithreading (max_threads=AUTO) made 4 MiB pieces 30% slower on
    # a two-core machine (bench/blobs.py), and a server's cores serve concurrent requests.
    def hasher(self) -> blake3.blake3:
        """A keyed BLAKE3 hasher: feed it plaintext, its hex digest is the blob id."""
        return blake3.blake3(key=self._id_key)

    def blob_id(self, data: bytes | bytearray | memoryview) -> str:
        return blake3.blake3(data, key=self._id_key).hexdigest()

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt a small secret of the account (a share token) bound to ``context``."""
        nonce = secrets.token_bytes(12)
        key = _hkdf(self._enc_root, b"strongroom/small-secret/v1")
        return nonce + AESGCM(key).encrypt(nonce, plaintext, context)

    def unseal(self, sealed: bytes, context: bytes) -> bytes:
        """Decrypt what :meth:`seal` made.  Raises BlobCorrupt if it was altered."""
        key = _hkdf(self._enc_root, b"strongroom/small-secret/v1")
        try:
            return AESGCM(key).decrypt(sealed[:12], sealed[12:], context)
        except (InvalidTag, ValueError):
            raise BlobCorrupt("a sealed secret does not open") from None

    def blob_cipher(self, salt: bytes) -> AESGCM:
        return AESGCM(_hkdf(self._enc_root, b"strongroom/blob/v1", salt))


@dataclass(frozen=True)
class Placement:
    """Where a packed blob's sealed bytes are: ``stored_size`` bytes at ``offset`` in a pack."""

    pack_id: str
    offset: int
    stored_size: int


@dataclass(frozen=True)
class StoredBlob:
    blob_id: str
    size: int
    stored_size: int


@dataclass(frozen=True)
class _Layout:
    """Where the segments of a stored blob lie, computed from its size alone."""

    segments: int
    last_start: int

    @classmethod
    def of(cls, stored_size: int) -> _Layout | None:
        """The layout, or None when no blob can have that size (it was cut or extended)."""
        body = stored_size - HEADER_SIZE
        segments = max(1, -(-body // SEALED))
        last_start = HEADER_SIZE + (segments - 1) * SEALED
        if stored_size - last_start < TAG:
            return None
        return cls(segments, last_start)


class _SealingWriter:
    """Encrypts plaintext segment by segment into a store writer.

    The last segment is sealed differently, so up to one segment is held back until
    :meth:`close`; it is referenced, not copied, when it comes from an immutable ``bytes``.
    Segments are sealed into one reusable buffer (the store writer copies what it keeps).
    """

    def __init__(self, key: VaultKey, out: BlobWriter) -> None:
        salt = secrets.token_bytes(SALT_SIZE)
        self.header = MAGIC + salt
        self._aead = key.blob_cipher(salt)
        self._out = out
        self._sealed = memoryview(bytearray())  # grown to the largest segment sealed
        self._pending: bytearray | memoryview = bytearray()
        self._index = 0
        out.write(self.header)
        self.written = len(self.header)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = _bytes_view(data)
        if self._pending:
            take = min(SEGMENT - len(self._pending), len(view))
            if take:
                self._pending = bytearray(self._pending)
                self._pending += view[:take]
                view = view[take:]
            if not view:
                return
            self._seal(self._pending, final=False)  # full, and more follows
            self._pending = bytearray()
        while len(view) > SEGMENT:
            self._seal(view[:SEGMENT], final=False)
            view = view[SEGMENT:]
        self._pending = view if isinstance(view.obj, bytes) else bytearray(view)

    def _seal(
        self, plain: bytes | bytearray | memoryview, *, final: bool, aad: bytes = b""
    ) -> None:
        if len(self._sealed) < len(plain) + TAG:
            # Sized on demand: most blobs are chunks of ~320 KiB, one short segment each, and a
            # zeroed 1 MiB buffer per chunk cost more than sealing it.
            self._sealed = memoryview(bytearray(min(SEALED, max(len(plain) + TAG, 64 * 1024))))
        sealed = self._sealed[: len(plain) + TAG]
        self._aead.encrypt_into(_nonce(self._index, final), plain, self.header + aad, sealed)
        self._out.write(sealed)
        self.written += len(sealed)
        self._index += 1

    def close(self, blob_id: str) -> None:
        self._seal(self._pending, final=True, aad=bytes.fromhex(blob_id))
        self._pending = bytearray()


class Vault:
    """Encrypting, verifying access to one account's blobs in a store."""

    def __init__(self, store: BlobStore, key: VaultKey) -> None:
        self.store = store
        self.key = key

    def name_of(self, blob_id: str) -> str:
        return validate_name(f"{self.key.namespace}/{blob_id}")

    def put(self, data: bytes | bytearray | memoryview) -> StoredBlob:
        """Store content held in memory as a blob of its own.  Raises BlobStoreError."""
        view = _bytes_view(data)
        blob_id = self.key.blob_id(view)
        name = self.name_of(blob_id)
        with self.store.writer(name) as out:
            sealer = _SealingWriter(self.key, out)
            sealer.write(view)
            sealer.close(blob_id)
            stored = out.commit(name)
        return StoredBlob(blob_id, len(view), stored)

    def put_pack(
        self, items: Sequence[tuple[str, bytes | bytearray | memoryview]]
    ) -> list[Placement]:
        """Store several blobs, ``(blob_id, plaintext)`` with ids from :meth:`VaultKey.blob_id`,
        as one new pack, durable before this returns; where each one lies, in order.

        Raises BlobStoreError (nothing is stored then).
        """
        pack_id = secrets.token_hex(32)
        name = self.name_of(pack_id)
        placements: list[Placement] = []
        # Flushed on its own (fsync of the file and its folder), not with the store's ``sync``:
        # a pack is one file, and ``syncfs`` would also wait for everything else written to the
        # disk meanwhile (other uploads, the database, other programs).
        with self.store.writer(name) as out:
            at = 0
            for blob_id, data in items:
                sealer = _SealingWriter(self.key, out)
                sealer.write(data)
                sealer.close(blob_id)
                placements.append(Placement(pack_id, at, sealer.written))
                at += sealer.written
            out.commit(name)
        return placements

    def put_stream(self, pieces: Iterable[bytes | bytearray | memoryview]) -> StoredBlob:
        """Store content of any size from an iterable in constant memory.

        If the iterable raises, nothing is stored and the exception propagates.
        Raises BlobStoreError.
        """
        hasher = self.key.hasher()
        size = 0
        with self.store.writer() as out:
            sealer = _SealingWriter(self.key, out)
            for piece in pieces:
                view = _bytes_view(piece)
                hasher.update(view)
                sealer.write(view)
                size += len(view)
            blob_id = hasher.hexdigest()
            sealer.close(blob_id)
            stored = out.commit(self.name_of(blob_id))
        return StoredBlob(blob_id, size, stored)

    def get(self, blob_id: str, at: Placement | None = None) -> Iterator[bytes]:
        """Stream the plaintext, every byte authenticated before it is released; ``at``: the
        blob is in a pack, there.

        Raises BlobNotFound at once, BlobCorrupt (before the first byte if the blob was cut,
        extended or swapped; where the damage is if it was altered), BlobStoreError.
        """
        if at is not None:
            name = self.name_of(at.pack_id)
            sealed = self.store.read_range(name, at.offset, at.stored_size)
            return self._plaintext(f"{name}@{at.offset}", blob_id, _SealedBytes(sealed))
        name = self.name_of(blob_id)
        return self._plaintext(name, blob_id, self.store.open(name, tail=HEADER_SIZE + SEALED))

    def read(self, blob_id: str, at: Placement | None = None) -> bytes:
        return b"".join(self.get(blob_id, at))

    def exists(self, blob_id: str) -> bool:
        return self.store.exists(self.name_of(blob_id))

    def delete(self, blob_id: str) -> bool:
        return self.store.delete(self.name_of(blob_id))

    def verify(self, blob_id: str, at: Placement | None = None) -> int:
        """Read and check a whole blob, recomputing its id; return its plaintext size.

        Raises BlobNotFound, BlobCorrupt, BlobStoreError.
        """
        hasher = self.key.hasher()
        size = 0
        for piece in self.get(blob_id, at):
            hasher.update(piece)
            size += len(piece)
        if not hmac.compare_digest(hasher.hexdigest(), blob_id):
            raise BlobCorrupt(f"blob {self.name_of(blob_id)} does not match its id")
        return size

    def _plaintext(self, name: str, blob_id: str, reader: BlobReader) -> Iterator[bytes]:
        with reader:
            layout = _Layout.of(reader.size)
            if layout is None:
                raise BlobCorrupt(f"blob {name} is truncated or extended ({reader.size} bytes)")
            tail = memoryview(reader.tail)
            single = layout.segments == 1  # then the tail is the whole blob
            header = bytes(tail[:HEADER_SIZE]) if single else reader.read(0, HEADER_SIZE)
            if header[: len(MAGIC)] != MAGIC:
                raise BlobCorrupt(f"blob {name} has an unknown format")
            opener = _Opener(self.key.blob_cipher(header[len(MAGIC) :]), name, header)
            # Checked first: it binds this object to its id and size (see the module docstring).
            last = opener.open(
                tail[len(tail) - (reader.size - layout.last_start) :],
                layout.segments - 1,
                final=True,
                aad=bytes.fromhex(blob_id),
            )
            if not single:
                yield from opener.segments(reader.stream(HEADER_SIZE, layout.last_start, SEALED))
            if last:
                yield last


class _SealedBytes(BlobReader):
    """A packed blob's sealed bytes, already read, as a reader of a blob of its own."""

    def __init__(self, sealed: bytes) -> None:
        self._sealed = memoryview(sealed)
        self.size = len(sealed)
        self.tail = sealed[-(HEADER_SIZE + SEALED) :]

    def stream(self, start: int, end: int, chunk: int = SEALED) -> Iterator[bytes]:
        for at in range(start, end, chunk):
            yield bytes(self._sealed[at : min(end, at + chunk)])


class _Opener:
    """Authenticates and decrypts the segments of one blob, in order."""

    def __init__(self, aead: AESGCM, name: str, header: bytes) -> None:
        self._aead = aead
        self._name = name
        self._header = header

    def open(
        self, sealed: bytes | bytearray | memoryview, index: int, *, final: bool, aad: bytes = b""
    ) -> bytes:
        try:
            return self._aead.decrypt(_nonce(index, final), sealed, self._header + aad)
        except InvalidTag:
            raise BlobCorrupt(
                f"blob {self._name} is damaged, truncated or not this blob "
                f"(segment {index} fails authentication)"
            ) from None

    def segments(self, raw: Iterator[bytes]) -> Iterator[bytes]:
        """The plaintext of the non-final segments streamed in ``raw``."""
        index = 0
        buffer = bytearray()
        for piece in raw:
            if not buffer and len(piece) == SEALED:  # the usual case: one piece, one segment
                yield self.open(piece, index, final=False)
                index += 1
                continue
            buffer += piece
            while len(buffer) >= SEALED:
                yield self.open(buffer[:SEALED], index, final=False)
                del buffer[:SEALED]
                index += 1
        if buffer:
            raise BlobCorrupt(f"blob {self._name} has a partial segment {index}")


__all__ = ["BlobCorrupt", "BlobNotFound", "Placement", "StoredBlob", "Vault", "VaultKey"]
