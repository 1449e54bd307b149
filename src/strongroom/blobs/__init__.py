"""Encrypted, content-addressed storage of bytes: the seam (:class:`BlobStore`), its backends,
and the per-account :class:`Vault` that encrypts and names content.

``open_store(url)`` picks a backend by URL: a folder path or ``file:///path``, ``s3://bucket/prefix``
or ``memory://``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from strongroom.blobs.base import (
    BlobInfo,
    BlobNotFound,
    BlobReader,
    BlobStore,
    BlobStoreError,
    BlobWriter,
    validate_name,
)
from strongroom.blobs.vault import BlobCorrupt, Vault, VaultKey
from strongroom.errors import InvalidInput

__all__ = [
    "BlobCorrupt",
    "BlobInfo",
    "BlobNotFound",
    "BlobReader",
    "BlobStore",
    "BlobStoreError",
    "BlobWriter",
    "Vault",
    "VaultKey",
    "open_store",
    "validate_name",
]


def open_store(url: str, *, s3_endpoint_url: str | None = None) -> BlobStore:
    """The store a ``STRONGROOM_BLOBS`` value names.  Raises InvalidInput for an unknown scheme."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        from strongroom.blobs.local import LocalBlobStore

        return LocalBlobStore(Path(unquote(parsed.path) if parsed.scheme else url))
    if parsed.scheme == "s3":
        from strongroom.blobs.s3 import S3BlobStore

        return S3BlobStore(url, endpoint_url=s3_endpoint_url)
    if parsed.scheme == "memory":
        from strongroom.blobs.memory import MemoryBlobStore

        return MemoryBlobStore()
    raise InvalidInput(f"unknown blob store {url!r}: use a folder, s3://bucket/prefix or memory://")
