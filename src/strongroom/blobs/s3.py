"""Blobs in any S3-compatible object store (AWS S3, MinIO, Ceph, Garage...), plain S3 API only.

Layout: ``s3://bucket/prefix`` keeps the object ``ns/id`` at key ``prefix/ns/id``.  Credentials
and region come from boto3's usual sources (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``); ``endpoint_url`` points at a non-AWS service.

Atomicity: objects up to one part (8 MiB) are written with one PutObject, which S3 publishes
whole or not at all.  Larger objects go up as a multipart upload, invisible until
CompleteMultipartUpload; a failed write aborts it.  When the name is only known at the end, the
upload goes to ``prefix/.staging/`` and is copied into place on commit.
``abort_stale_uploads`` removes what crashed processes left behind.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from strongroom.blobs.base import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStoreError,
    BlobWriter,
    validate_name,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

PART_SIZE = 8 * 1024 * 1024
READ_SIZE = 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


def _failure(action: str, e: Exception) -> BlobStoreError:
    return BlobStoreError(f"could not {action} in S3: {e}")


def _is_missing(e: ClientError) -> bool:
    return str(e.response.get("Error", {}).get("Code")) in _MISSING


class _S3Writer(BlobWriter):
    def __init__(self, store: S3BlobStore, name: str | None) -> None:
        self._store = store
        self._buffer = bytearray()
        self._upload_id: str | None = None
        # With the name known up front the multipart upload targets it directly (no copy).
        self._direct = store.key_of(name) if name else None
        self._staging = self._direct or f"{store.prefix}.staging/{secrets.token_hex(16)}"
        self._parts: list[CompletedPartTypeDef] = []
        self._size = 0

    def write(self, data: bytes | memoryview) -> None:
        self._buffer += data
        self._size += len(data)
        while len(self._buffer) >= PART_SIZE:
            self._send_part(bytes(self._buffer[:PART_SIZE]))
            del self._buffer[:PART_SIZE]

    def _send_part(self, body: bytes) -> None:
        s3 = self._store.client
        try:
            if self._upload_id is None:
                created = s3.create_multipart_upload(Bucket=self._store.bucket, Key=self._staging)
                self._upload_id = created["UploadId"]
            number = len(self._parts) + 1
            sent = s3.upload_part(
                Bucket=self._store.bucket,
                Key=self._staging,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=body,
            )
        except (ClientError, BotoCoreError) as e:
            self.abort()
            raise _failure("upload a blob part", e) from None
        self._parts.append({"ETag": sent["ETag"], "PartNumber": number})

    def _commit(self, name: str) -> int:
        s3, bucket, key = self._store.client, self._store.bucket, self._store.key_of(name)
        try:
            if self._upload_id is None:
                s3.put_object(Bucket=bucket, Key=key, Body=bytes(self._buffer))
                return self._size
            if self._buffer or not self._parts:
                self._send_part(bytes(self._buffer))
                self._buffer.clear()
            s3.complete_multipart_upload(
                Bucket=bucket,
                Key=self._staging,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
            self._upload_id = None
            if self._staging != key:
                s3.copy({"Bucket": bucket, "Key": self._staging}, bucket, key)
                s3.delete_object(Bucket=bucket, Key=self._staging)
        except (ClientError, BotoCoreError) as e:
            raise _failure("store a blob", e) from None
        return self._size

    def _abort(self) -> None:
        self._buffer.clear()
        s3, bucket = self._store.client, self._store.bucket
        try:
            if self._upload_id is not None:
                s3.abort_multipart_upload(
                    Bucket=bucket, Key=self._staging, UploadId=self._upload_id
                )
            elif self._parts and self._staging != self._direct:  # completed, not copied
                s3.delete_object(Bucket=bucket, Key=self._staging)
        except (ClientError, BotoCoreError):
            pass  # best effort; abort_stale_uploads removes what is left


class S3BlobStore(BlobStore):
    def __init__(self, url: str, *, endpoint_url: str | None = None, client: Any = None) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise BlobStoreError(f"not an S3 location: {url!r} (expected s3://bucket/prefix)")
        self.url = url
        self.bucket = parsed.netloc
        path = parsed.path.strip("/")
        self.prefix = f"{path}/" if path else ""
        self.client: S3Client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    def key_of(self, name: str) -> str:
        return self.prefix + validate_name(name)

    def writer(self, name: str | None = None) -> BlobWriter:
        return _S3Writer(self, name)

    def get(self, name: str) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key_of(name))["Body"]
        except ClientError as e:
            if _is_missing(e):
                raise BlobNotFound(f"blob {name} is missing") from None
            raise _failure(f"read blob {name}", e) from None
        except BotoCoreError as e:
            raise _failure(f"read blob {name}", e) from None
        return self._stream(body, name)

    @staticmethod
    def _stream(body: Any, name: str) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(READ_SIZE)
        except (ClientError, BotoCoreError) as e:
            raise _failure(f"read blob {name}", e) from None
        finally:
            body.close()

    def size(self, name: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key_of(name))
        except ClientError as e:
            if _is_missing(e):
                raise BlobNotFound(f"blob {name} is missing") from None
            raise _failure(f"look up blob {name}", e) from None
        return int(head["ContentLength"])

    def delete(self, name: str) -> bool:
        if not self.exists(name):
            return False
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key_of(name))
        except (ClientError, BotoCoreError) as e:
            raise _failure(f"delete blob {name}", e) from None
        return True

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(self.prefix) :]
                    if not name.startswith(".staging/"):
                        yield BlobInfo(name, int(obj["Size"]))
        except (ClientError, BotoCoreError) as e:
            raise _failure("list blobs", e) from None

    def abort_stale_uploads(self, older_than_s: float = 86400) -> int:
        """Abort multipart uploads and staging objects older than ``older_than_s``."""
        cutoff = time.time() - older_than_s
        removed = 0
        uploads = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=self.prefix)
        for up in uploads.get("Uploads", []):
            if up["Initiated"].timestamp() < cutoff:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=up["Key"], UploadId=up["UploadId"]
                )
                removed += 1
        return removed

    def close(self) -> None:
        self.client.close()
