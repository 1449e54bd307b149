"""Writer of SMS Backup+ mail: each record as the RFC 5322 message that app stores, and mbox files.

The app restores an SMS from ``X-smssync-datatype: SMS`` with ``-address``, ``-type`` (only 1
received and 2 sent are restored), ``-date`` (ms), ``-read``, ``-status``, ``-protocol``,
``-service_center`` and the text body; a call from ``-address``, ``-type``, ``-date`` and
``-duration``.  (It backs up MMS but does not restore them; we write them the way it backs them
up, ``-date`` in seconds, so that other readers, ours included, get them back.)  The
``Message-ID`` is the app's own (MD5 of date, address and type), so a message that app already
backed up is recognised as the same.  Every body is base64, which keeps text byte-exact and
means no line can start with ``From ``.

:func:`render_message` gives the bytes for an IMAP ``APPEND`` (CRLF line endings);
:class:`SbpMboxWriter` writes an mbox file.  Attachments are encoded a slice at a time.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import io
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.header import Header
from typing import BinaryIO, Protocol

from strongroom.formats.mbox import mbox_separator
from strongroom.formats.sbr_fields import BOX_OF_STATUS, CALL_TYPE_CODES
from strongroom.formats.sms_backup_plus import OUTGOING_MMS_TYPE, PREFIX, UNKNOWN_DOMAIN
from strongroom.messages.records import (
    CallRecord,
    InlineContent,
    MessageRecord,
    PartRecord,
    Record,
)

OWN_SOURCES = ("mbox", "eml", "sbp-mbox")
LINE_BYTES = 57  # 76 base64 characters a line
SLICE = LINE_BYTES * 4096
VERSION = "1"
_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CALL_WORDS = {
    "incoming": "incoming call",
    "outgoing": "outgoing call",
    "missed": "missed call",
    "rejected": "rejected call",
    "blocked": "blocked call",
    "voicemail": "voicemail",
}


class Sink(Protocol):
    """Where a message is written: a binary file, or anything with its ``write``."""

    def write(self, data: bytes, /) -> int: ...


def _clean(value: str) -> str:
    return _CONTROL.sub("", value)


def _header(name: str, value: str) -> bytes:
    value = _clean(value)
    if not value.isascii():
        value = Header(value, "utf-8").encode()
    return f"{name}: {value}\r\n".encode("ascii")


def contact_address(handle: str) -> str:
    """How the app writes a contact it has no e-mail for: ``number@unknown.email``."""
    handle = _clean(handle.strip())
    if "@" in handle:
        return email.utils.formataddr(("", handle), charset="utf-8")
    if not handle.isascii():
        # An address must be ASCII: the handle travels in the display name instead.
        return email.utils.formataddr((handle, f"unknown.number@{UNKNOWN_DOMAIN}"), "utf-8")
    local = handle if _ATOM.match(handle) else '"' + handle.replace('"', '\\"') + '"'
    return email.utils.formataddr((handle, f"{local}@{UNKNOWN_DOMAIN}"), charset="utf-8")


def message_id(date_ms: int, address: str, kind: int) -> str:
    digest = hashlib.md5(f"{date_ms}{address}{kind}".encode(), usedforsecurity=False)
    return f"<{digest.hexdigest()}@sms-backup-plus.local>"


def _date_header(ms: int) -> str:
    return email.utils.format_datetime(datetime.fromtimestamp(ms // 1000, UTC))


def _headers(record: MessageRecord | CallRecord, user_address: str) -> Iterator[bytes]:
    """Headers common to every kind; the caller adds the kind's own X-smssync headers."""
    if isinstance(record, CallRecord):
        address, outgoing, word = record.number, record.type == "outgoing", "Call"
        others = [record.number]
        when = record.date_ms
    else:
        others = record.participants or ([record.sender] if record.sender else [])
        address = record.sender if record.direction == "in" and record.sender else ""
        address = address or (others[0] if others else "Unknown")
        outgoing, word = record.direction == "out", record.kind.upper()
        if word not in ("SMS", "MMS"):
            word = "MMS" if record.parts or len(others) > 1 else "SMS"
        when = record.date_ms
    contacts = ", ".join(contact_address(h) for h in others) or contact_address(address)
    yield _header("Date", _date_header(when))
    yield _header("From", user_address if outgoing else contact_address(address))
    yield _header("To", contacts if outgoing else user_address)
    copied = [h for h in others if h != address]
    if not outgoing and copied:
        # The app names only the sender of a received group MMS; the rest of the group goes in
        # Cc so that the conversation survives the round trip.
        yield _header("Cc", ", ".join(contact_address(h) for h in copied))
    yield _header("Subject", f"{word} with {address}")
    yield _header("References", f"<strongroom.{_reference(address)}@sms-backup-plus.local>")
    yield _header(f"{PREFIX}address", address)
    yield _header(f"{PREFIX}backup-time", time.strftime("%d %b %Y %H:%M:%S GMT", time.gmtime()))
    yield _header(f"{PREFIX}version", VERSION)


def _reference(address: str) -> str:
    return re.sub(r"[^A-Za-z0-9+.\-]", "", address) or "unknown"


def _kept(record: MessageRecord | CallRecord, defaults: dict[str, str]) -> dict[str, str]:
    """The kind's X-smssync headers: the record's own (when read from this format) win."""
    values = dict(defaults)
    if record.source in OWN_SOURCES:
        for name, value in record.extra.items():
            if name.lower().startswith(PREFIX.lower()):
                values[name[len(PREFIX) :].lower()] = value
    return values


def write_message(record: MessageRecord | CallRecord, out: Sink, user_address: str) -> None:
    """One record as an RFC 5322 message (CRLF line endings) written to ``out``."""
    for line in _headers(record, user_address):
        out.write(line)
    if isinstance(record, CallRecord):
        _call(record, out)
    elif record.kind == "sms" or (not record.parts and len(record.participants) <= 1):
        _sms(record, out)
    else:
        _mms(record, out)


def render_message(
    record: MessageRecord | CallRecord, user_address: str = "me@strongroom.invalid"
) -> bytes:
    """One record as the bytes of an RFC 5322 message, ready for an IMAP ``APPEND``."""
    buffer = io.BytesIO()
    write_message(record, buffer, user_address)
    return buffer.getvalue()


def _x_headers(values: dict[str, str], out: Sink) -> None:
    for name, value in values.items():
        if value:
            out.write(_header(f"{PREFIX}{name}", value))


def _sms(record: MessageRecord, out: Sink) -> None:
    box = BOX_OF_STATUS.get(record.status) or (1 if record.direction == "in" else 2)
    address = (record.participants or [record.sender or ""])[0]
    out.write(_header("Message-ID", message_id(record.date_ms, address, box)))
    values = {
        "datatype": "SMS",
        "type": str(box),
        "date": str(record.date_ms),
        "read": "1" if record.read else "0",
        "status": "-1",
        "protocol": "0",
    }
    _x_headers(_kept(record, values) | {"type": str(box), "date": str(record.date_ms)}, out)
    _text_body(record.body, out)


def _call(record: CallRecord, out: Sink) -> None:
    code = CALL_TYPE_CODES[record.type]
    out.write(_header("Message-ID", message_id(record.date_ms, record.number, code)))
    values = {
        "datatype": "CALLLOG",
        "type": str(code),
        "date": str(record.date_ms),
        "duration": str(record.duration_s),
    }
    _x_headers(_kept(record, values) | values, out)
    d = record.duration_s
    text = f"{record.number} ({CALL_WORDS[record.type]})"
    if record.type not in ("missed", "rejected"):
        text = f"{d}s ({d // 3600:02d}:{d % 3600 // 60:02d}:{d % 60:02d})\n" + text
    _text_body(text, out)


def _mms(record: MessageRecord, out: Sink) -> None:
    box = BOX_OF_STATUS.get(record.status) or (1 if record.direction == "in" else 2)
    seconds = record.date_ms // 1000
    address = (record.participants or [record.sender or ""])[0]
    out.write(_header("Message-ID", message_id(seconds * 1000, address, box)))
    m_type = str(OUTGOING_MMS_TYPE if record.direction == "out" else 132)
    read = "1" if record.read else "0"
    values = {"datatype": "MMS", "type": m_type, "date": str(seconds), "read": read}
    _x_headers(_kept(record, values) | {"type": m_type, "date": str(seconds)}, out)
    boundary = f"=_strongroom_{uuid.uuid4().hex}"
    out.write(b"MIME-Version: 1.0\r\n")
    out.write(f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode())
    parts = list(record.parts)
    if record.body and not any(p.content_type == "text/plain" for p in parts):
        parts.insert(0, PartRecord("text/plain", InlineContent(record.body.encode())))
    for part in parts:
        out.write(f"--{boundary}\r\n".encode())
        _part(part, out)
    out.write(f"--{boundary}--\r\n".encode())


def _filename_params(filename: str | None, key: str) -> str:
    if not filename:
        return ""
    filename = _clean(filename)
    if filename.isascii() and '"' not in filename and "\\" not in filename:
        return f'; {key}="{filename}"'
    return f"; {key}*={email.utils.encode_rfc2231(filename, 'utf-8')}"


def _part(part: PartRecord, out: Sink) -> None:
    is_text = part.content_type == "text/plain"
    charset = "; charset=utf-8" if part.content_type.startswith("text/") else ""
    content_type = _clean(part.content_type) + charset + _filename_params(part.filename, "name")
    out.write(f"Content-Type: {content_type}\r\n".encode())
    if not is_text:
        disposition = "attachment" + _filename_params(part.filename, "filename")
        out.write(f"Content-Disposition: {disposition}\r\n".encode())
    out.write(b"Content-Transfer-Encoding: base64\r\n\r\n")
    _base64(part.content.chunks(SLICE), out)


def _text_body(text: str, out: Sink) -> None:
    out.write(b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n")
    out.write(b"Content-Transfer-Encoding: base64\r\n\r\n")
    _base64(iter((text.encode("utf-8", "replace"),)), out)


def _base64(chunks: Iterator[bytes], out: Sink) -> None:
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        usable = len(data) - len(data) % LINE_BYTES
        for start in range(0, usable, LINE_BYTES):
            out.write(base64.b64encode(data[start : start + LINE_BYTES]) + b"\r\n")
        carry = data[usable:]
    if carry:
        out.write(base64.b64encode(carry) + b"\r\n")


class SbpMboxWriter:
    """Records as an mbox file of SMS Backup+ messages (LF line endings, mboxrd framing)."""

    name = "sbp-mbox"

    def __init__(self, user_address: str = "me@strongroom.invalid") -> None:
        self.user_address = user_address

    def write(self, records: Iterable[Record], out: BinaryIO) -> None:
        lines = _LineFeeds(out)
        for record in records:
            if isinstance(record, MessageRecord | CallRecord):
                out.write(mbox_separator(record.date_ms))
                write_message(record, lines, self.user_address)
                out.write(b"\n")


class _LineFeeds:
    """Passes writes on with CRLF turned into LF (every write here ends a line)."""

    def __init__(self, out: Sink) -> None:
        self.out = out

    def write(self, data: bytes) -> int:
        return self.out.write(data.replace(b"\r\n", b"\n"))
