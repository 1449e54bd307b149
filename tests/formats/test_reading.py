"""Reading in a child process: records arrive whole and prepared, the reader runs ahead of a
busy caller, and a reader that dies or a caller that stops early leaves nothing running."""

from __future__ import annotations

import base64
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from strongroom.formats import READERS, BadInput, ReadOptions, reading
from strongroom.messages.preparing import TAIL_COLUMNS, RowSettings, as_ready, settings_key
from strongroom.messages.records import InlineContent, MessageRecord
from tests.formats.builders import mms, part, sms, smses, write

T0 = 1_700_000_000_000


def sbr(tmp_path: Path, n: int) -> Path:
    return write(
        tmp_path / "sms.xml",
        smses(*(sms(body=f"message {i} " + "x" * 200, date=str(T0 + i)) for i in range(n))),
    )


def pumps() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "strongroom-reading")


def eventually(check: object, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return True
        time.sleep(0.05)
    return False


def gone(pid: int) -> bool:
    """The process ended (a zombie not yet waited for counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def test_every_record_arrives_in_order_and_prepared(tmp_path: Path) -> None:
    path = sbr(tmp_path, 1200)
    options = ReadOptions(owner_numbers=("+15550100099",), scratch=tmp_path)
    with reading.batches(READERS["sbr-xml"], path, options, in_child=True) as source:
        records = [r for batch in source.batches for r in batch]
    assert [r.body for r in records if isinstance(r, MessageRecord)] == [
        f"message {i} " + "x" * 200 for i in range(1200)
    ]
    assert all(isinstance(r, MessageRecord) and r.prepared is not None for r in records)
    assert pumps() == 0


def test_told_how_the_reading_process_makes_each_row_of_a_message_without_parts(
    tmp_path: Path,
) -> None:
    """With RowSettings in the options, a message without parts comes ready, as a plain tuple,
    with its row made (SQLite's encoding: 0/1, a bytearray, the marks for NULL) under settings
    naming them; one with parts comes as its record, without a row (its row waits for its parts
    to be stored)."""
    picture = base64.b64encode(b"\x89PNG" + b"p" * 64).decode()
    path = write(
        tmp_path / "sms-rows.xml",
        smses(
            sms(body="no subject", date="1700000000000", date_sent="0"),
            sms(body="with one", date="1700000001000", subject="Hi", date_sent="1700000000500"),
            mms([part(ct="image/png", name="p.png", data=picture)], [("+15550100001", 137)]),
        ),
    )
    rows = RowSettings((0, ""), "sbr-xml")
    options = ReadOptions(scratch=tmp_path, rows=rows)
    with reading.batches(READERS["sbr-xml"], path, options, in_child=True) as source:
        handed = [r for batch in source.batches for r in batch]
    assert [type(r) for r in handed] == [tuple, tuple, MessageRecord]
    plain, subject = (as_ready(r) for r in handed[:2])  # type: ignore[arg-type]
    assert isinstance(handed[2], MessageRecord)
    with_picture = handed[2].prepared
    assert with_picture is not None
    columns = dict(zip(TAIL_COLUMNS, plain.tail, strict=True))
    assert columns["body"] == "no subject" and columns["source"] == "sbr-xml"
    assert (columns["subject"], columns["date_sent"], columns["read"]) == (0, "", 1)
    assert columns["fingerprint"] == bytearray(plain.fingerprint)
    assert type(columns["fingerprint"]) is bytearray
    columns = dict(zip(TAIL_COLUMNS, subject.tail, strict=True))
    assert (columns["subject"], columns["date_sent"]) == ("Hi", 1700000000500)
    assert with_picture.tail is None
    assert plain.settings == settings_key("US", (), rows) != settings_key("US", ())


def test_the_reader_keeps_reading_while_the_caller_is_busy(tmp_path: Path) -> None:
    path = sbr(tmp_path, 3000)  # fewer records than the queue holds
    size = path.stat().st_size
    with reading.batches(READERS["sbr-xml"], path, ReadOptions(), in_child=True) as source:
        first = next(source.batches)
        # The caller holds on to its first batch: the reader goes on to the end of the file.
        assert eventually(lambda: gone(source.pid) or (source.position() or 0) >= size)
        rest = [r for batch in source.batches for r in batch]
    assert len(first) + len(rest) == 3000


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs Linux's /proc")
def test_the_pipe_from_the_reader_is_widened(tmp_path: Path) -> None:
    """The pump drains the pipe only when it wins the interpreter lock: a default 64 KiB pipe
    stopped the reader a fifth of the way into a hand-over whenever the caller ran Python."""
    import fcntl

    path = sbr(tmp_path, 3000)
    with reading.batches(READERS["sbr-xml"], path, ReadOptions(), in_child=True) as source:
        try:  # the reader's end of the pipe, seen through /proc (the reader may already be done)
            writer = os.open(f"/proc/{source.pid}/fd/1", os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            pytest.skip("the reader finished before its pipe could be looked at")
        try:
            assert fcntl.fcntl(writer, fcntl.F_GETPIPE_SZ) >= 1 << 20
        finally:
            os.close(writer)
        assert sum(len(batch) for batch in source.batches) == 3000


def test_a_caller_that_stops_early_leaves_no_reader_behind(tmp_path: Path) -> None:
    path = sbr(tmp_path, 20_000)
    with reading.batches(READERS["sbr-xml"], path, ReadOptions(), in_child=True) as source:
        next(source.batches)
        pid = source.pid
    assert eventually(lambda: gone(pid) and pumps() == 0)


def test_a_reader_started_early_is_the_one_that_reads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "CHILD_ABOVE", 0)
    path, other = sbr(tmp_path, 1000), write(tmp_path / "b.xml", smses(sms(body="b")))
    reading.start_early(READERS["sbr-xml"], path)
    (early,) = reading._early.values()
    assert not gone(early.pid)  # loading its modules, then waiting for its options
    with reading.batches(READERS["sbr-xml"], other, ReadOptions(), in_child=True) as source:
        assert source.pid != early.pid  # another file: a process of its own
        assert [r.body for batch in source.batches for r in batch] == ["b"]
    with reading.batches(READERS["sbr-xml"], path, ReadOptions(), in_child=True) as source:
        assert source.pid == early.pid
        assert sum(len(batch) for batch in source.batches) == 1000
    assert not reading._early and eventually(lambda: gone(early.pid) and pumps() == 0)


def test_a_reader_started_early_and_never_used_ends_quietly(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "CHILD_ABOVE", 0)
    reading.start_early(READERS["sbr-xml"], sbr(tmp_path, 10))
    child = reading._early.popitem()[1]
    child.stdin.close()  # what it sees when the caller ended without needing it
    assert child.wait(30) == 0
    assert child.stdout.read() == b""  # nothing sent, and no traceback (stderr is the test's)
    child.stdout.close()


def test_small_files_are_read_in_this_process(tmp_path: Path) -> None:
    reading.start_early(READERS["sbr-xml"], sbr(tmp_path, 10))
    assert not reading._early


def test_a_reader_that_dies_is_a_clear_error(tmp_path: Path) -> None:
    path = sbr(tmp_path, 20_000)
    with pytest.raises(BadInput, match="sms.xml: the reader stopped unexpectedly"):
        with reading.batches(READERS["sbr-xml"], path, ReadOptions(), in_child=True) as source:
            next(source.batches)
            os.kill(source.pid, signal.SIGKILL)
            for _ in source.batches:
                pass
    assert eventually(lambda: pumps() == 0)


def test_a_reader_stopped_and_continued_loses_nothing(tmp_path: Path) -> None:
    """Ctrl-Z and ``fg`` (or a profiler's pauses) while the reader is blocked writing: every
    record still arrives, in order (buffered pipe objects on both ends lost step here)."""
    n = 40_000
    path = sbr(tmp_path, n)
    bodies: list[str] = []
    with reading.batches(READERS["sbr-xml"], path, ReadOptions(), in_child=True) as source:
        pid = source.pid
        for i, batch in enumerate(source.batches):
            bodies += [r.body for r in batch if isinstance(r, MessageRecord)]
            if i % 4 == 0 and not gone(pid):
                try:
                    os.kill(pid, signal.SIGSTOP)
                    time.sleep(0.002)
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            time.sleep(0.002)  # a busy caller: the pipe fills and the reader blocks in write
    assert bodies == [f"message {i} " + "x" * 200 for i in range(n)]


def test_a_hand_over_carries_a_bounded_amount_of_attachments_in_memory(tmp_path: Path) -> None:
    """Small attachments travel inside hand-overs, up to a budget; the rest go by file, so the
    queue's memory is bounded whatever the file holds (here, every record a 200 KiB picture)."""
    pictures = [bytes([i]) * 200_000 for i in range(60)]
    records = [
        mms(
            [part(ct="image/jpeg", name=f"{i}.jpg", text="null",
                  data=base64.b64encode(p).decode())],
            [("+15550100001", 137)],
            date=str(T0 + i * 1000),
        )
        for i, p in enumerate(pictures)
    ]  # fmt: skip
    path = write(tmp_path / "pictures.xml", smses(*records))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    got: list[bytes] = []
    kinds: set[str] = set()
    with reading.batches(
        READERS["sbr-xml"], path, ReadOptions(scratch=scratch), in_child=True
    ) as source:
        for batch in source.batches:
            held = [
                p.content
                for r in batch
                if isinstance(r, MessageRecord)
                for p in r.parts
                if isinstance(p.content, InlineContent)
            ]
            assert sum(c.size for c in held) <= reading.INLINE_PER_HANDOVER
            for r in batch:
                assert isinstance(r, MessageRecord)
                got += [p.content.read() for p in r.parts]
                for p in r.parts:
                    kinds.add(type(p.content).__name__)
                    p.content.discard()
    assert got == pictures
    assert kinds == {"InlineContent", "FileContent"}
    assert not any(scratch.iterdir())


def test_the_collector_waits_for_a_pile_of_new_objects_and_still_frees_cycles() -> None:
    """While records stream, objects alive in flight (fewer than the pile) are not scanned, and
    cyclic garbage is still freed once it piles up; the collector's thresholds come back after."""
    import gc
    import weakref

    class Node:
        pass

    before = gc.get_threshold()
    with reading.fewer_collections():
        assert gc.get_threshold()[0] == reading.YOUNG_PILE
        first = Node()
        first.me = first  # a cycle: reference counting alone never frees it
        gone = weakref.ref(first)
        del first
        for _ in range(reading.YOUNG_PILE + 1000):  # more cycles, until a collection runs
            node = Node()
            node.me = node
        del node
        assert gone() is None
    assert gc.get_threshold() == before
    # Two imports of one process (a server's jobs) that overlap: the settings come back when
    # the last one ends, whichever began first.
    first, second = reading.fewer_collections(), reading.fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == reading.YOUNG_PILE  # the second is still running
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
