"""Downloading an export of the caller's messages: one conversation, a date range, or everything.

The writers write to a stream while the response reads from an iterator, so the export runs in
a thread of its own and hands its bytes over through :class:`_Pipe`, a small bounded queue: the
writer waits while the client is slow, memory holds a few pieces at most, and a client that goes
away stops the writer at its next write.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Annotated, Any, BinaryIO, cast

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from strongroom.formats.exports import FORMATS, export_format, write_stream
from strongroom.messages import export
from strongroom.messages.selection import parse_selection
from strongroom.web.deps import CurrentUser, RuntimeDep
from strongroom.web.downloads import disposition

router = APIRouter(tags=["exports"])
log = logging.getLogger(__name__)

PIECE = 256 * 1024
"""Bytes gathered before a piece is handed to the response."""
PIECES_QUEUED = 8
STALLED_AFTER_S = 600.0
"""A writer whose output nobody has read for this long gives up (the client is gone)."""


class _Stopped(Exception):
    """The response stopped reading (the client went away): the writer ends here."""


_END = object()


class _Pipe:
    """A write-only stream whose bytes come out of :meth:`pieces`, through a bounded queue."""

    def __init__(self) -> None:
        self.queue: queue.Queue[object] = queue.Queue(PIECES_QUEUED)
        self.buffer = bytearray()
        self.stopped = threading.Event()
        """Set by the reading side when it is done: the writer stops at its next write."""
        self.finished = threading.Event()
        """Set by the writing side when it has ended, one way or another."""

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= PIECE:
            self._put(bytes(self.buffer))
            self.buffer.clear()
        return len(data)

    def flush(self) -> None:
        """Nothing to do: pieces go out when they are big enough, or at the end."""

    def _put(self, item: object) -> None:
        waited = 0.0
        while True:
            if self.stopped.is_set():
                raise _Stopped
            try:
                self.queue.put(item, timeout=1.0)
                return
            except queue.Full:
                waited += 1.0
                if waited >= STALLED_AFTER_S:
                    raise _Stopped from None

    def run(self, write: Callable[[BinaryIO], object]) -> None:
        """Run the writer (in its own thread), then mark the end or pass its error on."""
        try:
            write(cast(BinaryIO, self))
            if self.buffer:
                self._put(bytes(self.buffer))
            self._put(_END)
        except _Stopped:
            pass
        except BaseException as e:  # noqa: BLE001 - handed to the response, which raises it
            try:
                self._put(e)
            except _Stopped:
                pass
        finally:
            self.finished.set()

    def _get(self) -> object:
        while True:
            try:
                return self.queue.get(timeout=1.0)
            except queue.Empty:
                if self.finished.is_set() and self.queue.empty():
                    raise RuntimeError("the export stopped before it was read") from None

    def pieces(self) -> Iterator[bytes]:
        try:
            while True:
                item = self._get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    log.error("export failed part-way; the download is cut short: %s", item)
                    raise item
                yield cast(bytes, item)
        finally:
            self.stopped.set()


class _PipeResponse(StreamingResponse):
    """A streamed response that stops its writer when it ends, however it ends (finished, the
    client gone, or an error)."""

    def __init__(self, pipe: _Pipe, body: Iterator[bytes], **kwargs: Any) -> None:
        super().__init__(body, **kwargs)
        self.pipe = pipe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.pipe.stopped.set()


def streamed(write: Callable[[BinaryIO], object], **kwargs: Any) -> StreamingResponse:
    """A response with the bytes ``write`` writes to a stream (``write`` runs in a thread).

    Waits for the first piece, so that an export failing at once raises here (and the caller
    answers with a proper error) rather than after the response has started.
    """
    pipe = _Pipe()
    threading.Thread(target=pipe.run, args=(write,), name="export", daemon=True).start()
    pieces = pipe.pieces()
    first = next(pieces, None)
    body = itertools.chain([first] if first is not None else [], pieces)
    return _PipeResponse(pipe, body, **kwargs)


@router.get(
    "/export",
    summary="Download an export of your messages",
    description=(
        "`format` is one of " + ", ".join(f"`{name}`" for name in FORMATS) + ". `html` and "
        "`archive` come as a zip; the others as the file itself (`sbr-xml`: the messages file, "
        "restorable by SMS Backup & Restore). `conversation` limits it to one conversation; "
        "`since` and `until` (YYYY-MM-DD or ISO 8601, UTC; `until` inclusive of its day) to a "
        "date range."
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}, "application/octet-stream": {}}}},
)
def download_export(
    user: CurrentUser,
    rt: RuntimeDep,
    format_name: Annotated[str, Query(alias="format", max_length=20)],
    conversation: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
) -> StreamingResponse:
    fmt = export_format(format_name)
    selection = parse_selection(conversation or None, since, until)
    source = export.account_records(
        rt, user.account_id, selection, by_conversation=fmt.grouped
    )  # raises NotFound for a conversation that is not the caller's, before anything is sent
    who = user.username if selection.conversation_id is None else f"{user.username}-{conversation}"
    return streamed(
        lambda out: write_stream(fmt.name, source, out),
        media_type=fmt.media_type,
        headers={
            "Content-Disposition": disposition(
                "attachment", fmt.download_name(who, rt.clock.now_ms())
            ),
            "Cache-Control": "no-store",
        },
    )
