"""Reader of SMS Backup & Restore XML: ``<smses>`` (``<sms>``, ``<mms>``) and ``<calls>`` files.

Streams a :class:`~strongroom.formats.xml_repair.RepairedXml` stream into lxml's parser, one
line at a time, with this module as the parser target: no element tree is built, each record is
made from the attributes the parser hands over, so memory stays flat however large the file.
What cannot be read is reported as a :class:`~strongroom.messages.records.Problem` naming the
file and line, and reading goes on:

* a truncated or damaged file keeps every complete record before the damage, then reports where
  it ends;
* a root ``count`` that disagrees with the records found is reported;
* records repeated byte for byte (within the last :data:`REPEAT_WINDOW` records, compared by a
  64-bit hash of their attributes and parts), a known fault of some backups, are yielded once
  and the repeat noted (two real messages always differ, at least in their time);
* an attachment with invalid base64 or no content is left out and reported; its message keeps
  its text and other parts.

The file is refused (:class:`~strongroom.formats.base.BadInput`) only when nothing can be read:
not XML, a DTD, a root that is neither ``smses`` nor ``calls``, or damage before the first
record.  MMS records may come a little after the SMS that follow them in the file: a group MMS
waits until the owner's number is known (see :mod:`~strongroom.formats.mms_owner`).

Names are read as the parser target gets them: a name with a namespace prefix that nothing
declares (``<x:sms>``, ``x:body="..."``, only ever seen in damaged files) counts without its
prefix, and such a file is not reported as damaged for it (libxml2 only minds when it builds a
tree).  Attachment data is taken out of the way of the parser (:mod:`.sbr_part_data`).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from lxml import etree

from strongroom.formats.base import BadInput, ReadOptions
from strongroom.formats.mms_owner import OwnerInference
from strongroom.formats.sbr_fields import call_record, sms_record, to_int
from strongroom.formats.sbr_mms import MmsBuilder
from strongroom.formats.sbr_part_data import PartData
from strongroom.formats.xml_repair import RepairedXml
from strongroom.messages.records import MessageRecord, Problem, Record

ROOTS = ("smses", "calls")
REPEAT_WINDOW = 4096
_TAGS = frozenset(("smses", "calls", "sms", "mms", "part", "call"))

Attributes = dict[str, str]
_Open = tuple[str, Attributes, int, list[Attributes]]
"""An element whose end tag has not come yet: its tag, attributes and line (that of the end of
its start tag, as libxml2 counts), and the ``<addr>`` elements inside it that are still kept,
in document order."""


class SbrXmlReader:
    name = "sbr-xml"

    def sniff(self, path: Path) -> bool:
        if not path.is_file():
            return False
        with path.open("rb") as f:
            head = f.read(4096)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:2] in (b"<\x00", b"\x00<"):
            head = head.decode("utf-16", "replace").encode("utf-8")
        return b"<smses" in head or b"<calls" in head

    def read(self, path: Path, options: ReadOptions) -> Iterator[Record]:
        with path.open("rb") as raw:
            yield from _Parse(path.name, options).run(RepairedXml(raw, path.name))


class _Parse:
    """One pass over one file: the parser target, and what it has counted so far.

    lxml calls :meth:`start` and :meth:`end` while it parses a piece of the file; they put what
    they make in ``ready``, and :meth:`run` hands it out between pieces.  The pieces are lines,
    so ``line`` is where the parser is.  Records are made where the element ends, and the
    elements inside the ``<sms>``, ``<call>`` or ``<mms>`` just handled (and every element
    before it with the same parent) are forgotten, as if they had been deleted from a tree:
    an ``<mms>`` takes the ``<addr>`` elements left inside it when it ends.
    """

    def __init__(self, name: str, options: ReadOptions) -> None:
        self.name = name
        self.options = options
        self.owner = OwnerInference(options.owner_numbers, options.default_region)
        self.count: int | None = None
        self.found = 0
        self.started = False
        self.mms: MmsBuilder | None = None
        self.recent: OrderedDict[int, int] = OrderedDict()
        self.line = 1
        self.open: list[_Open] = []
        self.ready: deque[Record] = deque()
        self.part_data = PartData()

    def where(self, line: int | None) -> str:
        return f"{self.name} line {line}" if line else self.name

    def run(self, stream: RepairedXml) -> Iterator[Record]:
        root = stream.root_name()
        if root is None:
            raise BadInput(f"{self.name}: line 1: this is not an XML file")
        if root not in ROOTS:
            raise BadInput(
                f"{self.name}: line 1: the root element is <{root}>, not <smses> or <calls>; "
                "this is not an SMS Backup & Restore file"
            )
        parser = etree.XMLParser(
            target=cast("etree.ParserTarget[None]", self),
            huge_tree=True,
            # No DTD gets past RepairedXml, so only the predefined entities exist; with
            # resolve_entities=False a target would get "&" as "&#38;" in attribute values.
            resolve_entities="internal",
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
        )
        ready = self.ready
        try:
            try:
                cut = self.part_data.cut
                for piece in stream.lines():  # lines end at "\n" only, as libxml2 counts them
                    parser.feed(cut(piece))
                    if piece[-1] == 0x0A:  # not a piece of an overlong line
                        self.line += 1
                    while ready:
                        yield ready.popleft()
                parser.close()
            except etree.XMLSyntaxError as e:
                while ready:
                    yield ready.popleft()
                line, message = _fatal(e)
                if not self.started:
                    raise BadInput(f"{self.name}: line {line}: not readable XML: {message}") from e
                yield self.damaged(line, message)
            yield from self.owner.flush()
            yield from self.check_count()
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Delete the spooled parts of records never handed out (a cut file, a closed reader)."""
        unfinished = [*(self.mms.parts if self.mms else []), *self.owner.abandon()]
        for record in self.ready:
            if isinstance(record, MessageRecord):
                unfinished += record.parts
        for part in unfinished:
            part.content.discard()
        self.mms = None
        self.ready.clear()

    def start(self, tag: str, attrib: Attributes) -> None:
        """Parser target: an element's start tag (lxml passes an immutable mapping for none)."""
        if self.part_data.pending is not None and attrib:
            self.part_data.restore(attrib)
        self.open.append((tag, attrib or {}, self.line, []))

    def end(self, _tag: str) -> None:
        """Parser target: an element's end."""
        element = self.open.pop()
        tag, attrs, line, addrs = element
        if tag not in _TAGS:
            self.keep_addrs(tag, attrs, addrs)
            return
        if not self.started:
            self.begin(element)
        if tag == "sms" or tag == "call":
            self.record(tag, attrs, line)
        elif tag == "mms":
            self.finish_mms(element)
        elif tag == "part":
            if len(self.open) > 1 and self.open[-2][0] == "mms":
                self.builder(self.open[-2]).add_part(attrs, line)
            return  # a part is emptied, not deleted: what is inside it goes
        else:
            self.keep_addrs(tag, attrs, addrs)
            return
        if self.open:
            self.open[-1][3].clear()  # everything before it in its parent is gone

    def close(self) -> None:
        """Parser target: the end of the document (what is left is handed out by :meth:`run`)."""

    def keep_addrs(self, tag: str, attrs: Attributes, addrs: list[Attributes]) -> None:
        """An element that stays: its ``<addr>`` elements (and itself, if one) are its parent's."""
        if self.open and (addrs or tag == "addr"):
            kept = self.open[-1][3]
            if tag == "addr":
                kept.append(attrs)
            kept += addrs

    def begin(self, element: _Open) -> None:
        """The first element of ours has ended: the file is readable; note the root's count."""
        self.started = True
        tag, attrs = element[0], element[1]
        root = attrs if tag in ROOTS else self.open[-1][1] if self.open else None
        self.count = to_int(root.get("count")) if root is not None else None

    def record(self, tag: str, attrs: Attributes, line: int) -> None:
        if self.repeated(tag, line, hash((tag, tuple(attrs), tuple(attrs.values())))):
            self.found += 1
            return
        result = sms_record(attrs) if tag == "sms" else call_record(attrs)
        if isinstance(result, str):
            self.ready.append(Problem(self.where(line), result))
        else:
            self.found += 1
            self.ready.append(result)

    def builder(self, mms: _Open) -> MmsBuilder:
        """The MMS being read (its start tag, with every attribute, is parsed by now)."""
        if self.mms is None:
            self.mms = MmsBuilder(mms[1], mms[2], self.name, self.options.scratch)
        return self.mms

    def finish_mms(self, element: _Open) -> None:
        builder = self.builder(element)
        self.mms = None
        addrs = element[3]
        key = hash((builder.key, *(tuple(a.items()) for a in addrs)))
        if self.repeated("mms", builder.line, key):
            self.found += 1
            builder.discard()
            return
        record, addresses = builder.finish(addrs)
        for message in builder.problems:
            self.ready.append(Problem(builder.where, message))
        self.found += 1
        self.ready += self.owner.offer(record, addresses, builder.where)

    def repeated(self, tag: str, line: int, key: int) -> bool:
        """True, with a problem noted, for a record that repeats a recent one byte for byte
        (a known fault of some backups): it is left out, so the message is stored once."""
        recent = self.recent
        if key in recent:
            self.ready.append(
                Problem(
                    self.where(line),
                    f"this {tag} repeats the one at line {recent[key]} exactly; it is read once",
                )
            )
            recent.move_to_end(key)
            return True
        recent[key] = line
        if len(recent) > REPEAT_WINDOW:
            recent.popitem(last=False)
        return False

    def damaged(self, line: int, message: str) -> Problem:
        return Problem(
            self.where(line),
            f"the file ends early or is damaged here ({message}); the {self.found} "
            "complete records before this point were read, nothing after it",
        )

    def check_count(self) -> Iterator[Problem]:
        if self.count is not None and self.count != self.found:
            yield Problem(
                self.where(None),
                f"the file says it holds {self.count} records but {self.found} were found",
            )


def _fatal(error: etree.XMLSyntaxError) -> tuple[int, str]:
    """The line and message of the parser's fatal error (the exception's own text can be a
    generic "no element found"; the log may also hold older entries, so the last one counts)."""
    fatals = error.error_log.filter_from_fatals()
    if fatals:
        return fatals[-1].line, fatals[-1].message
    return error.lineno or 1, error.msg or str(error)
