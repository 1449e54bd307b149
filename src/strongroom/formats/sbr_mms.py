"""One ``<mms>`` of SMS Backup & Restore XML, assembled part by part as the parser meets them.

Each ``<part>`` is turned into a :class:`PartRecord` the moment its element ends: base64 ``data``
is decoded in slices straight into a spooled file, so the caller can free the element (and its
attribute text) at once, and at most one attachment's text is ever in memory.
"""

from __future__ import annotations

import binascii
import json
import mimetypes
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from pybase64 import b64decode

from strongroom.formats.mms_owner import FROM, INSERT_ADDRESS_TOKEN, MmsAddresses, split_addresses
from strongroom.formats.sbr_fields import (
    MMS_DEFAULTS,
    MMS_MAPPED,
    SOURCE,
    box,
    date_sent_ms,
    drop_defaults,
    extras,
    flag,
    optional,
    time_ms,
    to_int,
)
from strongroom.messages.records import (
    FileContent,
    InlineContent,
    MessageRecord,
    PartContent,
    PartRecord,
)

SLICE = 4 << 20
"""Base64 characters decoded at a time (a multiple of 4)."""
INLINE_TEXT_LIMIT = 256 * 1024
"""Text parts up to this size stay in memory; larger ones are spooled like attachments."""
INLINE_DATA_LIMIT = 4 * 256 * 1024 // 3
"""Base64 ``data`` decoding to up to 256 KiB is kept in memory (a picture of a message, most
often); larger attachments are spooled.  A reading process moves what a hand-over cannot hold to
files (:data:`strongroom.formats.reading.INLINE_PER_HANDOVER`)."""
TEXT_PARTS = ("text/plain", "application/smil")
"""Parts the app writes as a ``text`` attribute; every other part goes in ``data``."""
PART_FIELDS = frozenset({"ct", "text", "data"})
ADDRS_KEY = "@addrs"
"""Key in ``MessageRecord.extra`` of the ``<addrs>`` as read, a JSON list of [address, type,
charset] (not an attribute name, so it cannot clash with one)."""

_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+$")


def decode_base64(text: str) -> Iterator[bytes]:
    """The bytes of base64 ``text``, a slice at a time; raises binascii.Error if it is invalid.

    Decoded by pybase64 (SIMD), as strictly as ``binascii.a2b_base64(strict_mode=True)`` and
    about fifty times faster: the standard decoder ran at 200 MB/s, a second of every
    200,000-message import's reading (1% pictures of 100 KB)."""
    carry = ""
    for start in range(0, len(text), SLICE):
        piece = carry + text[start : start + SLICE]
        if not piece.isascii():
            raise binascii.Error("Only base64 data is allowed")
        usable = len(piece) - len(piece) % 4
        try:
            data = b64decode(piece[:usable], validate=True)
        except binascii.Error:
            # Line breaks (or garbage): strict decoding refuses both, so drop the whitespace
            # and let strict decoding judge what is left.
            piece = "".join(piece.split())
            usable = len(piece) - len(piece) % 4
            data = b64decode(piece[:usable], validate=True)
        if data:
            yield data
        carry = piece[usable:]
    if carry:
        raise binascii.Error("the text stops in the middle of a base64 group")


def part_filename(attrs: dict[str, str]) -> str | None:
    for key in ("name", "fn", "cl"):
        value = optional(attrs.get(key))
        if value:
            return value
    return None


class MmsBuilder:
    """Collects one ``<mms>``: its attributes at the start tag, its parts as they end."""

    def __init__(self, attrs: dict[str, str], line: int, name: str, scratch: Path | None) -> None:
        self.attrs = attrs
        self.line = line
        self.where = f"{name} line {line}"
        self.name = name
        self.scratch = scratch
        self.parts: list[PartRecord] = []
        self.problems: list[str] = []
        self.raw_addrs: str | None = None
        self.key = hash(("mms", tuple(attrs.items())))
        """A running hash of everything in the element, to spot exact repeats."""

    def add_part(self, attrs: dict[str, str], line: int) -> None:
        """Turn one ``<part>`` into a PartRecord (or a problem); its element may be freed after."""
        self.key = hash((self.key, tuple(attrs.items())))
        number = len(self.parts) + len(self.problems) + 1
        filename = part_filename(attrs)
        label = f"attachment {number}" + (f" ({filename})" if filename else "")
        content_type = (optional(attrs.get("ct")) or "").strip().lower()
        if not _CONTENT_TYPE.match(content_type):
            guessed = mimetypes.guess_type(filename or "")[0] or "application/octet-stream"
            self.problems.append(
                f"{label} on line {line} has no usable content type ({attrs.get('ct')!r}); "
                f"it was kept as {guessed}"
            )
            content_type = guessed
        content = self._content(attrs, label, line)
        if content is None:
            return
        extra = {k: v for k, v in attrs.items() if k not in PART_FIELDS}
        self.parts.append(PartRecord(content_type, content, filename, extra))

    def _content(self, attrs: dict[str, str], label: str, line: int) -> PartContent | None:
        data = optional(attrs.get("data"))
        if data:
            try:
                if len(data) <= INLINE_DATA_LIMIT:  # lxml holds it already; no file for it
                    return InlineContent(b"".join(decode_base64(data)))
                return FileContent.spool(decode_base64(data), self.scratch)
            except binascii.Error as e:
                self.problems.append(
                    f"{label} on line {line} is not valid base64 ({e}); the attachment was "
                    "left out, the message kept"
                )
                return None
        text = optional(attrs.get("text"))
        if text is not None:
            encoded = text.encode("utf-8", "replace")
            if len(encoded) <= INLINE_TEXT_LIMIT:
                return InlineContent(encoded)
            return FileContent.spool(iter((encoded,)), self.scratch)
        self.problems.append(
            f"{label} on line {line} has neither data nor text: the backup did not include it"
        )
        return None

    def discard(self) -> None:
        """Drop the MMS (a repeat): free the files its parts were spooled to."""
        for part in self.parts:
            part.content.discard()
        self.parts = []

    def finish(self, addr_attrs: Iterable[dict[str, str]]) -> tuple[MessageRecord, MmsAddresses]:
        """The message, without its sender and participants (the owner inference decides)."""
        attrs = self.attrs
        when = time_ms(attrs.get("date")) or (0, "ms")
        if to_int(attrs.get("date")) is None:
            self.problems.append("the MMS has no valid date; it was kept with date 0")
        direction, status = box(attrs.get("msg_box")) or ("in", "received")
        texts = []
        for p in self.parts:
            if p.content_type == "text/plain" and isinstance(p.content, InlineContent):
                raw = p.content.read()
                try:
                    texts.append(raw.decode("utf-8"))
                except UnicodeDecodeError:  # a part called text, or named .txt, that is not
                    texts.append(raw.decode("utf-8", "replace"))
                    named = f" ({p.filename})" if p.filename else ""
                    self.problems.append(
                        f"a text part{named} is not UTF-8 text: the message's text has "
                        "replacement characters for what could not be read (the part is kept "
                        "as it came)"
                    )
        body = "\n".join(texts)
        addresses = self._addresses(addr_attrs, direction == "in")
        extra = drop_defaults(extras(attrs, MMS_MAPPED), MMS_DEFAULTS)
        if self.raw_addrs is not None:
            extra[ADDRS_KEY] = self.raw_addrs
        record = MessageRecord(
            kind="mms",
            direction=direction,
            date_ms=when[0],
            date_precision=when[1],
            date_sent_ms=date_sent_ms(attrs.get("date_sent")),
            body=body,
            read=flag(attrs.get("read")),
            status=status,
            subject=optional(attrs.get("sub")) or None,
            parts=self.parts,
            guid=optional(attrs.get("m_id")),
            source=SOURCE,
            extra=extra,
        )
        return record, addresses

    def _addresses(self, addr_attrs: Iterable[dict[str, str]], incoming: bool) -> MmsAddresses:
        addrs: list[tuple[str, int]] = []
        raw: list[list[str]] = []
        token = False
        for a in addr_attrs:
            address = (optional(a.get("address")) or "").strip()
            raw.append([a.get("address", ""), a.get("type", ""), a.get("charset", "")])
            if address == INSERT_ADDRESS_TOKEN:
                token = True
            elif address:
                addrs.append((address, to_int(a.get("type")) or 0))
        if raw:
            self.raw_addrs = json.dumps(raw, ensure_ascii=False)
        thread = split_addresses(self.attrs.get("address"))
        if not addrs and incoming and len(thread) >= 1:
            addrs = [(thread[0], FROM)]
        return MmsAddresses(addrs, thread, incoming, token)
