"""Trash expiry and reclaiming unused chunks, with a clock the test moves."""

from __future__ import annotations

import os
import threading

import httpx
import pytest
from sqlalchemy import delete, event, func, select, update

from strongroom.accounts.keys import vault_for
from strongroom.content import reclaim
from strongroom.content import store as content
from strongroom.content.models import Chunk, Content, Pack
from strongroom.jobs import make_worker
from strongroom.jobs.storage import reclaim_all
from tests.factories import make_user, register_device, upload_bytes

MiB = 1024 * 1024


def _chunk_count(rt) -> int:
    with rt.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Chunk)))


def _blob_count(rt) -> int:
    return sum(1 for _ in rt.store.list())


def _read_chunk(rt, vault, blob_id: str) -> bytes:
    """A staged chunk's bytes, found through its row (it may be in a pack)."""
    with rt.db.read() as s:
        row = s.execute(
            select(Chunk.pack_id, Chunk.pack_offset, Chunk.stored_size).where(
                Chunk.blob_id == blob_id
            )
        ).one()
    return vault.read(blob_id, content.placement(*row))


@pytest.fixture
def alice(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        http.headers.update(register_device(http).headers)
        yield http


def test_trash_expires_after_30_days_and_the_space_comes_back(runtime, alice, clock):
    keep = upload_bytes(alice, {}, os.urandom(MiB), "keep.bin")
    doomed = upload_bytes(alice, {}, os.urandom(2 * MiB), "doomed.bin")
    stored_blobs = _blob_count(runtime)
    alice.delete(f"/api/v1/files/{doomed['id']}")
    worker = make_worker(runtime)
    clock.advance(days=29)
    worker.run_until_idle()
    assert alice.get(f"/api/v1/files/{doomed['id']}").status_code == 200  # still in the trash
    clock.advance(days=2)
    worker.run_until_idle()
    assert alice.get(f"/api/v1/files/{doomed['id']}").status_code == 404
    assert alice.get("/api/v1/usage").json()["used_bytes"] == MiB
    clock.advance(days=3)  # past the grace period of unused chunks
    worker.run_until_idle()
    assert 0 < _blob_count(runtime) < stored_blobs
    assert alice.get(f"/api/v1/files/{keep['id']}/content").status_code == 200


def _staged_long_ago(runtime, clock):
    """An account, its vault, 1 MiB of bytes and their staging, never committed, 3 days ago."""
    account = make_user(runtime)
    with runtime.db.read() as s:
        vault = vault_for(s, runtime.store, runtime.keyring, account)
    data = os.urandom(MiB)
    old = content.stage(runtime.db, vault, account, clock, [data])
    clock.advance(days=3)
    return account, vault, data, old


def test_a_chunk_an_upload_is_about_to_reference_is_never_reclaimed(runtime, clock):
    """Reclaiming and a new upload of the same bytes race; either order ends readable."""
    account, vault, data, old = _staged_long_ago(runtime, clock)
    cutoff = clock.now_ms() - 48 * 3_600_000
    # 1. the upload touches the chunk first: reclaiming leaves it alone
    again = content.stage(runtime.db, vault, account, clock, [data])
    assert reclaim.reclaim_chunks(runtime.db, runtime.store, cutoff).chunks == 0
    assert b"".join(_read_chunk(runtime, vault, c.blob_id) for c in again.chunks) == data
    # 2. reclaiming runs first: the next upload finds the chunk gone and stores it again
    clock.advance(days=3)
    assert reclaim.reclaim_chunks(runtime.db, runtime.store, clock.now_ms() - 1).chunks == len(
        old.chunks
    )
    third = content.stage(runtime.db, vault, account, clock, [data])
    with runtime.db.write() as s:
        cid = content.commit(s, account, third, clock.now_ms())
        chunks = content.chunk_list(s, cid)
    assert b"".join(content.read_range(vault, chunks)) == data


def test_chunks_staged_for_later_are_recorded_with_their_contents_or_alone(runtime, clock):
    """Staged with ``later`` (an import's batch), new chunks are written at once and recorded
    in the transaction that commits their contents; chunks whose contents are never committed
    are recorded on their own (``record_later``), so that reclaiming deletes them and their
    pack (a pack on no list would stay forever)."""
    account = make_user(runtime)
    with runtime.db.read() as s:
        vault = vault_for(s, runtime.store, runtime.keyring, account)
    blobs_before = _blob_count(runtime)
    kept, dropped = os.urandom(200_000), os.urandom(200_000)

    later = content.ChunkRecords()
    (staged,) = content.stage_many(runtime.db, vault, account, clock, [kept], later=later)
    assert _blob_count(runtime) == blobs_before + 1  # written now
    assert _chunk_count(runtime) == 0  # recorded later
    with runtime.db.write() as s:
        content.record_chunks(s, later)
        cid = content.commit(s, account, staged, clock.now_ms())
        chunks = content.chunk_list(s, cid)
    assert b"".join(content.read_range(vault, chunks)) == kept
    assert _chunk_count(runtime) == len(staged.chunks)

    never = content.ChunkRecords()
    content.stage_many(runtime.db, vault, account, clock, [dropped], later=never)
    assert _blob_count(runtime) == blobs_before + 2
    content.record_later(runtime.db, never)
    assert _chunk_count(runtime) > len(staged.chunks)  # on the list for reclaiming
    clock.advance(days=3)
    reclaim_all(runtime)  # neither content is used by a file or a message: both go
    assert _chunk_count(runtime) == 0
    assert _blob_count(runtime) == blobs_before  # the pack recorded on its own goes too


def test_bytes_staged_again_soon_are_not_touched_again(runtime, clock):
    """Staging bytes the account stored moments ago (an import's repeated picture) writes
    nothing: no touch, so no turn at the write lock.  Once the chunk's last use is older than
    a few minutes, staging touches it again, which keeps it from reclaiming."""
    account = make_user(runtime)
    with runtime.db.read() as s:
        vault = vault_for(s, runtime.store, runtime.keyring, account)
    data = os.urandom(200_000)
    first = content.stage(runtime.db, vault, account, clock, [data])
    writes: list[str] = []

    def note_writes(_conn, _cursor, statement, *_rest) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT")):
            writes.append(statement)

    def last_used() -> set[int]:
        with runtime.db.read() as s:
            return set(s.scalars(select(Chunk.last_used_at).where(Chunk.account_id == account)))

    event.listen(runtime.db.engine, "after_cursor_execute", note_writes)
    try:
        clock.advance(seconds=5 * 60)
        again = content.stage(runtime.db, vault, account, clock, [data])
        assert writes == []
        assert [c.blob_id for c in again.chunks] == [c.blob_id for c in first.chunks]
        used_before = last_used()
        clock.advance(seconds=6 * 60)  # eleven minutes since the chunk was last used
        content.stage(runtime.db, vault, account, clock, [data])
        assert writes  # touched
        assert last_used() == {clock.now_ms()} != used_before
    finally:
        event.remove(runtime.db.engine, "after_cursor_execute", note_writes)
    assert _chunk_count(runtime) == len(first.chunks)


def test_a_chunk_reclaimed_after_the_stager_looked_it_up_is_stored_again(runtime, clock):
    """The stager looks chunks up in a read and touches them only when it records the new
    ones; a chunk reclaimed in between is found gone by the touch and stored after all."""
    account, vault, data, old = _staged_long_ago(runtime, clock)
    reclaimed: list[int] = []

    def reclaim_after_the_look_up(_conn, _cursor, statement, *_rest) -> None:
        if statement.startswith("SELECT blob_id, last_used_at FROM chunks") and not reclaimed:
            cutoff = clock.now_ms() - 1
            reclaimed.append(reclaim.reclaim_chunks(runtime.db, runtime.store, cutoff).chunks)

    event.listen(runtime.db.engine, "after_cursor_execute", reclaim_after_the_look_up)
    try:
        again = content.stage(runtime.db, vault, account, clock, [data])
    finally:
        event.remove(runtime.db.engine, "after_cursor_execute", reclaim_after_the_look_up)
    assert reclaimed == [len(old.chunks)]
    assert [c.blob_id for c in again.chunks] == [c.blob_id for c in old.chunks]
    with runtime.db.write() as s:
        cid = content.commit(s, account, again, clock.now_ms())
        chunks = content.chunk_list(s, cid)
    assert b"".join(content.read_range(vault, chunks)) == data
    assert _chunk_count(runtime) == len(old.chunks)


def test_reclaiming_while_uploads_run_concurrently_loses_nothing(runtime, clock):
    account = make_user(runtime)
    with runtime.db.read() as s:
        vault = vault_for(s, runtime.store, runtime.keyring, account)
    pieces = [os.urandom(300_000) for _ in range(6)]
    for p in pieces:
        content.stage(runtime.db, vault, account, clock, [p])
    clock.advance(days=10)
    results: list[int] = []
    errors: list[BaseException] = []

    def upload(p: bytes) -> None:
        try:
            staged = content.stage(runtime.db, vault, account, clock, [p])
            with runtime.db.write() as s:
                results.append(content.commit(s, account, staged, clock.now_ms()))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=upload, args=(p,)) for p in pieces]
    reaper = threading.Thread(
        target=lambda: reclaim.reclaim_chunks(
            runtime.db, runtime.store, clock.now_ms() - 1000, batch=1
        )
    )
    for t in [*threads, reaper]:
        t.start()
    for t in [*threads, reaper]:
        t.join()
    assert not errors
    with runtime.db.read() as s:
        stored = [content.chunk_list(s, cid) for cid in results]
    assert sorted(b"".join(content.read_range(vault, c)) for c in stored) == sorted(pieces)


def _pack_count(rt) -> int:
    with rt.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Pack)))


def test_a_pack_goes_when_none_of_its_chunks_is_used_and_not_before(runtime, clock):
    account = make_user(runtime)
    with runtime.db.read() as s:
        vault = vault_for(s, runtime.store, runtime.keyring, account)
    kept, dropped = os.urandom(400_000), os.urandom(400_000)
    # One batch, one pack, holding both contents' chunks; only the first is committed.
    staged = content.stage_many(runtime.db, vault, account, clock, [kept, dropped])
    with runtime.db.write() as s:
        cid = content.commit(s, account, staged[0], clock.now_ms())
    assert _pack_count(runtime) == 1 and _blob_count(runtime) == 1
    clock.advance(days=3)
    result = reclaim.reclaim_chunks(runtime.db, runtime.store, clock.now_ms() - 1)
    assert result.chunks == len(staged[1].chunks) and result.bytes == 0  # the pack still holds one
    assert _pack_count(runtime) == 1 and _blob_count(runtime) == 1
    with runtime.db.read() as s:
        assert b"".join(content.read_range(vault, content.chunk_list(s, cid))) == kept
    with runtime.db.write() as s:
        s.execute(delete(Content).where(Content.id == cid))
    clock.advance(days=3)
    result = reclaim.reclaim_chunks(runtime.db, runtime.store, clock.now_ms() - 1)
    assert result.bytes > 800_000  # the whole pack
    assert _pack_count(runtime) == 0 and _blob_count(runtime) == 0 and _chunk_count(runtime) == 0


def test_a_pack_no_chunk_row_points_into_is_deleted_after_the_grace_period(runtime, clock):
    """Two uploads of the same new bytes both store them; the second pack is never used."""
    account = make_user(runtime)
    with runtime.db.read() as s:
        vault = vault_for(s, runtime.store, runtime.keyring, account)
    data = os.urandom(300_000)
    first = content.stage(runtime.db, vault, account, clock, [data])
    with runtime.db.write() as s:  # as if the second stager had not seen the first's rows
        s.execute(delete(Chunk))
    content.stage(runtime.db, vault, account, clock, [data])
    with runtime.db.write() as s:
        s.execute(delete(Chunk))
        s.execute(update(Pack).values(created_at=clock.now_ms()))
    content.stage(runtime.db, vault, account, clock, [data])
    assert _pack_count(runtime) == 3
    assert reclaim.reclaim_chunks(runtime.db, runtime.store, clock.now_ms() - 1).chunks == 0
    assert _pack_count(runtime) == 3  # young: a stager may be about to record its chunks
    clock.advance(days=3)
    with runtime.db.write() as s:
        s.execute(update(Chunk).values(last_used_at=clock.now_ms()))  # the chunk is in use
    reclaim.reclaim_chunks(runtime.db, runtime.store, clock.now_ms() - 1)
    assert _pack_count(runtime) == 1 and _blob_count(runtime) == 1
    assert b"".join(_read_chunk(runtime, vault, c.blob_id) for c in first.chunks) == data


def test_a_mostly_unused_pack_is_rewritten_and_its_space_freed_after_the_grace_period(
    runtime, clock
):
    """Deleting most of a batch of small files frees their space, not only when all are gone."""
    account = make_user(runtime)
    with runtime.db.read() as s:
        vault = vault_for(s, runtime.store, runtime.keyring, account)
    datas = [os.urandom(50_000 + i) for i in range(8)]  # one chunk each, one pack
    staged = content.stage_many(runtime.db, vault, account, clock, datas)
    with runtime.db.write() as s:
        kept = content.commit(s, account, staged[5], clock.now_ms())
    pack_size = sum(i.size for i in runtime.store.list())
    clock.advance(days=3)
    cutoff = clock.now_ms() - 1
    assert reclaim.reclaim_chunks(runtime.db, runtime.store, cutoff).chunks == 7
    assert 0 < reclaim.repack(runtime.db, runtime.store, cutoff, clock.now_ms()) < pack_size
    assert _pack_count(runtime) == 2  # the new one, and the old one retired
    with runtime.db.read() as s:
        chunks = content.chunk_list(s, kept)
    assert chunks[0].at is not None and chunks[0].at.offset == 0
    assert b"".join(content.read_range(vault, chunks)) == datas[5]
    clock.advance(days=3)
    with runtime.db.write() as s:  # the content stays in use (nothing refers to it in this test)
        s.execute(update(Content).values(last_used_at=clock.now_ms()))
    assert reclaim_all(runtime)["repacked_bytes"] == 0  # the new pack is full
    assert _pack_count(runtime) == 1
    assert sum(i.size for i in runtime.store.list()) < pack_size / 6
    with runtime.db.read() as s:
        assert b"".join(content.read_range(vault, content.chunk_list(s, kept))) == datas[5]
