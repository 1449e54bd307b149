"""Encryption and content addressing on top of every store: round trips, deduplication, account
separation, and damage of every kind detected before any wrong byte is released."""

from __future__ import annotations

import errno
import os
import tracemalloc
from collections.abc import Callable

import pytest

from strongroom.blobs import BlobCorrupt, BlobNotFound, BlobStore, BlobStoreError, Vault, VaultKey
from strongroom.blobs.base import BadBlobName
from strongroom.blobs.local import LocalBlobStore
from strongroom.blobs.vault import HEADER_SIZE, SEALED, SEGMENT, TAG, Placement, _SealingWriter
from tests.blobs.stores import MiB, random_bytes
from tests.blobs.test_local import failing_store

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


def test_a_pack_holds_many_blobs_each_read_and_checked_on_its_own(store: BlobStore) -> None:
    vault = new_vault(store)
    pieces = [random_bytes(n) for n in (0, 1, 300_000, SEGMENT, SEGMENT + 7)]
    placed = vault.put_pack([(vault.key.blob_id(p), p) for p in pieces])

    assert len({at.pack_id for at in placed}) == 1
    assert [i.name for i in store.list()] == [vault.name_of(placed[0].pack_id)]
    assert store.size(vault.name_of(placed[0].pack_id)) == sum(at.stored_size for at in placed)
    assert [at.offset for at in placed] == [
        sum(a.stored_size for a in placed[:i]) for i in range(len(placed))
    ]
    for piece, at in zip(pieces, placed, strict=True):
        assert vault.read(vault.key.blob_id(piece), at) == piece
        assert vault.verify(vault.key.blob_id(piece), at) == len(piece)
    # A place that holds another blob, or a blob named wrongly, is refused, not returned.
    first, second = placed[2], placed[3]
    with pytest.raises(BlobCorrupt):
        vault.read(vault.key.blob_id(pieces[2]), second)
    with pytest.raises(BlobCorrupt):
        vault.read(vault.key.blob_id(pieces[3]), first)


def test_damage_inside_a_pack_is_found_for_that_blob_only(store: BlobStore) -> None:
    vault = new_vault(store)
    pieces = [random_bytes(200_000 + i) for i in range(3)]
    placed = vault.put_pack([(vault.key.blob_id(p), p) for p in pieces])
    name = vault.name_of(placed[0].pack_id)
    raw = bytearray(store.read(name))
    raw[placed[1].offset + placed[1].stored_size // 2] ^= 0x01
    store.put(name, bytes(raw))

    assert vault.read(vault.key.blob_id(pieces[0]), placed[0]) == pieces[0]
    assert vault.read(vault.key.blob_id(pieces[2]), placed[2]) == pieces[2]
    with pytest.raises(BlobCorrupt):
        vault.read(vault.key.blob_id(pieces[1]), placed[1])
    cut = Placement(placed[2].pack_id, placed[2].offset, placed[2].stored_size + 1)
    with pytest.raises(BlobStoreError):  # reaches past the end of the pack
        vault.read(vault.key.blob_id(pieces[2]), cut)


def test_a_pack_that_fails_while_written_leaves_nothing(tmp_path) -> None:
    store, _ = failing_store(tmp_path, 500_000, errno.ENOSPC)  # the disk fills in the 2nd blob
    vault = new_vault(store)
    pieces = [random_bytes(400_000) for _ in range(3)]
    with pytest.raises(BlobStoreError, match="the disk is full"):
        vault.put_pack([(vault.key.blob_id(p), p) for p in pieces])
    assert list(store.list()) == []
    assert list(store.tmp.iterdir()) == []
