"""The base64 ``data`` of an MMS ``<part>``, taken out of a line before the XML parser reads it.

Attachments are most of the bytes of an SMS Backup & Restore file, and libxml2 reads an attribute
value a character at a time: handing it a short placeholder instead, and the real value to the
``<part>`` afterwards, halves the time a file full of pictures takes.  It is done only where it
cannot change what the parser sees: a line that starts with a ``<part`` start tag (checked
attribute by attribute up to ``data="``) whose value is plain ASCII without ``< > & '``, tabs or
carriage returns, so that the value is the bytes as they are (no reference to resolve, no white
space to normalise) and the placeholder, plain letters and digits, parses the same way whatever
the line turns out to be (inside a comment, the placeholder is simply never seen).
"""

from __future__ import annotations

import re
import secrets

CUT_FROM = 64 * 1024
"""Lines shorter than this are left alone (the check would cost more than it saves)."""

_DATA_VALUE = re.compile(
    rb"""\s*<part(?:\s+(?!data\s*=)[^\s=<>/"']++\s*=\s*(?:"[^"<]*+"|'[^'<]*+'))*+"""
    rb"""\s+data\s*=\s*\""""
)
_NOT_PLAIN = (b"<", b">", b"&", b"'", b"\t", b"\r")


class PartData:
    """Cuts ``data`` values out of lines, and puts them back into the ``<part>`` attributes."""

    def __init__(self) -> None:
        self.placeholder = "strongroom" + secrets.token_hex(16)
        """Unguessable, so no file can hold it."""
        self._placeholder = self.placeholder.encode("ascii")
        self.pending: str | None = None
        """The value cut from the last line that had one, until its ``<part>`` takes it."""

    def cut(self, line: bytes) -> bytes:
        """``line`` with the value of its part's ``data`` replaced by the placeholder, if it
        can be; the value is kept in :attr:`pending`."""
        if len(line) < CUT_FROM:
            return line
        match = _DATA_VALUE.match(line)
        if match is None:
            return line
        start = match.end()
        end = line.find(b'"', start)
        if end < 0:
            return line
        value = line[start:end]
        if not value.isascii() or any(c in value for c in _NOT_PLAIN):
            return line
        self.pending = value.decode("ascii")
        return line[:start] + self._placeholder + line[end:]

    def restore(self, attrs: dict[str, str]) -> None:
        """Put the cut value back if ``attrs`` are those of the part it was cut from."""
        if attrs.get("data") == self.placeholder and self.pending is not None:
            attrs["data"] = self.pending
            self.pending = None
