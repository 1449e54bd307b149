"""The text of an iMessage ``attributedBody``: an ``NSAttributedString`` archived by NSArchiver.

The blob is a *typedstream* (``04 0b "streamtyped" ...``).  Its first object is the attributed
string; the plain text is the ``NSString`` inside it, written as the class definition
(``... "NSString" ...``), the marker ``84 01 2b`` (a new object holding one ``+``-typed value,
i.e. a C string of bytes), then the length and exactly that many UTF-8 bytes.  The length is a
typedstream integer: one byte below ``0x80``, or ``0x81`` and a little-endian uint16, or ``0x82``
and a little-endian uint32.

Since iOS 16 most messages keep their text only here (the ``text`` column is NULL), so the
decoder must be exact: the text may contain the bytes ``86 84`` (the end-of-object marker) inside
a multi-byte character, and it may be longer than 255 or 65535 bytes.  Some real blobs claim more
bytes than they hold (imessage-exporter's ``ExtraData`` sample); then the string ends where the
valid UTF-8 ends, because what follows the string (``86 84 ...``) can never start a character.
"""

from __future__ import annotations

from strongroom.formats.base import BadInput

_CLASS_NAME = b"NSString"
_STRING_MARKER = b"\x84\x01\x2b"
_INT16 = 0x81
_INT32 = 0x82


class BadTypedStream(BadInput):
    """An ``attributedBody`` blob has an NSString whose length cannot be read."""

    slug = "bad-typedstream"
    title = "The message body blob cannot be read"


def attributed_body_text(blob: bytes) -> str | None:
    """The plain text held by an ``attributedBody`` blob.

    Returns None when the blob has no ``NSString`` (not an attributed string at all), and ``""``
    for an empty one.  Never reads past the blob.  Raises :class:`BadTypedStream`, naming the byte
    offset, when the string's length is missing or not a typedstream integer.
    """
    found = blob.find(_CLASS_NAME)
    if found < 0:
        return None
    marker = blob.find(_STRING_MARKER, found + len(_CLASS_NAME))
    if marker < 0:
        return None
    length, start = _read_length(blob, marker + len(_STRING_MARKER))
    end = start + length
    if end <= len(blob):
        return blob[start:end].decode("utf-8", errors="replace")
    return _longest_utf8_prefix(blob[start:])


def _read_length(blob: bytes, at: int) -> tuple[int, int]:
    """The typedstream integer at ``at`` and the offset just after it."""
    if at >= len(blob):
        raise BadTypedStream(f"attributedBody byte {at}: the string length is missing")
    head = blob[at]
    if head < 0x80:
        return head, at + 1
    width = {_INT16: 2, _INT32: 4}.get(head)
    if width is None:
        raise BadTypedStream(f"attributedBody byte {at}: 0x{head:02x} is not a string length")
    if at + 1 + width > len(blob):
        raise BadTypedStream(f"attributedBody byte {at}: the string length is cut off")
    return int.from_bytes(blob[at + 1 : at + 1 + width], "little"), at + 1 + width


def _longest_utf8_prefix(data: bytes) -> str:
    """``data`` decoded up to its first byte that is not valid UTF-8 (for over-long lengths)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        return data[: e.start].decode("utf-8")
