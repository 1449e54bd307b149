"""Encryption and content addressing on top of every store: round trips, deduplication, account
separation, and damage of every kind detected before any wrong byte is released."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable

import pytest

from strongroom.blobs import BlobCorrupt, BlobNotFound, BlobStore, Vault, VaultKey
from strongroom.blobs.base import BadBlobName
from strongroom.blobs.local import LocalBlobStore
from strongroom.blobs.vault import HEADER_SIZE, SEALED, SEGMENT, TAG, _SealingWriter
from tests.blobs.stores import MiB, random_bytes

SIZES = [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 5]


def new_vault(store: BlobStore, namespace: str = "c3c3c3c3c3c3c3c3") -> Vault:
    return Vault(store, VaultKey(os.urandom(32), namespace))


def in_pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def released_before_error(vault: Vault, blob_id: str) -> bytes:
    """What a reader got before the BlobCorrupt it must run into."""
    got = bytearray()
    with pytest.raises(BlobCorrupt):
        for piece in vault.get(blob_id):
            got += piece
    return bytes(got)


def tamper(vault: Vault, blob_id: str, change: Callable[[bytes], bytes]) -> None:
    name = vault.name_of(blob_id)
    vault.store.put(name, change(vault.store.read(name)))


@pytest.mark.parametrize("size", SIZES)
def test_put_and_put_stream_round_trip_under_one_id(store: BlobStore, size: int) -> None:
    vault = new_vault(store)
    data = random_bytes(size)

    whole = vault.put(data)
    streamed = vault.put_stream(in_pieces(data, 300_001))
    one_piece = vault.put_stream([data])

    assert whole.blob_id == streamed.blob_id == one_piece.blob_id
    assert whole.size == size
    assert whole.stored_size == store.size(vault.name_of(whole.blob_id))
    assert vault.read(whole.blob_id) == data
    assert vault.verify(whole.blob_id) == size
    assert len(list(store.list())) == 1


def test_bytes_bytearray_and_memoryview_give_the_same_blob(store: BlobStore) -> None:
    vault = new_vault(store)
    data = random_bytes(2 * SEGMENT + 3)

    ids = {vault.put(d).blob_id for d in (data, bytearray(data), memoryview(data))}

    assert len(ids) == 1
    assert vault.read(ids.pop()) == data


def test_a_reused_buffer_in_a_stream_is_copied_not_referenced(store: BlobStore) -> None:
    vault = new_vault(store)
    chunks = [random_bytes(700_000) for _ in range(5)]
    buffer = bytearray(700_000)

    def refilled():  # like a reader that reads into one buffer again and again
        for chunk in chunks:
            buffer[:] = chunk
            yield buffer

    stored = vault.put_stream(refilled())

    assert vault.read(stored.blob_id) == b"".join(chunks)
    assert stored.blob_id == vault.put(b"".join(chunks)).blob_id


def test_same_content_twice_is_one_blob_sealed_afresh(store: BlobStore) -> None:
    vault = new_vault(store)
    data = random_bytes(5000)
    first = vault.put(data)
    name = vault.name_of(first.blob_id)
    sealed_first = store.read(name)

    second = vault.put_stream([data])

    assert second.blob_id == first.blob_id
    assert len(list(store.list())) == 1
    assert store.read(name) != sealed_first  # a fresh salt: no keystream is ever reused
    assert vault.read(first.blob_id) == data


def test_two_accounts_storing_the_same_bytes_get_different_ids_and_ciphertexts(
    store: BlobStore,
) -> None:
    alice = new_vault(store, "a1a1a1a1a1a1a1a1")
    bob = new_vault(store, "b0b0b0b0b0b0b0b0")
    data = b"the same family photo " * 100_000

    a, b = alice.put(data), bob.put(data)

    assert a.blob_id != b.blob_id
    sealed_a = store.read(alice.name_of(a.blob_id))
    sealed_b = store.read(bob.name_of(b.blob_id))
    assert sealed_a[HEADER_SIZE:] != sealed_b[HEADER_SIZE:]
    assert alice.read(a.blob_id) == bob.read(b.blob_id) == data


def test_stored_bytes_do_not_contain_the_plaintext(store: BlobStore) -> None:
    vault = new_vault(store)
    data = b"attack at dawn; " * 200_000

    stored = vault.put(data)

    sealed = store.read(vault.name_of(stored.blob_id))
    assert b"attack at dawn" not in sealed
    assert len(sealed) == stored.stored_size


def corrupt_at(position: Callable[[int], int]) -> Callable[[bytes], bytes]:
    def change(raw: bytes) -> bytes:
        at = position(len(raw))
        return raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]

    return change


# Where to flip one bit of a 3 MiB + 5 byte blob (header, segments 0-2 full, segment 3 of
# 5 bytes), and how many plaintext bytes may correctly come out before the error.
DAMAGE = {
    "magic": (lambda n: 0, 0),
    "salt": (lambda n: 10, 0),
    "first segment": (lambda n: HEADER_SIZE + 100, 0),
    "middle segment": (lambda n: HEADER_SIZE + SEALED + SEGMENT // 2, SEGMENT),
    "tag of a middle segment": (lambda n: HEADER_SIZE + 3 * SEALED - 1, 2 * SEGMENT),
    "last segment": (lambda n: n - TAG - 2, 0),
    "last tag": (lambda n: n - 1, 0),
}


@pytest.mark.parametrize("where", DAMAGE)
def test_a_damaged_byte_anywhere_is_detected_and_no_wrong_byte_released(
    store: BlobStore, where: str
) -> None:
    position, released = DAMAGE[where]
    vault = new_vault(store)
    data = random_bytes(3 * SEGMENT + 5)
    blob_id = vault.put(data).blob_id

    tamper(vault, blob_id, corrupt_at(position))

    assert released_before_error(vault, blob_id) == data[:released]
    with pytest.raises(BlobCorrupt):
        vault.verify(blob_id)


CUTS = {
    "to nothing": lambda raw: b"",
    "inside the header": lambda raw: raw[:10],
    "after the header": lambda raw: raw[:HEADER_SIZE],
    "at a segment boundary": lambda raw: raw[: HEADER_SIZE + 2 * SEALED],
    "mid-segment": lambda raw: raw[: HEADER_SIZE + SEALED + 500],
    "by one byte": lambda raw: raw[:-1],
    "by the whole last segment": lambda raw: raw[: -(5 + TAG)],
    "extended by a tag": lambda raw: raw + bytes(TAG),
    "extended by a copy of a segment": lambda raw: raw + raw[HEADER_SIZE : HEADER_SIZE + SEALED],
    "with two segments swapped": lambda raw: (
        raw[:HEADER_SIZE]
        + raw[HEADER_SIZE + SEALED : HEADER_SIZE + 2 * SEALED]
        + raw[HEADER_SIZE : HEADER_SIZE + SEALED]
        + raw[HEADER_SIZE + 2 * SEALED :]
    ),
}


@pytest.mark.parametrize("cut", CUTS)
def test_a_cut_or_extended_blob_fails_before_releasing_anything(store: BlobStore, cut) -> None:
    vault = new_vault(store)
    blob_id = vault.put(random_bytes(3 * SEGMENT + 5)).blob_id

    tamper(vault, blob_id, CUTS[cut])

    assert released_before_error(vault, blob_id) == b""


@pytest.mark.parametrize("size", [100, 3 * SEGMENT + 5])
def test_another_blob_under_this_name_fails_before_releasing_anything(
    store: BlobStore, size: int
) -> None:
    vault = new_vault(store)
    other_account = new_vault(store, "d4d4d4d4d4d4d4d4")
    wanted = vault.put(random_bytes(size)).blob_id
    swapped_in = vault.put(random_bytes(size)).blob_id
    foreign = other_account.put(random_bytes(size)).blob_id

    for source in (vault.name_of(swapped_in), other_account.name_of(foreign)):
        store.put(vault.name_of(wanted), store.read(source))

        assert released_before_error(vault, wanted) == b""


def test_a_blob_sealed_under_a_wrong_id_is_caught_by_verify(store: BlobStore) -> None:
    # Only a writer holding the key can do this (a bug, not an attack); verify recomputes ids.
    vault = new_vault(store)
    claimed = vault.put(b"what the id says").blob_id
    with store.writer() as out:
        sealer = _SealingWriter(vault.key, out)
        sealer.write(b"something else")
        sealer.close(claimed)
        out.commit(vault.name_of(claimed))

    with pytest.raises(BlobCorrupt, match="does not match its id"):
        vault.verify(claimed)


def test_a_missing_blob_is_not_found_at_once(store: BlobStore) -> None:
    vault = new_vault(store)

    with pytest.raises(BlobNotFound):
        vault.get("ab" * 32)
    assert not vault.exists("ab" * 32)
    assert vault.delete("ab" * 32) is False


@pytest.mark.parametrize("bad", ["../../etc/passwd", "AB" * 32, "ab/cd" * 8, ""])
def test_bad_ids_are_refused(store: BlobStore, bad: str) -> None:
    vault = new_vault(store)

    with pytest.raises(BadBlobName):
        vault.get(bad)


def test_a_stream_that_fails_stores_nothing(store: BlobStore) -> None:
    vault = new_vault(store)

    def pieces():
        yield random_bytes(3 * MiB)
        raise TimeoutError("upload stalled")

    with pytest.raises(TimeoutError):
        vault.put_stream(pieces())

    assert list(store.list()) == []


def test_streaming_a_large_blob_uses_constant_memory(tmp_path) -> None:
    vault = new_vault(LocalBlobStore(tmp_path))
    piece = random_bytes(4 * MiB)

    tracemalloc.start()
    try:
        stored = vault.put_stream(piece for _ in range(32))  # 128 MiB
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        total = sum(len(p) for p in vault.get(stored.blob_id))
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert total == 128 * MiB
    assert put_peak < 8 * MiB and get_peak < 8 * MiB


def test_put_many_in_sealer_processes_stores_readable_durable_blobs(tmp_path):
    from strongroom.blobs.sealers import SealerPool

    store = LocalBlobStore(tmp_path / "blobs", sealer_processes=2)
    assert isinstance(store.sealers, SealerPool)
    vault = Vault(store, VaultKey(os.urandom(32), "ab" * 16))
    pieces = [os.urandom(300_000 + i) for i in range(8)]  # 2.3 MiB: above the batch minimum
    sizes = vault.put_many([(vault.key.blob_id(p), p) for p in pieces])
    try:
        assert store.sealers._pool is not None  # the processes did the writing
        for piece, size in zip(pieces, sizes, strict=True):
            blob_id = vault.key.blob_id(piece)
            assert vault.read(blob_id) == piece
            assert store.size(vault.name_of(blob_id)) == size
        assert list(store.tmp.iterdir()) == []  # nothing half-written left behind
    finally:
        store.sealers.close()


def test_put_many_without_sealers_or_for_a_small_batch_writes_in_this_thread(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs", sealer_processes=2)
    vault = Vault(store, VaultKey(os.urandom(32), "cd" * 16))
    small = [os.urandom(1000), os.urandom(2000)]
    assert vault.put_many([(vault.key.blob_id(p), p) for p in small])
    assert store.sealers is not None and store.sealers._pool is None  # never started
    assert [vault.read(vault.key.blob_id(p)) for p in small] == small


def test_sealer_processes_exit_when_the_server_process_is_killed(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    script = f"""
import os, sys
from pathlib import Path
from strongroom.blobs.local import LocalBlobStore
from strongroom.blobs.vault import Vault, VaultKey
if __name__ == "__main__":
    store = LocalBlobStore(Path({str(tmp_path / "blobs")!r}), sealer_processes=2)
    vault = Vault(store, VaultKey(os.urandom(32), "ef" * 16))
    pieces = [os.urandom(600_000) for _ in range(4)]
    vault.put_many([(vault.key.blob_id(p), p) for p in pieces])
    print(" ".join(str(p.pid) for p in store.sealers._pool._processes.values()), flush=True)
    sys.stdin.read()
"""
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as server:
        assert server.stdout is not None
        workers = [int(p) for p in server.stdout.readline().split()]
        assert len(workers) == 2
        server.send_signal(signal.SIGKILL)  # no shutdown: the pool cannot stop its workers
        server.wait()

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"

    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)
