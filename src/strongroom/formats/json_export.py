"""Writer of Strongroom's JSON export (``format_version`` 1; docs/json-export.md, and the JSON
Schema in docs/json-export.schema.json).

One UTF-8 JSON object: ``format_version``, ``generator``, ``exported_at``, then ``messages``
(every message record, as it comes), ``calls``, and at the end ``conversations`` (one summary
per conversation seen).  It is written as the records come: memory holds one message and the
conversation summaries, never the list.  Messages must come before calls.

Attachments are described by their type, name and size; with ``attachments="paths"`` each also
gets the path of its file in the same export (the archive), and with ``attachments="base64"``
its bytes, encoded a slice at a time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, Literal

from strongroom.formats.attachment_names import attachment_path, is_attachment
from strongroom.formats.conversations import conversation_key, conversation_name
from strongroom.messages.records import CallRecord, MessageRecord, PartRecord, Record

FORMAT_VERSION = 1
SLICE = 3 * 256 * 1024
Attachments = Literal["metadata", "paths", "base64"]


def iso_time(ms: int) -> str:
    """``2023-11-14T22:13:20.123Z``."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _dumps(value: Any) -> bytes:
    # Lone surrogates (which no stored text should hold) become "?" rather than invalid UTF-8.
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "replace")


@dataclass
class _Summary:
    key: str
    participants: list[str]
    title: str | None
    name: str
    message_count: int
    first_date: int
    last_date: int

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "participants": self.participants,
            "title": self.title,
            "message_count": self.message_count,
            "first_date": self.first_date,
            "last_date": self.last_date,
        }


def message_json(record: MessageRecord) -> dict[str, Any]:
    """A message as its JSON object, without its ``parts``."""
    return {
        "conversation": conversation_key(record),
        "kind": record.kind,
        "direction": record.direction,
        "sender": record.sender,
        "participants": sorted(set(record.participants)),
        "group_title": record.group_title,
        "date": record.date_ms,
        "date_iso": iso_time(record.date_ms),
        "date_sent": record.date_sent_ms,
        "date_precision": record.date_precision,
        "read": record.read,
        "status": record.status,
        "subject": record.subject,
        "body": record.body,
        "guid": record.guid,
        "reply_to_guid": record.reply_to_guid,
        "source": record.source,
        "reactions": [
            {"reaction": r.reaction, "sender": r.sender, "date": r.date_ms}
            for r in record.reactions
            if not r.removed
        ],
        "extra": dict(record.extra),
    }


def call_json(record: CallRecord) -> dict[str, Any]:
    return {
        "number": record.number,
        "name": record.name,
        "type": record.type,
        "date": record.date_ms,
        "date_iso": iso_time(record.date_ms),
        "duration_s": record.duration_s,
        "source": record.source,
        "extra": dict(record.extra),
    }


class JsonWriter:
    """Records as Strongroom's JSON export."""

    name = "json"

    def __init__(
        self,
        *,
        attachments: Attachments = "metadata",
        attachments_dir: str = "attachments",
        exported_at_ms: int | None = None,
        generator: str = "Strongroom",
    ) -> None:
        self.attachments = attachments
        self.attachments_dir = attachments_dir
        self.exported_at_ms = exported_at_ms
        self.generator = generator

    def write(self, records: Iterable[Record], out: BinaryIO) -> None:
        """Write the export.  Raises ValueError if a message comes after a call."""
        exported = iso_time(self.exported_at_ms) if self.exported_at_ms is not None else None
        out.write(b'{"format_version": ' + _dumps(FORMAT_VERSION))
        out.write(b', "generator": ' + _dumps(self.generator))
        out.write(b', "exported_at": ' + _dumps(exported))
        out.write(b',\n"messages": [')
        summaries: dict[str, _Summary] = {}
        in_calls = False
        first = True
        for record in records:
            if isinstance(record, MessageRecord):
                if in_calls:
                    raise ValueError("the JSON export needs every message before the calls")
                out.write(b"\n" if first else b",\n")
                self._message(record, out)
                _count(summaries, record)
            elif isinstance(record, CallRecord):
                if not in_calls:
                    out.write(b'\n],\n"calls": [')
                    in_calls, first = True, True
                out.write(b"\n" if first else b",\n")
                out.write(_dumps(call_json(record)))
            else:
                continue
            first = False
        if not in_calls:
            out.write(b'\n],\n"calls": [')
        out.write(b'\n],\n"conversations": [')
        for n, summary in enumerate(summaries.values()):
            out.write((b"\n" if n == 0 else b",\n") + _dumps(summary.as_json()))
        out.write(b"\n]}\n")

    def _message(self, record: MessageRecord, out: BinaryIO) -> None:
        head = _dumps(message_json(record))
        out.write(head[:-1] + b', "parts": [')
        for seq, part in enumerate(record.parts):
            out.write(b"" if seq == 0 else b", ")
            self._part(record, seq, part, out)
        out.write(b"]}")

    def _part(self, record: MessageRecord, seq: int, part: PartRecord, out: BinaryIO) -> None:
        attachment = is_attachment(part)
        value: dict[str, Any] = {
            "content_type": part.content_type,
            "filename": part.filename,
            "size": part.content.size,
            "attachment": attachment,
        }
        if self.attachments == "paths" and attachment:
            value["path"] = attachment_path(record, seq, part, self.attachments_dir)
        if self.attachments != "base64":
            out.write(_dumps(value))
            return
        out.write(_dumps(value)[:-1] + b', "data_base64": "')
        carry = b""
        for chunk in part.content.chunks(SLICE):
            data = carry + chunk
            usable = len(data) - len(data) % 3
            out.write(base64.b64encode(data[:usable]))
            carry = data[usable:]
        out.write(base64.b64encode(carry) + b'"}')


def _count(summaries: dict[str, _Summary], record: MessageRecord) -> None:
    key = conversation_key(record)
    summary = summaries.get(key)
    if summary is None:
        summaries[key] = _Summary(
            key,
            sorted(set(record.participants)),
            record.group_title,
            conversation_name(record),
            1,
            record.date_ms,
            record.date_ms,
        )
        return
    summary.message_count += 1
    summary.first_date = min(summary.first_date, record.date_ms)
    summary.last_date = max(summary.last_date, record.date_ms)
    if record.group_title and not summary.title:
        summary.title = record.group_title
        summary.name = record.group_title
