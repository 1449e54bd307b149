"""A byte stream that turns real-world "XML" backups into XML a strict parser accepts.

Phones and converters write files that break XML 1.0 in a few known ways.  :class:`RepairedXml`
sits between the file and lxml and fixes them on the fly, chunk by chunk, in constant memory:

* UTF-16 files (with or without a byte order mark) and files in a declared 8-bit encoding are
  transcoded to UTF-8, and the declaration rewritten to say so (a file labelled UTF-16 but written
  in 8 bits is taken as UTF-8); a UTF-8 byte order mark is dropped;
* character references to UTF-16 surrogates (``&#55357;&#56832;``, how some Android versions
  write emoji) are joined into one reference to the real character (``&#128512;``); a surrogate
  without its partner becomes U+FFFD;
* references to characters XML 1.0 forbids (``&#x11;``, ``&#0;``) and raw control bytes are
  dropped;
* a document type declaration is refused (:class:`~strongroom.formats.base.BadInput`) before the
  parser sees it, so no entity (billion laughs, ``SYSTEM "file:///etc/passwd"``) can be expanded
  or fetched.

UTF-8 input is repaired as bytes, without decoding (decoding costs more than parsing); bytes that
are not valid UTF-8 are left for the parser to report, at their line.  Line breaks are never added
or removed, so line numbers the parser reports are those of the original file.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from strongroom.formats.base import BadInput

CHUNK = 1 << 20
LINE_LIMIT = 16 << 20
"""Longest line :meth:`RepairedXml.lines` joins across blocks."""
PROLOG_LIMIT = 64 * 1024
"""How far into the file the root element must start (the XML declaration, comments, PIs)."""

_REF = rb"&#(?:[xX][0-9A-Fa-f]{1,8}|[0-9]{1,10});"
# Line breaks and tabs (the references every file is full of) are valid and left alone.
_REFS = re.compile(rb"&#(?!(?:10|13|9);)((?:[xX][0-9A-Fa-f]{1,8}|[0-9]{1,10});)(" + _REF + b")?")
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_CONTROL_NEEDLES = [bytes([b]) for b in _CONTROL_BYTES]
# A reference (or a run of them) cut by the end of a chunk: kept back for the next one.
_OPEN_TAIL = re.compile(rb"(?:&#[xX]?[0-9A-Fa-f]{0,10};)*(?:&(?:#[xX]?[0-9A-Fa-f]{0,10})?)?\Z")
_DECLARATION = re.compile(rb"<\?xml[^>]*?\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")
_SKIPPABLE = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_ROOT = re.compile(rb"<([A-Za-z_][\w.\-]*(?::[\w.\-]+)?)")


def _code(ref: bytes) -> int:
    return int(ref[3:-1], 16) if ref[2:3] in b"xX" else int(ref[2:-1])


def _allowed(c: int) -> bool:
    return (
        c in (0x9, 0xA, 0xD)
        or 0x20 <= c <= 0xD7FF
        or 0xE000 <= c <= 0xFFFD
        or 0x10000 <= c <= 0x10FFFF
    )


def _fix_one(ref: bytes) -> bytes:
    c = _code(ref)
    if _allowed(c):
        return ref
    if 0xD800 <= c <= 0xDFFF or c > 0x10FFFF:
        return b"&#65533;"
    return b""  # a control character: XML 1.0 has no way to carry it


def _fix_refs(match: re.Match[bytes]) -> bytes:
    first, second = b"&#" + match.group(1), match.group(2)
    if second is None:
        return _fix_one(first)
    high, low = _code(first), _code(second)
    if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
        return b"&#%d;" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    return _fix_one(first) + _fix_one(second)


def repair(data: bytes) -> bytes:
    """One piece of UTF-8: references fixed, forbidden control bytes dropped."""
    # One memchr for "&" is far faster than looking for "&#" (and than the regular expression).
    if b"&" in data:
        data = _REFS.sub(_fix_refs, data)
    # One memchr per byte value is far faster than a regular expression or translate().
    if any(needle in data for needle in _CONTROL_NEEDLES):
        data = data.translate(None, _CONTROL_BYTES)
    return data


def _sniff_encoding(head: bytes) -> tuple[str, int]:
    """The encoding from a byte order mark or the first characters, and the BOM's length."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if head.startswith(b"<\x00"):
        return "utf-16-le", 0
    if head.startswith(b"\x00<"):
        return "utf-16-be", 0
    match = _ENCODING.search(head[:200])
    declared = match.group(1).decode().lower() if match and head.startswith(b"<?xml") else "utf-8"
    if declared.startswith("utf-16") or declared in ("ucs-2", "unicode", "utf8"):
        return "utf-8", 0  # labelled 16-bit but written in 8 bits (a converter's mistake)
    return declared, 0


class RepairedXml:
    """A read-only binary stream of repaired UTF-8 XML, for ``lxml.etree.iterparse``.

    ``name`` is used in error messages.  :meth:`root_name` reads just enough of the file to name
    its root element (raising :class:`BadInput` for a DTD or an unknown encoding).
    """

    def __init__(self, raw: BinaryIO, name: str) -> None:
        self._raw = raw
        self.name = name
        self._out = bytearray()
        self._pos = 0
        self._held = b""
        self._decoder: codecs.IncrementalDecoder | None = None
        self._started = False
        self._prolog: bytes | None = b""
        self._root: str | None = None
        self._eof = False

    def root_name(self) -> str | None:
        """The root element's name, or None if the file does not start like XML at all."""
        while self._prolog is not None and not self._eof:
            self._out += self._next()
        return self._root

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (fewer only at the end); all that is left if ``size`` < 0."""
        while not self._eof and (size < 0 or len(self._out) - self._pos < size):
            if self._pos:
                del self._out[: self._pos]  # once per refill, not once per read
                self._pos = 0
            self._out += self._next()
        end = len(self._out) if size < 0 else min(len(self._out), self._pos + size)
        data = bytes(self._out[self._pos : end])
        self._pos = end
        return data

    def blocks(self) -> Iterator[bytes]:
        """The rest of the stream as it is repaired, in blocks of about :data:`CHUNK` bytes.

        The same bytes :meth:`read` gives, without copying them through a buffer.
        """
        if self._pos < len(self._out):
            yield bytes(self._out[self._pos :])
        self._out.clear()
        self._pos = 0
        while not self._eof:
            block = self._next()
            if block:
                yield block

    def lines(self) -> Iterator[bytes]:
        """The rest of the stream line by line, each with its ``"\\n"`` (the file's last line
        may have none).  A line longer than :data:`LINE_LIMIT` comes in pieces, only the last of
        which ends with the line break."""
        held: list[bytes] = []
        size = 0
        for block in self.blocks():
            for piece in io.BytesIO(block):  # BytesIO finds the line breaks by memchr
                if piece[-1] != 0x0A:  # the block ends inside this line
                    held.append(piece)
                    size += len(piece)
                    if size > LINE_LIMIT:
                        yield b"".join(held)
                        held, size = [], 0
                    continue
                if held:
                    held.append(piece)
                    piece = b"".join(held)
                    held, size = [], 0
                yield piece
        if held:
            yield b"".join(held)

    def _next(self) -> bytes:
        """The next piece of the file, repaired (empty while the prolog is held back)."""
        raw = self._raw.read(CHUNK)
        if not self._started:
            raw = self._start(raw)
        if self._decoder is not None:
            raw = self._decoder.decode(raw, final=not raw).encode("utf-8")
        data = self._held + raw
        if not raw:
            self._eof, self._held = True, b""
        else:
            tail = _OPEN_TAIL.search(data, max(0, len(data) - 96))
            cut = tail.start() if tail else len(data)
            data, self._held = data[:cut], data[cut:]
        if self._prolog is not None:
            data = self._scan_prolog(data)
        return repair(data) if data else b""

    def _start(self, raw: bytes) -> bytes:
        self._started = True
        encoding, bom = _sniff_encoding(raw[:256])
        try:
            if codecs.lookup(encoding).name != "utf-8":
                self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        except LookupError:
            raise BadInput(
                f"{self.name}: line 1: the file declares an unknown encoding {encoding!r}"
            ) from None
        return raw[bom:]

    def _scan_prolog(self, data: bytes) -> bytes:
        """Hold bytes back until the root element starts; refuse a DTD; relabel the encoding."""
        assert self._prolog is not None
        prolog = self._prolog + data
        pos = 0
        declaration = _DECLARATION.match(prolog)
        if declaration:
            fixed = _ENCODING.sub(b'encoding="UTF-8"', declaration.group(0))
            prolog = fixed + prolog[declaration.end() :]
            pos = len(fixed)
        while match := _SKIPPABLE.match(prolog, pos):
            pos = match.end()
        rest = prolog[pos:].lstrip()
        if rest.startswith((b"<!DOCTYPE", b"<!ENTITY")):
            line = prolog.count(b"\n", 0, len(prolog) - len(rest)) + 1
            raise BadInput(
                f"{self.name}: line {line}: the file has a document type declaration (DTD); "
                "backup files never do, and entities are refused for safety"
            )
        root = _ROOT.match(rest)
        if root:
            self._root = root.group(1).decode("ascii", "replace")
        elif len(prolog) < PROLOG_LIMIT and not self._eof and (not rest or rest[:1] == b"<"):
            self._prolog = prolog
            return b""
        self._prolog = None
        return prolog
