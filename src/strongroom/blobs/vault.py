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
``SEGMENT``.  The final flag in the nonce makes truncation at a segment boundary detectable, the
id in the last segment's associated data binds the content to its name (borg's ``assert_id``),
and the per-blob salt keeps two writes of the same content from sharing a keystream.  Reads
verify every tag before releasing a segment and recompute the id at the end: a mismatch raises
:class:`BlobCorrupt`, never returns wrong bytes.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import blake3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.blobs.base import BlobNotFound, BlobStore, BlobWriter, validate_name
from strongroom.errors import ServiceUnavailable

MAGIC = b"SRB1"
SALT_SIZE = 16
HEADER_SIZE = len(MAGIC) + SALT_SIZE
SEGMENT = 1024 * 1024
TAG = 16
_ID_SIZE = 32
_THREADED_HASH_FROM = 4 * 1024 * 1024


class BlobCorrupt(ServiceUnavailable):
    """A stored blob failed authentication or its id check: it was damaged or tampered with."""

    slug = "blob-corrupt"
    title = "Stored content is damaged"


def _hkdf(key: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


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

    def hasher(self) -> blake3.blake3:
        """A keyed BLAKE3 hasher: feed it plaintext, its hex digest is the blob id."""
        return blake3.blake3(key=self._id_key, max_threads=blake3.blake3.AUTO)

    def blob_id(self, data: bytes | memoryview) -> str:
        threads = blake3.blake3.AUTO if len(data) >= _THREADED_HASH_FROM else 1
        return blake3.blake3(data, key=self._id_key, max_threads=threads).hexdigest()

    def blob_cipher(self, salt: bytes) -> AESGCM:
        return AESGCM(_hkdf(self._enc_root, b"strongroom/blob/v1", salt))


@dataclass(frozen=True)
class StoredBlob:
    blob_id: str
    size: int
    stored_size: int


class _SealingWriter:
    """Encrypts plaintext segment by segment into a store writer (one segment of look-ahead)."""

    def __init__(self, key: VaultKey, out: BlobWriter) -> None:
        salt = secrets.token_bytes(SALT_SIZE)
        self.header = MAGIC + salt
        self._aead = key.blob_cipher(salt)
        self._out = out
        self._pending = bytearray()
        self._index = 0
        out.write(self.header)

    def write(self, data: bytes | memoryview) -> None:
        self._pending += data
        if len(self._pending) > SEGMENT:
            view = memoryview(self._pending)
            done = 0
            # Keep at least one byte back: the last segment is only known at close.
            while len(self._pending) - done > SEGMENT:
                self._seal(view[done : done + SEGMENT], final=False)
                done += SEGMENT
            view.release()
            del self._pending[:done]

    def _seal(self, plain: bytes | memoryview, *, final: bool, blob_id: bytes = b"") -> None:
        aad = self.header + blob_id
        self._out.write(self._aead.encrypt(_nonce(self._index, final), plain, aad))
        self._index += 1

    def close(self, blob_id: str) -> None:
        self._seal(bytes(self._pending), final=True, blob_id=bytes.fromhex(blob_id))
        self._pending.clear()


class Vault:
    """Encrypting, verifying access to one account's blobs in a store."""

    def __init__(self, store: BlobStore, key: VaultKey) -> None:
        self.store = store
        self.key = key

    def name_of(self, blob_id: str) -> str:
        return validate_name(f"{self.key.namespace}/{blob_id}")

    def put(self, data: bytes | memoryview) -> StoredBlob:
        """Store content held in memory (its id is computed first).  Raises BlobStoreError."""
        blob_id = self.key.blob_id(data)
        name = self.name_of(blob_id)
        with self.store.writer(name) as out:
            sealer = _SealingWriter(self.key, out)
            view = memoryview(data)
            for start in range(0, len(view), SEGMENT):
                sealer.write(view[start : start + SEGMENT])
            sealer.close(blob_id)
            stored = out.commit(name)
        return StoredBlob(blob_id, len(data), stored)

    def put_stream(self, pieces: Iterable[bytes | memoryview]) -> StoredBlob:
        """Store content of any size from an iterable in constant memory.

        Raises BlobStoreError.
        """
        hasher = self.key.hasher()
        size = 0
        with self.store.writer() as out:
            sealer = _SealingWriter(self.key, out)
            for piece in pieces:
                hasher.update(piece)
                sealer.write(piece)
                size += len(piece)
            blob_id = hasher.hexdigest()
            sealer.close(blob_id)
            stored = out.commit(self.name_of(blob_id))
        return StoredBlob(blob_id, size, stored)

    def get(self, blob_id: str) -> Iterator[bytes]:
        """Stream the plaintext, verified.

        Raises BlobNotFound at once, BlobCorrupt while reading.
        """
        name = self.name_of(blob_id)
        return self._open(name, blob_id, self.store.get(name))

    def read(self, blob_id: str) -> bytes:
        return b"".join(self.get(blob_id))

    def exists(self, blob_id: str) -> bool:
        return self.store.exists(self.name_of(blob_id))

    def delete(self, blob_id: str) -> bool:
        return self.store.delete(self.name_of(blob_id))

    def verify(self, blob_id: str) -> int:
        """Read and check a whole blob; return its plaintext size.

        Raises BlobNotFound, BlobCorrupt.
        """
        return sum(len(piece) for piece in self.get(blob_id))

    def _open(self, name: str, blob_id: str, raw: Iterator[bytes]) -> Iterator[bytes]:
        buffer = bytearray()
        hasher = self.key.hasher()
        aead: AESGCM | None = None
        header = b""
        index = 0
        whole = SEGMENT + TAG
        for piece in raw:
            buffer += piece
            if aead is None:
                if len(buffer) < HEADER_SIZE:
                    continue
                header = bytes(buffer[:HEADER_SIZE])
                if header[:4] != MAGIC:
                    raise BlobCorrupt(f"blob {name} has an unknown format")
                aead = self.key.blob_cipher(header[4:])
                del buffer[:HEADER_SIZE]
            while len(buffer) > whole:  # more follows, so this segment is not the last
                plain = self._decrypt(aead, name, index, bytes(buffer[:whole]), header, False)
                del buffer[:whole]
                hasher.update(plain)
                index += 1
                yield plain
        if aead is None or len(buffer) < TAG:
            raise BlobCorrupt(f"blob {name} is truncated")
        plain = self._decrypt(
            aead, name, index, bytes(buffer), header + bytes.fromhex(blob_id), True
        )
        hasher.update(plain)
        if not hmac.compare_digest(hasher.hexdigest(), blob_id):
            raise BlobCorrupt(f"blob {name} does not match its id")
        if plain:
            yield plain

    @staticmethod
    def _decrypt(
        aead: AESGCM, name: str, index: int, sealed: bytes, aad: bytes, final: bool
    ) -> bytes:
        try:
            return aead.decrypt(_nonce(index, final), sealed, aad)
        except InvalidTag:
            raise BlobCorrupt(
                f"blob {name} is damaged or truncated (segment {index} fails authentication)"
            ) from None


__all__ = ["BlobCorrupt", "BlobNotFound", "StoredBlob", "Vault", "VaultKey"]
