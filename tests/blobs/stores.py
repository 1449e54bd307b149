"""Builders for the blob-store tests: stores, names, and what a store left behind."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from strongroom.blobs import BlobStore, open_store
from strongroom.blobs.local import LocalBlobStore
from strongroom.blobs.s3 import S3BlobStore

BACKENDS = ["local", "memory", "s3"]
MiB = 1024 * 1024


def make_store(backend: str, tmp_path: Path, s3_url: str = "", s3_endpoint: str = "") -> BlobStore:
    """A store of ``backend``, chosen by URL the way the settings choose one."""
    if backend == "local":
        return open_store(f"file://{tmp_path / 'blobs'}")
    if backend == "memory":
        return open_store("memory://")
    return open_store(s3_url, s3_endpoint_url=s3_endpoint)


def name(namespace: str = "a0a0a0a0", ident: str | None = None) -> str:
    return f"{namespace}/{ident or secrets.token_hex(16)}"


def random_bytes(size: int) -> bytes:
    """Random bytes: no two pieces alike, so a misplaced piece cannot go unnoticed."""
    return os.urandom(size)


def leftovers(store: BlobStore) -> list[str]:
    """Everything the store's storage holds that is not a listed object: temporary files,
    staging objects and unfinished multipart uploads."""
    listed = {info.name for info in store.list()}
    if isinstance(store, LocalBlobStore):
        found = []
        for dirpath, _, filenames in os.walk(store.root):
            for fn in filenames:
                rel = (Path(dirpath) / fn).relative_to(store.root).as_posix()
                parts = rel.split("/")
                if not (len(parts) == 4 and f"{parts[0]}/{parts[3]}" in listed):
                    found.append(rel)
        return sorted(found)
    if isinstance(store, S3BlobStore):
        s3 = store.client
        keys = [
            obj["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=store.bucket)
            for obj in page.get("Contents", [])
        ]
        uploads = s3.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
        return sorted(
            [k for k in keys if k[len(store.prefix) :] not in listed]
            + [f"upload:{u['Key']}" for u in uploads]
        )
    return []
