"""A byte stream that turns real-world "XML" backups into XML a strict parser accepts.

Phones and converters write files that break XML 1.0 in a few known ways.  :class:`RepairedXml`
sits between the file and lxml and fixes them on the fly, chunk by chunk, in constant memory:

* the text is decoded (UTF-8 with or without BOM, UTF-16 with or without BOM, or the encoding the
  declaration names) and handed on as UTF-8, the declaration rewritten to say so; bytes that are
  not valid in that encoding become U+FFFD instead of ending the parse;
* character references to UTF-16 surrogates (``&#55357;&#56832;``, how some Android versions
  write emoji) are joined into one reference to the real character (``&#128512;``); a surrogate
  without its partner becomes U+FFFD;
* references to characters XML 1.0 forbids (``&#x11;``, ``&#0;``) and the raw control characters
  themselves are dropped;
* a document type declaration is refused (:class:`~strongroom.formats.base.BadInput`) before the
  parser sees it, so no entity (billion laughs, ``SYSTEM "file:///etc/passwd"``) can be expanded
  or fetched.

Line breaks are never added or removed, so line numbers the parser reports are those of the
original file.
"""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO

from strongroom.formats.base import BadInput

CHUNK = 1 << 20
PROLOG_LIMIT = 64 * 1024
"""How far into the file the root element must start (the XML declaration, comments, PIs)."""

_REF = r"&#(?:[xX][0-9A-Fa-f]{1,8}|[0-9]{1,10});"
_REFS = re.compile(f"({_REF})({_REF})?")
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A reference (or a run of them) cut by the end of a chunk: kept back for the next one.
_OPEN_TAIL = re.compile(r"(?:&#[xX]?[0-9A-Fa-f]{0,10};)*(?:&(?:#[xX]?[0-9A-Fa-f]{0,10})?)?\Z")
_DECLARATION = re.compile(r"<\?xml[^>]*?\?>")
_ENCODING = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")
_SKIPPABLE = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_ROOT = re.compile(r"<([A-Za-z_][\w.\-]*(?::[\w.\-]+)?)")


def _code(ref: str) -> int:
    return int(ref[3:-1], 16) if ref[2] in "xX" else int(ref[2:-1])


def _allowed(c: int) -> bool:
    return (
        c in (0x9, 0xA, 0xD)
        or 0x20 <= c <= 0xD7FF
        or 0xE000 <= c <= 0xFFFD
        or 0x10000 <= c <= 0x10FFFF
    )


def _fix_one(ref: str) -> str:
    c = _code(ref)
    if _allowed(c):
        return ref
    if 0xD800 <= c <= 0xDFFF or c > 0x10FFFF:
        return "&#65533;"
    return ""  # a control character: XML 1.0 has no way to carry it


def _fix_refs(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    if second is None:
        return _fix_one(first)
    high, low = _code(first), _code(second)
    if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
        return f"&#{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)};"
    return _fix_one(first) + _fix_one(second)


def repair_text(text: str) -> str:
    """Fix character references and drop forbidden characters in one piece of decoded text."""
    if "&#" in text:
        text = _REFS.sub(_fix_refs, text)
    if _FORBIDDEN.search(text):
        text = _FORBIDDEN.sub("", text)
    return text


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
    match = _ENCODING.search(head[:200].decode("latin-1"))
    declared = match.group(1).lower() if match and head.startswith(b"<?xml") else "utf-8"
    if declared.startswith("utf-16") or declared in ("ucs-2", "unicode"):
        return "utf-8", 0  # labelled 16-bit but written in 8 bits (a converter's mistake)
    return declared, 0


class RepairedXml:
    """A read-only binary stream of repaired UTF-8 XML, for ``lxml.etree.iterparse``.

    ``name`` is used in error messages.  :meth:`root_name` reads just enough of the file to name
    its root element (raising :class:`BadInput` for a DTD or a prolog that never ends).
    """

    def __init__(self, raw: BinaryIO, name: str) -> None:
        self._raw = raw
        self.name = name
        self._out = bytearray()
        self._held = ""
        self._decoder: codecs.IncrementalDecoder | None = None
        self._prolog: str | None = ""
        self._root: str | None = None
        self._eof = False

    def root_name(self) -> str | None:
        """The root element's name, or None if the file does not start like XML at all."""
        while self._prolog is not None and not self._eof:
            self._fill()
        return self._root

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._out) < size):
            self._fill()
        if size < 0 or size >= len(self._out):
            data = bytes(self._out)
            self._out.clear()
        else:
            data = bytes(self._out[:size])
            del self._out[:size]
        return data

    def _fill(self) -> None:
        raw = self._raw.read(CHUNK)
        if self._decoder is None:
            raw = self._start(raw)
        assert self._decoder is not None
        final = not raw
        text = self._held + self._decoder.decode(raw, final=final)
        if final:
            self._eof, self._held = True, ""
        else:
            tail = _OPEN_TAIL.search(text, max(0, len(text) - 96))
            cut = tail.start() if tail else len(text)
            text, self._held = text[:cut], text[cut:]
        text = repair_text(text)
        if self._prolog is not None:
            text = self._scan_prolog(text)
        if text:
            self._out += text.encode("utf-8")

    def _start(self, raw: bytes) -> bytes:
        encoding, bom = _sniff_encoding(raw[:256])
        try:
            self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        except LookupError:
            raise BadInput(
                f"{self.name}: line 1: the file declares an unknown encoding {encoding!r}"
            ) from None
        return raw[bom:]

    def _scan_prolog(self, text: str) -> str:
        """Hold text back until the root element starts; refuse a DTD; relabel the encoding."""
        assert self._prolog is not None
        prolog = self._prolog + text
        pos = 0
        declaration = _DECLARATION.match(prolog)
        if declaration:
            fixed = _ENCODING.sub('encoding="UTF-8"', declaration.group(0))
            prolog = fixed + prolog[declaration.end() :]
            pos = len(fixed)
        while match := _SKIPPABLE.match(prolog, pos):
            pos = match.end()
        rest = prolog[pos:].lstrip()
        if rest.startswith(("<!DOCTYPE", "<!ENTITY")):
            line = prolog.count("\n", 0, len(prolog) - len(rest)) + 1
            raise BadInput(
                f"{self.name}: line {line}: the file has a document type declaration (DTD); "
                "backup files never do, and entities are refused for safety"
            )
        root = _ROOT.match(rest)
        if root:
            self._root = root.group(1)
        elif len(prolog) < PROLOG_LIMIT and not self._eof and (not rest or rest[0] == "<"):
            self._prolog = prolog
            return ""
        self._prolog = None
        return prolog
