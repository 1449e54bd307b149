"""Reading an input in batches of records, in this process or in a child process.

:func:`batches` opens a reader over a file and hands its records over in lists.  In a child
process (``python -m strongroom.formats.reading``, which imports only the formats), parsing runs
on another core while the caller stores what came before; lists cross over a pipe, pickled, and
the pipe's small buffer keeps the reader from running ahead, so memory stays flat whatever the
size of the input.
A reader's BadInput is raised again in the caller, with its message.

:meth:`Source.position` is how far the reader has got in its file (Linux: the offset of the
reading process's descriptor), for progress bars.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from strongroom.formats import READERS, BadInput, Reader, ReadOptions
from strongroom.messages.records import Record

BATCH = 250
"""Records per hand-over."""


def _child(reader_name: str, path: str) -> None:
    """The reading process: ReadOptions come pickled on stdin; lists of records, then
    ``("end", None)`` (or ``("bad", (kind, detail))``), go pickled to stdout.  The pipe's
    small buffer holds the reader back while the parent is busy: memory stays flat."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the pipe

    def send(item: tuple[str, Any]) -> None:
        pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        options = pickle.load(sys.stdin.buffer)
        batch: list[Record] = []
        for record in READERS[reader_name].read(Path(path), options):
            batch.append(record)
            if len(batch) >= BATCH:
                send(("records", batch))
                batch = []
        send(("records", batch))
        send(("end", None))
    except BadInput as e:
        send(("bad", (type(e).__name__, e.detail)))
    except BrokenPipeError:
        pass  # the parent stopped reading
    except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it
        send(("bad", ("BadInput", f"{Path(path).name}: cannot be read ({e})")))


@dataclass
class Source:
    """Batches of records from one input, and where reading has got to."""

    batches: Iterator[list[Record]]
    pid: int
    path: Path

    def position(self) -> int | None:
        """The reader's offset in the file (Linux), or None if unknown."""
        try:
            target = str(self.path.resolve())
            fds = Path(f"/proc/{self.pid}/fd")
            for fd in fds.iterdir():
                if os.readlink(fd) == target:
                    info = (Path(f"/proc/{self.pid}/fdinfo") / fd.name).read_text()
                    for line in info.splitlines():
                        key, _, value = line.partition(":")
                        if key == "pos":
                            return int(value)
        except OSError:
            return None
        return None


def _in_child(reader: Reader, path: Path, options: ReadOptions) -> Iterator[Source]:
    child = subprocess.Popen(
        [sys.executable, "-m", __name__, reader.name, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        pickle.dump(options, child.stdin)
        child.stdin.close()
        yield Source(_received(child.stdout, path), child.pid, path)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        child.stdout.close()


def _received(pipe: IO[bytes], path: Path) -> Iterator[list[Record]]:
    while True:
        try:
            what, value = pickle.load(pipe)
        except (EOFError, pickle.UnpicklingError):
            raise BadInput(f"{path.name}: the reader stopped unexpectedly") from None
        if what == "records":
            yield value
        elif what == "bad":
            kind, detail = value
            error = next((c for c in BadInput.__subclasses__() if c.__name__ == kind), BadInput)
            raise error(detail)
        else:
            return


def _in_process(reader: Reader, path: Path, options: ReadOptions) -> Iterator[Source]:
    def batches() -> Iterator[list[Record]]:
        batch: list[Record] = []
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
