"""Blobs in any S3-compatible object store (AWS S3, MinIO, Ceph, Garage...), plain S3 API only.

Layout: ``s3://bucket/prefix`` keeps the object ``ns/id`` at key ``prefix/ns/id``.  Credentials
and region come from boto3's usual sources (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``); ``endpoint_url`` points at a non-AWS service.

Atomicity: objects up to one part (8 MiB) are written with one PutObject, which S3 publishes
whole or not at all.  Larger objects go up as a multipart upload, invisible until
CompleteMultipartUpload; a failed write aborts it.  When the name is only known at the end, the
upload goes to ``prefix/.staging/`` and is copied into place on commit.
``abort_stale_uploads`` removes what crashed processes left behind.

Reads of one opened object are pinned to its ETag (``If-Match``), so a reader never mixes the
bytes of two versions.  Parts are 8 MiB, so one object can hold up to 80 GB (10,000 parts).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from strongroom.blobs.base import (
    READ_SIZE,
    BlobInfo,
    BlobNotFound,
    BlobReader,
    BlobStore,
    BlobStoreError,
    BlobWriter,
    is_valid_name,
    validate_name,
    validate_prefix,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

PART_SIZE = 8 * 1024 * 1024
STAGING = ".staging/"
_MISSING = {"404", "NoSuchKey", "NotFound"}
_CHANGED = {"412", "PreconditionFailed"}
_EMPTY_RANGE = {"416", "InvalidRange"}
_CONTENT_RANGE = re.compile(r"bytes \d+-\d+/(\d+)")
_S3_ERRORS = (ClientError, BotoCoreError)


def _failure(action: str, e: Exception) -> BlobStoreError:
    return BlobStoreError(f"could not {action} in S3: {e}")


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code"))


class _S3Writer(BlobWriter):
    def __init__(self, store: S3BlobStore, name: str | None) -> None:
        self._store = store
        self._buffer = bytearray()
        self._upload_id: str | None = None
        # With the name known up front the multipart upload targets it directly (no copy).
        self._direct = store.key_of(name) if name else None
        self._staging = self._direct or f"{store.prefix}{STAGING}{secrets.token_hex(16)}"
        self._parts: list[CompletedPartTypeDef] = []
        self._size = 0

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        while view:
            if len(self._buffer) == PART_SIZE:  # more follows, so this is not the last part
                self._send_part()
            take = min(PART_SIZE - len(self._buffer), len(view))
            self._buffer += view[:take]
            view = view[take:]
            self._size += take

    def _send_part(self) -> None:
        s3, bucket = self._store.client, self._store.bucket
        try:
            if self._upload_id is None:
                created = s3.create_multipart_upload(Bucket=bucket, Key=self._staging)
                self._upload_id = created["UploadId"]
            number = len(self._parts) + 1
            sent = s3.upload_part(
                Bucket=bucket,
                Key=self._staging,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=bytes(self._buffer),
            )
        except _S3_ERRORS as e:
            raise _failure("upload a blob part", e) from None
        self._buffer.clear()
        self._parts.append({"ETag": sent["ETag"], "PartNumber": number})

    def _commit(self, name: str) -> int:
        s3, bucket, key = self._store.client, self._store.bucket, self._store.key_of(name)
        if self._direct is not None and key != self._direct:
            raise ValueError(f"this writer was started for another name than {name}")
        try:
            if self._upload_id is None:
                s3.put_object(Bucket=bucket, Key=key, Body=bytes(self._buffer))
                return self._size
            if self._buffer:
                self._send_part()
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
        except _S3_ERRORS as e:
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
        except _S3_ERRORS:
            pass  # best effort; abort_stale_uploads removes what is left


class _S3Reader(BlobReader):
    """One version of an object, identified by its ETag; ranged GETs fetch its bytes."""

    def __init__(self, store: S3BlobStore, name: str, tail: int) -> None:
        self._store = store
        self._name = name
        self._key = store.key_of(name)
        self.tail = b""
        response: Any = None
        if tail > 0:
            response = store.call(name, "read", "get_object", Range=f"bytes=-{tail}")
        if response is None:  # no tail asked for, or an empty object (HTTP 416 on AWS)
            response = store.call(name, "look up", "head_object")
        else:
            self.tail = self._body(response["Body"])
        self.etag: str = response["ETag"]
        found = _CONTENT_RANGE.fullmatch(response.get("ContentRange") or "")
        self.size = int(found.group(1)) if found else int(response["ContentLength"])

    def _body(self, body: Any) -> bytes:
        return self._store._body(self._name, body)

    def stream(self, start: int, end: int, chunk: int = READ_SIZE) -> Iterator[bytes]:
        if start >= end:
            return
        s3 = self._store.client
        received = 0
        try:
            response = s3.get_object(
                Bucket=self._store.bucket,
                Key=self._key,
                Range=f"bytes={start}-{end - 1}",
                IfMatch=self.etag,
            )
            body = response["Body"]
            try:
                for piece in body.iter_chunks(chunk):
                    received += len(piece)
                    yield piece
            finally:
                body.close()
        except ClientError as e:
            if _code(e) in _CHANGED | _MISSING:
                raise BlobStoreError(f"blob {self._name} changed while being read") from None
            raise _failure(f"read blob {self._name}", e) from None
        except BotoCoreError as e:
            raise _failure(f"read blob {self._name}", e) from None
        if received != end - start:
            raise BlobStoreError(f"blob {self._name} ended at {start + received}, before {end}")


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
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"},
                # Newer boto3 adds CRC checksums to every upload by default, which several
                # S3-compatible services reject; plain S3 only needs them where required.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def key_of(self, name: str) -> str:
        return self.prefix + validate_name(name)

    def call(self, name: str, action: str, method: str, **kwargs: Any) -> Any:
        """Call ``method`` on the object named ``name``: None for an empty range (HTTP 416).

        Raises BlobNotFound, BlobStoreError.
        """
        try:
            return getattr(self.client, method)(Bucket=self.bucket, Key=self.key_of(name), **kwargs)
        except ClientError as e:
            if _code(e) in _MISSING:
                raise BlobNotFound(f"blob {name} is missing") from None
            if "Range" in kwargs and _code(e) in _EMPTY_RANGE:
                return None
            raise _failure(f"{action} blob {name}", e) from None
        except BotoCoreError as e:
            raise _failure(f"{action} blob {name}", e) from None

    def writer(self, name: str | None = None) -> BlobWriter:
        return _S3Writer(self, name)

    def open(self, name: str, *, tail: int = 0) -> BlobReader:
        return _S3Reader(self, name, tail)

    def read_range(self, name: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        response = self.call(
            name, "read", "get_object", Range=f"bytes={start}-{start + length - 1}"
        )
        data = b"" if response is None else self._body(name, response["Body"])
        if len(data) != length:
            raise BlobStoreError(f"blob {name} ended before byte {start + length}")
        return data

    def _body(self, name: str, body: Any) -> bytes:
        try:
            return bytes(body.read())
        except _S3_ERRORS as e:
            raise _failure(f"read blob {name}", e) from None
        finally:
            body.close()

    def get(self, name: str) -> Iterator[bytes]:
        body = self.call(name, "read", "get_object")["Body"]  # one request, not open + stream
        return self._stream(body, name)

    @staticmethod
    def _stream(body: Any, name: str) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(READ_SIZE)
        except _S3_ERRORS as e:
            raise _failure(f"read blob {name}", e) from None
        finally:
            body.close()

    def size(self, name: str) -> int:
        return int(self.call(name, "look up", "head_object")["ContentLength"])

    def delete(self, name: str) -> bool:
        # S3's DeleteObject succeeds whether or not the key exists: ask first.
        if not self.exists(name):
            return False
        self.call(name, "delete", "delete_object")
        return True

    def delete_namespace(self, namespace: str) -> int:
        # Listed objects exist: one DeleteObject each, without delete()'s HeadObject.  (Not
        # DeleteObjects: it needs a checksum header some S3-compatible services refuse.)
        names = [info.name for info in self._namespace_listing(namespace)]
        for name in names:
            self.call(name, "delete", "delete_object")
        return len(names)

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        validate_prefix(prefix)
        for key, size, _ in self._objects(self.prefix + prefix):
            name = key[len(self.prefix) :]
            if is_valid_name(name):  # skips staging objects and anything foreign
                yield BlobInfo(name, size)

    def _objects(self, key_prefix: str) -> Iterator[tuple[str, int, float]]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=key_prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"], int(obj["Size"]), obj["LastModified"].timestamp()
        except _S3_ERRORS as e:
            raise _failure("list blobs", e) from None

    def abort_stale_uploads(self, older_than_s: float = 86400) -> int:
        """Abort multipart uploads, and delete staging objects, older than ``older_than_s``
        (left by processes that died while writing); return how many.

        Raises BlobStoreError.
        """
        cutoff = time.time() - older_than_s
        s3, bucket = self.client, self.bucket
        removed = 0
        try:
            pages = s3.get_paginator("list_multipart_uploads").paginate(
                Bucket=bucket, Prefix=self.prefix
            )
            for page in pages:
                for up in page.get("Uploads", []):
                    if up["Initiated"].timestamp() < cutoff:
                        s3.abort_multipart_upload(
                            Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"]
                        )
                        removed += 1
            for key, _, modified in list(self._objects(self.prefix + STAGING)):
                if modified < cutoff:
                    s3.delete_object(Bucket=bucket, Key=key)
                    removed += 1
        except _S3_ERRORS as e:
            raise _failure("clean up unfinished uploads", e) from None
        return removed

    def close(self) -> None:
        self.client.close()
