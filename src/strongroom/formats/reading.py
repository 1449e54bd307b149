"""Reading an input in batches of records, in this process or in a child process.

:func:`batches` opens a reader over a file and hands its records over in lists.  In a child
process (``python -m strongroom.formats.reading``, which imports only the formats and the
messages' preparation), parsing runs on another core while the caller stores what came before,
and each message is checked and normalised there too
(:func:`strongroom.messages.preparing.attach`).  Lists cross over a pipe, pickled, one
length-prefixed frame each; a thread of the caller takes frames off the pipe as they come into a
queue of :data:`QUEUED` frames, so the reader keeps parsing while the caller is busy storing (with
only the pipe's 64 KiB buffer between them it stalled at once, and the two ran in turn), and the
full queue holds it back, so memory stays flat whatever the size of the input.
A reader's BadInput is raised again in the caller, with its message.

:meth:`Source.position` is how far the reader has got in its file (Linux: the offset of the
reading process's descriptor), for progress bars.
"""

from __future__ import annotations

import atexit
import gc
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from strongroom.formats import READERS, BadInput, Reader, ReadOptions
from strongroom.messages.handles import normalise_many
from strongroom.messages.preparing import attach
from strongroom.messages.records import FileContent, InlineContent, MessageRecord, Record

Handed = Record | tuple[Any, ...]
"""What a reading process hands over: records, and messages made ready there as the plain tuple
of a :class:`~strongroom.messages.preparing.Ready` (see :func:`preparing.attach`)."""

BATCH = 250
"""Records per hand-over."""
INLINE_PER_HANDOVER = 2 * 1024 * 1024
"""Attachment bytes one hand-over may carry in memory (the rest go by file)."""
_SMALL = 4096
QUEUED = 24
"""Hand-overs the caller's thread may hold before the reader waits (6,000 records: an import
batch, which the reader fills while the batch before it is stored)."""
_LENGTH = 8
_PIPE_BYTES = 1 << 20
"""The pipe from the reading process is widened to this (Linux's limit for an unprivileged
process), from 64 KiB.  The pump empties it only when it wins the interpreter lock, and while the
storing thread runs Python it rarely does; a 64 KiB pipe, a fifth of a hand-over, then stopped the
reader within a frame, and the storing thread waited for it after every batch (2.8-3.4 s of a
200,000-message import; 0.7-0.9 s with 1 MiB)."""
POSITION_EVERY = 0.2
"""Seconds a read position is reused for."""
STREAMING = ("sbr-xml", "mbox", "messages-db", "eml")
"""Readers run in a child process.  The iPhone backup reader is not among them: its decrypted
attachment files live only as long as its reading does, so it runs beside the ingest."""
CHILD_ABOVE = 4 * 1024 * 1024
"""Inputs smaller than this are read in this process (a new process takes longer to start)."""


def worth_a_child(reader: Reader, path: Path) -> bool:
    """Whether ``path`` is read in a child process (see :data:`STREAMING`)."""
    if reader.name not in STREAMING:
        return False
    if path.is_dir():
        return True
    return path.stat().st_size >= CHILD_ABOVE


def _child(reader_name: str, path: str) -> None:
    """The reading process: ReadOptions come pickled on stdin; lists of records, then
    ``("end", None)`` (or ``("bad", (kind, detail))``), go to stdout pickled, each pickle
    after its length (8 bytes, little-endian)."""
    out = sys.stdout.fileno()
    sys.stdout = sys.stderr  # nothing else may write into the pipe

    def send(item: tuple[str, Any]) -> None:
        frame = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        _write_all(out, [len(frame).to_bytes(_LENGTH, "little"), frame])

    reader = READERS[reader_name]
    # Work that needs no options, done while they are on their way (see start_early); if it
    # fails, the reading does it again and reports why
    opener = getattr(reader, "open_ahead", None)
    try:
        ahead = opener(Path(path)) if opener else None
    except Exception:  # noqa: BLE001
        ahead = None
    try:
        options = pickle.load(sys.stdin.buffer)
    except EOFError:
        if ahead is not None:
            ahead.close()
        return  # started early, and not wanted after all
    try:
        with fewer_collections():
            _read(reader, path, options, send, ahead)
    except BadInput as e:
        send(("bad", (type(e).__name__, e.detail)))
    except BrokenPipeError:
        pass  # the parent stopped reading
    except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it
        send(("bad", ("BadInput", f"{Path(path).name}: cannot be read ({e})")))


def _read(
    reader: Reader,
    path: str,
    options: ReadOptions,
    send: Callable[[tuple[str, Any]], None],
    ahead: Any = None,
) -> None:
    region = options.default_region
    owner = frozenset(normalise_many(list(options.owner_numbers), region))
    batch: list[Handed] = []
    held = 0
    records = (
        reader.read(Path(path), options, ahead=ahead)  # type: ignore[call-arg]
        if ahead is not None
        else reader.read(Path(path), options)
    )
    for record in records:
        if isinstance(record, MessageRecord):
            if record.parts:
                held += _hold_or_spool(record, INLINE_PER_HANDOVER - held, options.scratch)
            batch.append(attach(record, region, owner, options.rows))  # not on the storing core
        else:
            batch.append(record)
        if len(batch) >= BATCH:
            send(("records", batch))
            batch, held = [], 0
    send(("records", batch))
    send(("end", None))


YOUNG_PILE = 600_000
"""While records stream, the cyclic collector runs only once this many more container objects
are alive than after its last run.  Records, rows and outcomes in flight keep about 230,000 alive
(a 1M-message XML file, a 200,000-row sms.db), and they are freed by reference counting; only
cyclic garbage (a little per transaction) piles up toward the limit, so it bounds that (tens of
MB at worst) while an import in the normal run of things never triggers a collection."""


class _Collections:
    """The collector's settings before the first of the imports running in this process began
    (a server may run several at once): the last to end puts them back."""

    lock = threading.Lock()
    running = 0
    before: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Keep the cyclic garbage collector out of the way while records stream through (reading,
    and storing).  Its youngest generation is scanned whenever the objects alive since its last
    scan pass a threshold, and the records in flight are such objects: at 50,000 it ran 356
    times in a 1M-message import, each scan walking the batches in flight, 4.4 s of the storing
    thread's time (and 1.7 s of the thread unpickling hand-overs) with the interpreter lock
    held.  With the threshold above what is in flight (:data:`YOUNG_PILE`) the import took 15%
    less time (with no collection at all, 13,000 objects of cyclic garbage were left at its
    end).  What existed before is frozen out of the scans."""
    with _Collections.lock:
        if _Collections.running == 0:
            _Collections.before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(YOUNG_PILE, 10, 10)
        _Collections.running += 1
    try:
        yield
    finally:
        with _Collections.lock:
            _Collections.running -= 1
            if _Collections.running == 0:
                gc.set_threshold(*_Collections.before)
                gc.unfreeze()


def _hold_or_spool(record: MessageRecord, room: int, scratch: Path | None) -> int:
    """Keep ``record``'s parts held in memory while they fit in ``room`` bytes; spool the others
    to files.  Returns the bytes kept.  Readers keep small attachments in memory; this bounds
    what one hand-over, and so the queue, holds whatever the input."""
    kept = 0
    for part in record.parts:
        content = part.content
        if isinstance(content, InlineContent) and content.size > _SMALL:
            if content.size <= room - kept:
                kept += content.size
            else:
                part.content = FileContent.spool(iter((content.data,)), scratch)
    return kept


# Frames are written and read with plain system calls, never through io's buffered objects:
# with a BufferedWriter in the reader and a BufferedReader here, a reader stopped and continued
# while its write was blocked (Ctrl-Z and fg; a profiler's pauses) left the two out of step and
# the caller read garbage lengths (reproduced on CPython 3.11; tests/formats/test_reading.py).
def _write_all(fd: int, parts: list[bytes]) -> None:
    views = [memoryview(p) for p in parts if p]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def _read_exactly(pipe: IO[bytes], size: int) -> bytearray | None:
    """``size`` bytes from ``pipe``, or None when it ends first."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    fd = pipe.fileno()
    while got < size:
        n = os.readv(fd, [view[got:]])
        if n == 0:
            return None
        got += n
    return buffer


@dataclass
class Source:
    """Batches of records from one input, and where reading has got to."""

    batches: Iterator[list[Handed]]
    pid: int
    path: Path
    ready: Callable[[], bool] = field(default=lambda: False)
    """Whether the next batch has been read already (taking it will not wait)."""
    _fd: tuple[str, str, str] | None = field(default=None, repr=False)
    """The reader's descriptor of ``path`` once found: its link, what it points to, its info."""
    _last: tuple[float, int | None] = field(default=(-1.0, None), repr=False)

    def position(self) -> int | None:
        """The reader's offset in the file (Linux), or None if unknown; read again at most
        every :data:`POSITION_EVERY` seconds (a look into /proc costs a fraction of a
        millisecond, and the caller asks after every hand-over)."""
        now = time.monotonic()
        if now - self._last[0] >= POSITION_EVERY:
            self._last = (now, self._position())
        return self._last[1]

    def _position(self) -> int | None:
        try:
            if self._fd is None or os.readlink(self._fd[0]) != self._fd[1]:
                self._fd = None
                target = str(self.path.resolve())
                for fd in Path(f"/proc/{self.pid}/fd").iterdir():
                    if os.readlink(fd) == target:
                        self._fd = (str(fd), target, f"/proc/{self.pid}/fdinfo/{fd.name}")
                        break
                else:
                    return None
            with open(self._fd[2], encoding="ascii") as info:
                for line in info:
                    key, _, value = line.partition(":")
                    if key == "pos":
                        return int(value)
        except (OSError, ValueError):
            self._fd = None
        return None


class _Pump(threading.Thread):
    """Takes the child's frames off the pipe as they come, unpickles them and queues them
    (None: no more; a frame that cannot be unpickled is queued as the bytes it was, for the
    caller to report).  Unpickling here runs while the caller waits on SQLite, which lets go
    of the interpreter lock."""

    def __init__(self, pipe: IO[bytes]) -> None:
        super().__init__(name="strongroom-reading", daemon=True)
        self.pipe = pipe
        self.frames: queue.Queue[tuple[str, Any] | bytearray | None] = queue.Queue(QUEUED)
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                head = _read_exactly(self.pipe, _LENGTH)
                if head is None:
                    break
                frame = _read_exactly(self.pipe, int.from_bytes(head, "little"))
                if frame is None:
                    break
                try:
                    self._put(pickle.loads(frame))
                except Exception:  # noqa: BLE001 - garbled: the caller reports it
                    self._put(frame)
                    break
        except (OSError, ValueError, OverflowError, MemoryError):
            pass  # the pipe was closed: the caller stopped
        self._put(None)

    def ready(self) -> bool:
        return not self.frames.empty()

    def _put(self, frame: tuple[str, Any] | bytearray | None) -> None:
        while not self.stopping.is_set():
            try:
                self.frames.put(frame, timeout=0.1)
                return
            except queue.Full:
                continue


_early: dict[tuple[str, str], subprocess.Popen[bytes]] = {}
"""Reading processes started by :func:`start_early`, by reader name and path."""


def start_early(reader: Reader, path: Path) -> None:
    """Start the process that will read ``path`` now, if it is to be read in one
    (:func:`worth_a_child`): it loads its modules (a third of a second) while the caller
    loads its own and opens the database, then waits for its options, which :func:`batches`
    sends when it comes to ``path``.  A process not taken by then ends when this one does."""
    key = (reader.name, str(path))
    if key in _early or not worth_a_child(reader, path):
        return
    atexit.unregister(_stop_early)  # registered once
    atexit.register(_stop_early)
    _early[key] = _spawn(reader.name, path)


def _stop_early() -> None:
    for child in _early.values():
        child.kill()
        child.wait(10)
    _early.clear()


def _spawn(reader_name: str, path: Path) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, "-m", __name__, reader_name, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,  # frames are read with plain reads (see _read_exactly)
    )
    assert child.stdout is not None
    _widen(child.stdout)
    return child


def _in_child(reader: Reader, path: Path, options: ReadOptions) -> Iterator[Source]:
    child = _early.pop((reader.name, str(path)), None) or _spawn(reader.name, path)
    assert child.stdin is not None and child.stdout is not None
    pump = _Pump(child.stdout)
    try:
        pickle.dump(options, child.stdin)
        child.stdin.close()
        pump.start()
        yield Source(_received(pump.frames, path), child.pid, path, pump.ready)
    finally:
        pump.stopping.set()
        if child.poll() is None:
            child.kill()
        child.wait(10)
        if pump.is_alive():
            pump.join(10)
        child.stdout.close()


def _widen(pipe: IO[bytes]) -> None:
    """Make ``pipe`` hold :data:`_PIPE_BYTES` where the system allows (Linux); elsewhere, or
    above the system's limit, it stays as it is and works the same, only slower."""
    try:
        import fcntl  # noqa: PLC0415 - not on Windows
    except ImportError:
        return
    with suppress(AttributeError, OSError):
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def _received(
    frames: queue.Queue[tuple[str, Any] | bytearray | None], path: Path
) -> Iterator[list[Handed]]:
    while True:
        frame = frames.get()
        if not isinstance(frame, tuple):  # cut off or garbled: the reader died
            raise BadInput(f"{path.name}: the reader stopped unexpectedly")
        what, value = frame
        if what == "records":
            yield value
        elif what == "bad":
            kind, detail = value
            error = next((c for c in BadInput.__subclasses__() if c.__name__ == kind), BadInput)
            raise error(detail)
        else:
            return


def _in_process(reader: Reader, path: Path, options: ReadOptions) -> Iterator[Source]:
    def batches() -> Iterator[list[Handed]]:
        batch: list[Handed] = []
        for record in reader.read(path, options):
            batch.append(record)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        yield batch

    yield Source(batches(), os.getpid(), path)


@contextmanager
def batches(
    reader: Reader, path: Path, options: ReadOptions, *, in_child: bool
) -> Iterator[Source]:
    """The records of ``path`` in lists, read here or in a child process."""
    start = _in_child if in_child else _in_process
    with contextmanager(start)(reader, path, options) as source:
        yield source


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
