"""Writers of SMS Backup & Restore XML: messages (``<smses>``) and calls (``<calls>``), separately.

The output is what the Android app writes and restores: XML 1.0 in UTF-8 with real characters
(never surrogate references), every attribute the app writes, in its order, with its defaults
(``null`` for an empty column), MMS parts with ``text`` or base64 ``data``.  Attributes read from
an SBR file (a record's ``extra``) are written back unchanged.  Records are written as they come,
and attachments are base64-encoded a slice at a time from their content stream.

The root's ``count`` is patched in at the end when the output is seekable; otherwise pass
``count`` (the app uses it for its progress bar only).
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from strongroom.formats.mms_owner import CC, FROM, INSERT_ADDRESS_TOKEN, TO
from strongroom.formats.sbr_fields import (
    BOX_OF_STATUS,
    CALL_DEFAULTS,
    CALL_MAPPED,
    CALL_TYPE_CODES,
    MMS_DEFAULTS,
    MMS_MAPPED,
    SMS_DEFAULTS,
    SMS_MAPPED,
    SOURCE,
    UNKNOWN,
)
from strongroom.formats.sbr_mms import ADDRS_KEY, TEXT_PARTS
from strongroom.messages.records import (
    CallRecord,
    InlineContent,
    MessageRecord,
    PartRecord,
    Record,
)

SLICE = 3 * 256 * 1024
COUNT_WIDTH = 20
DECLARATION = b"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"

SMS_ORDER = (
    "protocol address date type subject body toa sc_toa service_center read status locked "
    "date_sent sub_id readable_date contact_name"
).split()
MMS_ORDER = (
    "date rr sub ct_t read_status seen msg_box address sub_cs resp_st retr_st d_tm text_only "
    "exp locked m_id st retr_txt_cs retr_txt creator date_sent read m_size rpt_a ct_cls pri "
    "sub_id tr_id resp_txt ct_l m_cls d_rpt v m_type readable_date contact_name"
).split()
PART_ORDER = "seq ct name chset cd fn cid cl ctt_s ctt_t text".split()
CALL_ORDER = (
    "number duration date type presentation subscription_id post_dial_digits "
    "subscription_component_name readable_date contact_name"
).split()

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def escape(value: str) -> str:
    """An attribute value: XML-safe characters, with line breaks kept as references."""
    if _NOT_XML.search(value):
        value = _NOT_XML.sub("", value)
    if _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def readable_date(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{moment:%b} {moment.day}, {moment:%Y %H:%M:%S}"


def attributes(values: dict[str, str], order: list[str], extra: dict[str, str]) -> str:
    """``name="value"`` pairs: the app's attributes in its order, then the kept unknown ones."""
    merged = {**values, **{k: v for k, v in extra.items() if k in values}}
    pairs = [f'{k}="{escape(merged[k])}"' for k in order if k in merged]
    pairs += [f'{k}="{escape(v)}"' for k, v in extra.items() if k not in merged and _NAME.match(k)]
    return " ".join(pairs)


class _Document:
    """The root element around the records, with its count patched in when possible."""

    def __init__(self, out: BinaryIO, root: str, count: int | None) -> None:
        self.out = out
        self.root = root
        self.count = count
        self.written = 0
        self.patch_at = out.tell() if count is None and out.seekable() else None

    def open(self, backup_date_ms: int | None) -> None:
        self.out.write(DECLARATION)
        head = f'<{self.root} count="'.encode()
        self.count_offset = len(DECLARATION) + len(head)
        count = str(self.count if self.count is not None else 0)
        padding = " " * (COUNT_WIDTH - len(count)) if self.patch_at is not None else ""
        backup_date = backup_date_ms if backup_date_ms is not None else int(time.time() * 1000)
        self.out.write(
            head
            + f'{count}"{padding} backup_set="{uuid.uuid4()}" backup_date="{backup_date}" '
            f'type="full">\n'.encode()
        )

    def close(self) -> None:
        self.out.write(f"</{self.root}>\n".encode())
        if self.patch_at is not None:
            end = self.out.tell()
            self.out.seek(self.patch_at + self.count_offset)
            self.out.write(f'{self.written}"'.ljust(COUNT_WIDTH + 1).encode())
            self.out.seek(end)


class SbrXmlWriter:
    """Messages as an ``sms-*.xml`` file.

    ``owner_number`` is written as the owner's address in MMS built from other sources (sent
    MMS otherwise carry ``insert-address-token``, as Android itself writes).
    """

    name = "sbr-xml"

    def __init__(self, owner_number: str | None = None, backup_date_ms: int | None = None) -> None:
        self.owner_number = owner_number
        self.backup_date_ms = backup_date_ms

    def write(self, records: Iterable[Record], out: BinaryIO, *, count: int | None = None) -> None:
        document = _Document(out, "smses", count)
        document.open(self.backup_date_ms)
        for record in records:
            if not isinstance(record, MessageRecord):
                continue
            if _as_sms(record):
                out.write(f"  <sms {sms_attributes(record)} />\n".encode())
            else:
                self._mms(record, out)
            document.written += 1
        document.close()

    def _mms(self, record: MessageRecord, out: BinaryIO) -> None:
        parts = _parts_of(record)
        out.write(f"  <mms {mms_attributes(record, parts)}>\n    <parts>\n".encode())
        for part in parts:
            _write_part(part, record.source == SOURCE, out)
        out.write(b"    </parts>\n    <addrs>\n")
        for address, kind, charset in self._addrs(record):
            charset_attribute = f' charset="{escape(charset)}"' if charset else ""
            out.write(
                f'      <addr address="{escape(address)}" type="{escape(kind)}"'
                f"{charset_attribute} />\n".encode()
            )
        out.write(b"    </addrs>\n  </mms>\n")

    def _addrs(self, record: MessageRecord) -> Iterator[tuple[str, str, str]]:
        raw = record.extra.get(ADDRS_KEY) if record.source == SOURCE else None
        if raw:
            try:
                for address, kind, charset in json.loads(raw):
                    yield str(address), str(kind), str(charset)
                return
            except (ValueError, TypeError):
                pass  # damaged: build them from the record instead
        owner = self.owner_number
        if record.direction == "out":
            yield owner or INSERT_ADDRESS_TOKEN, str(FROM), "106"
            for p in record.participants:
                yield p, str(TO), "106"
            return
        sender = record.sender or (record.participants[0] if record.participants else "")
        yield sender, str(FROM), "106"
        if owner:
            yield owner, str(TO), "106"
        for p in record.participants:
            if p != sender:
                yield p, str(CC), "106"


def _as_sms(record: MessageRecord) -> bool:
    """Text to one person is an SMS; anything with parts, a group, or an MMS stays an MMS."""
    return record.kind != "mms" and not record.parts and len(record.participants) <= 1


def sms_attributes(record: MessageRecord) -> str:
    box = BOX_OF_STATUS.get(record.status) or (1 if record.direction == "in" else 2)
    extra = record.extra if record.source == SOURCE else {}
    values = {
        **SMS_DEFAULTS,
        "address": "~".join(record.participants) or (record.sender or ""),
        "date": str(record.date_ms),
        "type": str(box),
        "subject": record.subject if record.subject is not None else "null",
        "body": record.body,
        "read": "1" if record.read else "0",
        "date_sent": str(record.date_sent_ms or 0),
        "readable_date": readable_date(record.date_ms),
    }
    extra = {k: v for k, v in extra.items() if k not in SMS_MAPPED}
    return attributes(values, SMS_ORDER, extra)


def mms_attributes(record: MessageRecord, parts: list[PartRecord]) -> str:
    box = BOX_OF_STATUS.get(record.status) or (1 if record.direction == "in" else 2)
    extra = record.extra if record.source == SOURCE else {}
    text_only = all(p.content_type in TEXT_PARTS for p in parts)
    values = {
        **MMS_DEFAULTS,
        "date": str(record.date_ms),
        "sub": record.subject if record.subject is not None else "null",
        "msg_box": str(box),
        "address": "~".join(record.participants),
        "text_only": "1" if text_only else "0",
        "m_id": record.guid or "null",
        "date_sent": str((record.date_sent_ms or 0) // 1000),
        "read": "1" if record.read else "0",
        "m_size": str(sum(p.content.size for p in parts)),
        "m_type": "132" if record.direction == "in" else "128",
        "readable_date": readable_date(record.date_ms),
    }
    extra = {k: v for k, v in extra.items() if k not in MMS_MAPPED}
    return attributes(values, MMS_ORDER, extra)


def _parts_of(record: MessageRecord) -> list[PartRecord]:
    """The parts to write: a text part is added for a body that no part carries."""
    parts = list(record.parts)
    if record.body and not any(p.content_type == "text/plain" for p in parts):
        parts.append(PartRecord("text/plain", InlineContent(record.body.encode()), "text.txt"))
    return parts


def _write_part(part: PartRecord, own: bool, out: BinaryIO) -> None:
    name = part.filename
    text: str | None = None
    if part.content_type in TEXT_PARTS:
        try:
            text = part.content.read().decode("utf-8")
        except UnicodeDecodeError:
            text = None
    values = {
        "seq": "-1" if part.content_type == "application/smil" else "0",
        "ct": part.content_type,
        "name": name or "null",
        "chset": "106" if part.content_type.startswith("text/") else "null",
        "cd": "null",
        "fn": "null",
        "cid": f"<{name}>" if name else "null",
        "cl": name or "null",
        "ctt_s": "null",
        "ctt_t": "null",
        "text": text if text is not None else "null",
    }
    extra = {k: v for k, v in part.extra.items() if k not in ("ct", "text", "data")} if own else {}
    out.write(f"      <part {attributes(values, PART_ORDER, extra)}".encode())
    if text is None:
        out.write(b' data="')
        _write_base64(part, out)
        out.write(b'"')
    out.write(b" />\n")


def _write_base64(part: PartRecord, out: BinaryIO) -> None:
    carry = b""
    for chunk in part.content.chunks(SLICE):
        data = carry + chunk
        usable = len(data) - len(data) % 3
        out.write(base64.b64encode(data[:usable]))
        carry = data[usable:]
    out.write(base64.b64encode(carry))


class SbrCallsWriter:
    """Call log entries as a ``calls-*.xml`` file (the app keeps calls in their own file)."""

    name = "sbr-calls-xml"

    def __init__(self, backup_date_ms: int | None = None) -> None:
        self.backup_date_ms = backup_date_ms

    def write(self, records: Iterable[Record], out: BinaryIO, *, count: int | None = None) -> None:
        document = _Document(out, "calls", count)
        document.open(self.backup_date_ms)
        for record in records:
            if isinstance(record, CallRecord):
                out.write(f"  <call {call_attributes(record)} />\n".encode())
                document.written += 1
        document.close()


def call_attributes(record: CallRecord) -> str:
    extra = record.extra if record.source == SOURCE else {}
    values = {
        "number": record.number,
        "duration": str(record.duration_s),
        "date": str(record.date_ms),
        "type": extra.get("type") or str(CALL_TYPE_CODES[record.type]),
        **CALL_DEFAULTS,
        "readable_date": readable_date(record.date_ms),
        "contact_name": record.name or UNKNOWN,
    }
    extra = {k: v for k, v in extra.items() if k not in CALL_MAPPED}
    return attributes(values, CALL_ORDER, extra)
