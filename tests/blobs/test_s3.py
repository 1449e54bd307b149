"""The S3 backend beyond the shared contract, against a real S3 server process (moto's):
multipart uploads, interrupted writes, cleaning up after writers that died, and failures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from strongroom.blobs import BlobStoreError, Vault, VaultKey, open_store
from strongroom.blobs.s3 import S3BlobStore
from tests.blobs.stores import MiB, leftovers, name, random_bytes
from tests.servers import free_port

pytestmark = pytest.mark.s3


@pytest.fixture
def s3(s3_bucket: str, s3_endpoint: str) -> Iterator[S3BlobStore]:
    store = open_store(f"s3://{s3_bucket}/some/prefix", s3_endpoint_url=s3_endpoint)
    assert isinstance(store, S3BlobStore)
    yield store
    store.close()


def uploads(store: S3BlobStore) -> list:
    return store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])


def test_objects_live_under_the_prefix(s3: S3BlobStore) -> None:
    n = name()

    s3.put(n, b"x")

    assert s3.client.get_object(Bucket=s3.bucket, Key=f"some/prefix/{n}")["Body"].read() == b"x"


@pytest.mark.parametrize("hint", [True, False])
def test_large_objects_go_up_as_multipart_uploads(s3: S3BlobStore, hint: bool) -> None:
    data = random_bytes(17 * MiB)
    n = name()

    with s3.writer(n if hint else None) as w:
        w.write(data)
        w.commit(n)

    head = s3.client.head_object(Bucket=s3.bucket, Key=s3.key_of(n))
    assert head["ContentLength"] == len(data)
    if hint:  # uploaded straight to its key: the ETag shows the three parts
        assert head["ETag"].endswith('-3"')
    assert s3.read(n) == data
    assert leftovers(s3) == [] and uploads(s3) == []


def chunks_then_failure(total: int) -> Iterator[bytes]:
    for _ in range(total // MiB):
        yield random_bytes(MiB)
    raise ConnectionResetError("the phone went out of range")


@pytest.mark.parametrize("hint", [True, False])
def test_write_interrupted_half_way_publishes_nothing_and_aborts_the_upload(
    s3: S3BlobStore, hint: bool
) -> None:
    n = name()
    w = s3.writer(n if hint else None)
    seen_upload = False
    with pytest.raises(ConnectionResetError), w:
        for piece in chunks_then_failure(20 * MiB):
            w.write(piece)
            if len(uploads(s3)) == 1:
                seen_upload = True  # parts really went up before the failure

    assert seen_upload
    assert not s3.exists(n)
    assert uploads(s3) == []
    assert leftovers(s3) == []


def test_vault_stream_interrupted_half_way_stores_nothing(s3: S3BlobStore) -> None:
    vault = Vault(s3, VaultKey(os.urandom(32), "b2b2b2b2b2b2b2b2"))

    with pytest.raises(ConnectionResetError):
        vault.put_stream(chunks_then_failure(20 * MiB))

    assert list(s3.list()) == []
    assert uploads(s3) == [] and leftovers(s3) == []


def test_abort_stale_uploads_removes_what_dead_writers_left(s3: S3BlobStore) -> None:
    kept = name()
    s3.put(kept, b"a real blob")
    dead = s3.writer()
    dead.write(random_bytes(9 * MiB))  # one part is up; then the process dies (no abort)
    staging = f"{s3.prefix}.staging/{'0' * 32}"  # died between completing and copying
    s3.client.put_object(Bucket=s3.bucket, Key=staging, Body=b"orphan")
    assert len(uploads(s3)) == 1 and len(leftovers(s3)) == 2

    assert s3.abort_stale_uploads(older_than_s=86400 * 365 * 100) == 0
    assert s3.abort_stale_uploads(older_than_s=0) == 2

    assert uploads(s3) == [] and leftovers(s3) == []
    assert s3.read(kept) == b"a real blob"


def test_reader_refuses_an_object_replaced_while_reading(s3: S3BlobStore) -> None:
    n = name()
    s3.put(n, random_bytes(100))
    reader = s3.open(n, tail=10)
    s3.put(n, random_bytes(100))

    with pytest.raises(BlobStoreError, match="changed while being read"):
        reader.read(0, 50)


def test_an_unreachable_server_is_a_store_error(s3_bucket: str) -> None:
    dead_end = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    store = S3BlobStore(f"s3://{s3_bucket}", client=dead_end)
    n = name()

    for call in [
        lambda: store.put(n, b"x"),
        lambda: store.put(n, random_bytes(9 * MiB)),
        lambda: store.size(n),
        lambda: store.get(n),
        lambda: store.open(n, tail=10),
        lambda: list(store.list()),
        lambda: store.delete(n),
        lambda: store.abort_stale_uploads(),
    ]:
        with pytest.raises(BlobStoreError):
            call()
    store.close()


def test_a_missing_bucket_is_a_store_error(s3_endpoint: str, s3_bucket: str) -> None:
    store = open_store("s3://no-such-bucket-here/x", s3_endpoint_url=s3_endpoint)

    with pytest.raises(BlobStoreError):
        store.put(name(), b"x")
    with pytest.raises(BlobStoreError):
        list(store.list())
    store.close()


@pytest.mark.parametrize("url", ["s3://", "s3:///prefix", "http://bucket/x"])
def test_a_malformed_location_is_refused(url: str) -> None:
    with pytest.raises(BlobStoreError, match="not an S3 location"):
        S3BlobStore(url)
