"""Writer of the CSV export: one row per message, for spreadsheets and scripts.

UTF-8 with a byte-order mark (so spreadsheet programs detect the encoding), RFC 4180 quoting,
CRLF line ends, and a header row with these columns:

=================  ===========================================================================
``date``           when it was sent or received, ISO 8601 in UTC (``2023-11-14T22:13:20.123Z``)
``date_ms``        the same, in milliseconds since 1970 (UTC)
``conversation``   the conversation's key (the same for every message of a conversation)
``conversation_name``  the group's title, or its participants
``participants``   everyone in the conversation but the owner, separated by ``; ``
``direction``      ``in`` (received) or ``out`` (sent)
``sender``         who sent it (empty when the owner did)
``kind``           ``sms``, ``mms``, ``imessage`` or ``rcs``
``status``         ``received``, ``sent``, ``draft``, ``outbox``, ``failed`` or ``queued``
``read``           ``1`` read, ``0`` unread
``subject``        the MMS subject, if any
``body``           the text
``attachments``    the attachments' file names, separated by ``; ``
``attachment_count``  how many attachments (text and SMIL layout parts do not count)
``reactions``      tapbacks, ``love by +15550100001; like by me``
``guid``           the source's own id of the message, if any
``source``         where it came from (``device``, ``sbr-xml``, ``ios-backup``...)
=================  ===========================================================================

Calls are not rows of this file (the JSON and SMS Backup & Restore exports carry them).

A cell that a spreadsheet would run as a formula (starting with ``=``, ``@``, a tab or carriage
return, or ``+``/``-`` followed by anything but phone numbers) gets a leading ``'``, the usual
defence against CSV injection; phone numbers such as ``+15550100001`` (or lists of them) are
left alone.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import BinaryIO

from strongroom.formats.attachment_names import is_attachment
from strongroom.formats.conversations import conversation_key, conversation_name
from strongroom.formats.json_export import iso_time
from strongroom.messages.records import MessageRecord, Record

COLUMNS = (
    "date date_ms conversation conversation_name participants direction sender kind status "
    "read subject body attachments attachment_count reactions guid source"
).split()
FLUSH_AT = 64 * 1024
_NUMBER = re.compile(r"^[+-][0-9 ().;+\-]*$")
"""Phone numbers and lists of them: no letters, so no function a spreadsheet could call."""


def defuse(cell: str) -> str:
    """The cell, with a ``'`` in front if a spreadsheet would take it for a formula."""
    if cell[:1] in ("=", "@", "\t", "\r") or (cell[:1] in ("+", "-") and not _NUMBER.match(cell)):
        return "'" + cell
    return cell


def row_of(record: MessageRecord) -> list[str]:
    attachments = [p for p in record.parts if is_attachment(p)]
    reactions = [f"{r.reaction} by {r.sender or 'me'}" for r in record.reactions if not r.removed]
    values = [
        iso_time(record.date_ms),
        str(record.date_ms),
        conversation_key(record),
        conversation_name(record),
        "; ".join(sorted(set(record.participants))),
        record.direction,
        record.sender or "",
        record.kind,
        record.status,
        "1" if record.read else "0",
        record.subject or "",
        record.body,
        "; ".join(p.filename or "" for p in attachments),
        str(len(attachments)),
        "; ".join(reactions),
        record.guid or "",
        record.source,
    ]
    return [defuse(v) for v in values]


class CsvWriter:
    """Message records as CSV rows (see the module documentation for the columns)."""

    name = "csv"

    def write(self, records: Iterable[Record], out: BinaryIO) -> None:
        buffer = io.StringIO()
        rows = csv.writer(buffer, lineterminator="\r\n")
        out.write("\ufeff".encode())
        rows.writerow(COLUMNS)
        for record in records:
            if isinstance(record, MessageRecord):
                rows.writerow(row_of(record))
            if buffer.tell() >= FLUSH_AT:
                _drain(buffer, out)
        _drain(buffer, out)


def _drain(buffer: io.StringIO, out: BinaryIO) -> None:
    out.write(buffer.getvalue().encode("utf-8", "replace"))
    buffer.seek(0)
    buffer.truncate()
