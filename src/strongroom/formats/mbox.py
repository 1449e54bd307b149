"""The mbox container: a file of mail messages, each starting with a ``From `` line.

:func:`mbox_messages` splits a file into messages as it reads, holding one message at a time
(never a table of contents of the whole file, as :mod:`mailbox` builds), with overlong lines
read in bounded pieces.  :func:`mbox_separator` starts an entry when writing.  Body lines that
start with ``From `` are escaped the mboxrd way (``>From ``, one more ``>`` per level) and
unescaped on reading.  (Our own writer never needs the escaping: its bodies are base64.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO

LINE_PIECE = 1 << 20
MESSAGE_LIMIT = 100 << 20
"""A message larger than this is skipped (Gmail's own limit is 25 MB)."""

_SEPARATOR = re.compile(rb"^From \S+\s+\w{3} \w{3}\s+\d{1,2} \d{1,2}:\d{2}(:\d{2})? ")
_ESCAPED = re.compile(rb"^>+From ")
_TO_ESCAPE = re.compile(rb"^(>*From )", re.MULTILINE)


class MboxMessage:
    """One message of an mbox: where it starts, and its bytes (None if over the size limit)."""

    def __init__(self, line: int, data: bytes | None) -> None:
        self.line = line
        self.data = _without_separator_blank(data) if data is not None else None


def _without_separator_blank(data: bytes) -> bytes:
    """Drop the blank line that separates a message from the next ``From `` line."""
    for ending in (b"\r\n", b"\n"):
        if data.endswith(ending * 2):
            return data[: -len(ending)]
    return data


def mbox_messages(f: BinaryIO, limit: int = MESSAGE_LIMIT) -> Iterator[MboxMessage]:
    """Every message of an mbox file; text before the first ``From `` line is ignored."""
    line_no = 0
    start = 0
    buffer = bytearray()
    too_big = False
    at_line_start = True
    previous_blank = True
    while piece := f.readline(LINE_PIECE):
        if at_line_start:
            line_no += 1
            if piece.startswith(b"From ") and (previous_blank or _SEPARATOR.match(piece)):
                if start:
                    yield MboxMessage(start, None if too_big else bytes(buffer))
                start, too_big = line_no, False
                buffer.clear()
                at_line_start, previous_blank = piece.endswith(b"\n"), False
                continue
            if _ESCAPED.match(piece):
                piece = piece[1:]
        at_line_start = piece.endswith(b"\n")
        previous_blank = piece in (b"\n", b"\r\n")
        if start and not too_big:
            buffer += piece
            if len(buffer) > limit:
                too_big = True
                buffer = bytearray()
    if start:
        yield MboxMessage(start, None if too_big else bytes(buffer))


def looks_like_mbox(head: bytes) -> bool:
    return head.startswith(b"From ")


def mbox_separator(date_ms: int, sender: str = "MAILER-DAEMON") -> bytes:
    """The ``From `` line that starts an mbox entry."""
    moment = datetime.fromtimestamp(date_ms / 1000, UTC)
    return f"From {sender} {moment:%a %b} {moment.day:2d} {moment:%H:%M:%S %Y}\n".encode()


def escape_from_lines(message: bytes) -> bytes:
    """mboxrd escaping of a whole message: ``From `` at a line start gains a ``>``."""
    return _TO_ESCAPE.sub(rb">\1", message)
