"""Writer of the plain-text export: conversations as people would read them, in UTF-8.

::

    Hikers (+15550100001, +15550100002)
    ===================================

    Tuesday 14 November 2023
    [22:13] +15550100001: hello
    [22:14] Me: see you there
            second line of the same message
            [attachment: photo.jpg, image/jpeg, 12.1 KB]
            (love by +15550100001)

A heading starts each conversation, so records should come conversation by conversation (in
date order within each); records in date order across conversations give a heading each time
the conversation changes.  Times are in the writer's time zone (UTC unless given), named at the
top.  Calls follow under their own heading.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, tzinfo
from typing import BinaryIO

from strongroom.formats.attachment_names import is_attachment
from strongroom.formats.conversations import conversation_key, conversation_name
from strongroom.messages.records import CallRecord, MessageRecord, Record

INDENT = " " * 8


def human_size(size: int) -> str:
    """``12.1 KB``, decimal units as people see them in file managers."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _clean(text: str) -> str:
    """Text without control characters other than line breaks and tabs (no terminal escapes)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text)


class TextWriter:
    """Records as readable plain text."""

    name = "txt"

    def __init__(self, tz: tzinfo = UTC, zone_name: str = "UTC") -> None:
        self.tz = tz
        self.zone_name = zone_name

    def write(self, records: Iterable[Record], out: BinaryIO) -> None:
        def emit(text: str) -> None:
            out.write(text.encode("utf-8", "replace"))

        emit(f"Messages exported from Strongroom. Times are in {self.zone_name}.\n")
        key: str | None = None
        day: date | None = None
        in_calls = False
        for record in records:
            if isinstance(record, MessageRecord):
                if conversation_key(record) != key:
                    key, day = conversation_key(record), None
                    emit("\n\n" + self._heading(record))
                moment = datetime.fromtimestamp(record.date_ms / 1000, self.tz)
                if moment.date() != day:
                    day = moment.date()
                    emit(f"\n{moment:%A} {moment.day} {moment:%B %Y}\n")
                emit(self._message(record, moment))
            elif isinstance(record, CallRecord):
                if not in_calls:
                    in_calls = True
                    emit("\n\nCalls\n=====\n\n")
                emit(self._call(record))

    def _heading(self, record: MessageRecord) -> str:
        name = _clean(conversation_name(record)).replace("\n", " ")
        people = ", ".join(sorted(set(record.participants)))
        title = f"{name} ({people})" if record.group_title else name
        return f"{title}\n{'=' * min(len(title), 78)}\n"

    def _message(self, record: MessageRecord, moment: datetime) -> str:
        who = "Me" if record.direction == "out" else (record.sender or "?")
        lines: list[str] = []
        if record.subject:
            lines.append(f"Subject: {record.subject}")
        lines += record.body.split("\n") if record.body else []
        for part in record.parts:
            if is_attachment(part):
                name = part.filename or "(no name)"
                size = human_size(part.content.size)
                lines.append(f"[attachment: {name}, {part.content_type}, {size}]")
        for r in record.reactions:
            if not r.removed:
                lines.append(f"({r.reaction} by {r.sender or 'me'})")
        if record.status not in ("received", "sent"):
            lines.append(f"({record.status})")
        first, *rest = [_clean(line) for line in lines] or [""]
        text = f"[{moment:%H:%M}] {_clean(who)}: {first}\n"
        return text + "".join(f"{INDENT}{line}\n" for line in rest)

    def _call(self, record: CallRecord) -> str:
        moment = datetime.fromtimestamp(record.date_ms / 1000, self.tz)
        who = _clean(f"{record.name} ({record.number})" if record.name else record.number)
        minutes, seconds = divmod(record.duration_s, 60)
        length = f", {minutes}:{seconds:02d}" if record.duration_s else ""
        return f"[{moment:%Y-%m-%d %H:%M}] {record.type} call, {who}{length}\n"
