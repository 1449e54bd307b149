"""Content-defined chunking: golden cut points, streaming equals one-shot, dedup after edits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.content.chunking import AVG_SIZE, Chunk, Chunker, gear_seed

MiB = 1024 * 1024
SECRET = bytes(range(32))


def pseudo_random(n: int, label: bytes = b"strongroom golden chunking v1") -> bytes:
    """Deterministic bytes that do not depend on Python's PRNG implementation."""
    return hashlib.shake_256(label).digest(n)


GOLDEN_DATA = pseudo_random(24 * MiB)

# Recorded with pyfastcdc 0.3.1 and AVG_SIZE = 256 KiB.  If these change, every chunk stored
# before the change stops deduplicating against new uploads: do not update them without a
# migration plan.
GOLDEN_UNKEYED = [
    0, 195451, 300229, 612908, 964692, 1450396, 1718332, 1834565, 2106174, 2428157, 3034633,
    3210585, 3565373, 3719160, 4196371, 4532192, 4988066, 5259870, 5563374, 5869563, 6471182,
    7023055, 7458605, 7720756, 7954512, 8465944, 8912644, 9138499, 9429216, 9754365, 10282251,
    10652093, 10805698, 11173382, 11647629, 12143053, 12534590, 12776618, 12893356, 13203257,
    13588975, 13977053, 14101735, 14771197, 15040518, 15321358, 15709793, 15925608, 16252914,
    16561860, 16978956, 17454102, 17587189, 17926556, 18204641, 18677389, 19055588, 19347432,
    19972343, 20176505, 20506180, 20997201, 21268687, 21614424, 21949465, 22341941, 22710535,
    23520480, 23951589, 24191468, 24276055, 24609030, 24875017,
]  # fmt: skip
GOLDEN_KEYED = [
    0, 312976, 583323, 1299901, 1590722, 1886845, 2173735, 2457224, 2720643, 3255509, 3368640,
    3736784, 4193991, 4635719, 5032868, 5229618, 5467753, 5671157, 6161508, 6239483, 6344208,
    6689348, 7057530, 7493884, 7959277, 8390477, 8598768, 8813812, 9209511, 9523139, 9759334,
    10325500, 10603657, 10814147, 10906593, 11246040, 11388752, 11679694, 11977403, 12277333,
    12653032, 12987092, 13284920, 13455284, 13572333, 14193422, 14521469, 14892794, 15252766,
    15663515, 16105962, 16576921, 16917602, 17233927, 17529786, 17881513, 18162770, 18546735,
    18725432, 19073689, 19369028, 19869870, 20200917, 20310183, 20624713, 20913642, 21188514,
    21403785, 21698367, 21843096, 22332404, 22752998, 22823739, 23571893, 23880859, 24194117,
    24477910, 24960084,
]  # fmt: skip
GOLDEN_SEED = 1086511114266310909


def stream_cut(chunker: Chunker, data: bytes, piece_sizes: list[int]) -> list[Chunk]:
    """Feed ``data`` in pieces of the given sizes, cycling through them."""
    stream = chunker.stream()
    view = memoryview(data)
    out: list[Chunk] = []
    pos, i = 0, 0
    while pos < len(data):
        size = piece_sizes[i % len(piece_sizes)]
        out += stream.feed(view[pos : pos + size])
        pos += size
        i += 1
    return out + stream.finish()


def test_unkeyed_cut_points_match_the_recorded_golden_offsets():
    assert Chunker(None).cut_offsets(GOLDEN_DATA) == GOLDEN_UNKEYED


def test_keyed_cut_points_match_the_recorded_golden_offsets():
    assert gear_seed(SECRET) == GOLDEN_SEED
    assert Chunker(SECRET).cut_offsets(GOLDEN_DATA) == GOLDEN_KEYED


def test_chunks_respect_min_and_max_size_and_cover_the_input():
    chunker = Chunker(SECRET)
    chunks = list(chunker.cut(GOLDEN_DATA))
    assert (chunker.min_size, chunker.avg_size, chunker.max_size) == (
        AVG_SIZE // 4,
        AVG_SIZE,
        AVG_SIZE * 4,
    )
    assert b"".join(c.data for c in chunks) == GOLDEN_DATA
    assert all(a.end == b.offset for a, b in zip(chunks, chunks[1:], strict=False))
    assert all(chunker.min_size <= c.length <= chunker.max_size for c in chunks[:-1])
    assert 0 < chunks[-1].length <= chunker.max_size


def test_different_secrets_cut_the_same_bytes_differently():
    a = Chunker(SECRET).cut_offsets(GOLDEN_DATA)
    b = Chunker(bytes(32)).cut_offsets(GOLDEN_DATA)
    assert a != b
    assert Chunker(SECRET).cut_offsets(GOLDEN_DATA) == a


def test_a_secret_must_have_32_bytes():
    with pytest.raises(ValueError, match="32 bytes"):
        Chunker(b"short")


def test_empty_input_is_zero_chunks():
    chunker = Chunker(SECRET)
    assert list(chunker.cut(b"")) == []
    stream = chunker.stream()
    assert stream.feed(b"") == []
    assert stream.finish() == []


@pytest.mark.parametrize("size", [1, 1000, AVG_SIZE // 4 - 1, AVG_SIZE // 4])
def test_input_up_to_the_minimum_size_is_one_chunk(size):
    data = pseudo_random(size, b"small")
    chunker = Chunker(SECRET)
    assert list(chunker.cut(data)) == [Chunk(0, data)]
    assert stream_cut(chunker, data, [7]) == [Chunk(0, data)]


@pytest.mark.parametrize("piece", [7, 4096, 65536, MiB, 3 * MiB + 17, 100 * MiB])
def test_streaming_equals_one_shot_for_fixed_piece_sizes(piece):
    data = GOLDEN_DATA if piece > 7 else GOLDEN_DATA[: 5 * MiB]
    chunker = Chunker(SECRET)
    assert stream_cut(chunker, data, [piece]) == list(chunker.cut(data))


STREAM_DATA = pseudo_random(9 * MiB, b"stream")


@settings(max_examples=40, deadline=None)
@given(
    pieces=st.lists(st.integers(1, 5 * MiB), min_size=1, max_size=8), length=st.integers(0, 9 * MiB)
)
def test_streaming_equals_one_shot_for_any_piece_sizes(pieces, length):
    data = STREAM_DATA[:length]
    chunker = Chunker(SECRET)
    assert stream_cut(chunker, data, pieces) == list(chunker.cut(data))


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=40_000), pieces=st.lists(st.integers(1, 9000), min_size=1))
def test_streaming_equals_one_shot_with_small_chunks_and_arbitrary_bytes(data, pieces):
    # A 1 KiB average puts many cut points, and the end-of-buffer cases, in little data.
    chunker = Chunker(SECRET, avg_size=1024)
    assert stream_cut(chunker, data, pieces) == list(chunker.cut(data))


def test_stream_holds_at_most_max_size_plus_one_piece():
    chunker = Chunker(SECRET)
    stream = chunker.stream()
    piece = 64 * 1024
    for pos in range(0, len(GOLDEN_DATA), piece):
        stream.feed(GOLDEN_DATA[pos : pos + piece])
        assert stream.pending < chunker.max_size
        assert len(stream._buf) <= chunker.max_size + piece


def test_stream_emits_chunks_before_the_end_of_the_file():
    chunker = Chunker(SECRET)
    stream = chunker.stream()
    emitted = stream.feed(GOLDEN_DATA[: 8 * MiB])
    assert [c.offset for c in emitted] == [o for o in GOLDEN_KEYED if o < 8 * MiB][: len(emitted)]
    assert len(emitted) >= 2
    assert stream.offset == emitted[-1].end


def test_resuming_from_the_last_cut_gives_the_same_chunks():
    chunker = Chunker(SECRET)
    first = chunker.stream()
    before = first.feed(GOLDEN_DATA[: 10 * MiB + 12345])
    resumed = chunker.stream(start_offset=first.offset)
    after = resumed.feed(GOLDEN_DATA[first.offset :]) + resumed.finish()
    assert before + after == list(chunker.cut(GOLDEN_DATA))


def test_feeding_after_finish_is_refused():
    stream = Chunker(None).stream()
    stream.finish()
    with pytest.raises(ValueError, match="finished"):
        stream.feed(b"more")


def test_editing_one_mib_in_the_middle_of_40_mib_changes_few_chunks():
    original = pseudo_random(40 * MiB, b"video")
    edited = original[: 20 * MiB] + pseudo_random(MiB, b"edit") + original[21 * MiB :]
    chunker = Chunker(SECRET)
    known = {hashlib.sha256(c.data).digest() for c in chunker.cut(original)}
    new = [c for c in chunker.cut(edited) if hashlib.sha256(c.data).digest() not in known]
    # The edit plus the chunks it straddles (1.4 MiB on average over 100 keys): never more
    # than the edit and two maximum-size chunks; everything else is found again.
    assert 1 <= len(new) <= 1 + MiB // (AVG_SIZE // 4) + 2
    assert MiB <= sum(c.length for c in new) <= 3 * MiB


def test_inserting_bytes_shifts_only_nearby_cuts():
    original = pseudo_random(16 * MiB, b"insert")
    edited = original[: 5 * MiB] + b"hello" + original[5 * MiB :]
    chunker = Chunker(SECRET)
    before = set(chunker.cut_offsets(original))
    after = {o - 5 for o in chunker.cut_offsets(edited) if o > 6 * MiB}
    assert after <= before
    assert len(after) >= 5


def test_cut_file_reads_a_file_in_pieces(tmp_path: Path):
    path = tmp_path / "blob.bin"
    path.write_bytes(GOLDEN_DATA)
    chunker = Chunker(SECRET)
    assert [c.offset for c in chunker.cut_file(path, read_size=100_000)] == GOLDEN_KEYED


@settings(max_examples=30, deadline=None)
@given(cut_short=st.integers(1024 // 4 + 1, 16 * 1024))
def test_a_cut_found_in_fewer_bytes_is_the_cut_of_the_whole(cut_short):
    # The property StreamChunker relies on, checked on the library itself.
    chunker = Chunker(SECRET, avg_size=1024)
    whole = STREAM_DATA[: 64 * 1024]
    first_of_whole = chunker.cut_offsets(whole)[1]
    first_of_prefix = next(iter(chunker.cut(whole[:cut_short]))).length
    if first_of_prefix < cut_short:
        assert first_of_prefix == first_of_whole
    else:
        assert first_of_whole >= cut_short - 1
