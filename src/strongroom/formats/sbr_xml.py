"""Reader of SMS Backup & Restore XML: ``<smses>`` (``<sms>``, ``<mms>``) and ``<calls>`` files.

Streams with lxml ``iterparse`` over a :class:`~strongroom.formats.xml_repair.RepairedXml`
stream, freeing every element (and the ones before it) once its record is yielded, so memory
stays flat however large the file.  What cannot be read is reported as a
:class:`~strongroom.messages.records.Problem` naming the file and line, and reading goes on:

* a truncated or damaged file keeps every complete record before the damage, then reports where
  it ends;
* a root ``count`` that disagrees with the records found is reported;
* records repeated byte for byte (within the last :data:`REPEAT_WINDOW` records, compared by a
  64-bit hash of their attributes) are yielded both (the messages service stores each message
  once) and noted;
* an attachment with invalid base64 or no content is left out and reported; its message keeps
  its text and other parts.

The file is refused (:class:`~strongroom.formats.base.BadInput`) only when nothing can be read:
not XML, a DTD, a root that is neither ``smses`` nor ``calls``, or damage before the first
record.  MMS records may come a little after the SMS that follow them in the file: a group MMS
waits until the owner's number is known (see :mod:`~strongroom.formats.mms_owner`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from strongroom.formats.base import BadInput, ReadOptions
from strongroom.formats.mms_owner import OwnerInference
from strongroom.formats.sbr_fields import call_record, sms_record, to_int
from strongroom.formats.sbr_mms import MmsBuilder
from strongroom.formats.xml_repair import RepairedXml
from strongroom.messages.records import Problem, Record

ROOTS = ("smses", "calls")
REPEAT_WINDOW = 4096
_TAGS = ("smses", "calls", "sms", "mms", "part", "call")


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
    """One pass over one file: the parser loop and what it has counted so far."""

    def __init__(self, name: str, options: ReadOptions) -> None:
        self.name = name
        self.options = options
        self.owner = OwnerInference(options.owner_numbers, options.default_region)
        self.count: int | None = None
        self.found = 0
        self.started = False
        self.mms: MmsBuilder | None = None
        self.recent: OrderedDict[int, int] = OrderedDict()

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
        events = etree.iterparse(
            stream,
            events=("end",),  # start events would cost a third more time
            tag=_TAGS,
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            try:
                for event, element in events:
                    yield from self.handle(event, element)
            except etree.XMLSyntaxError as e:
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
        for part in unfinished:
            part.content.discard()
        self.mms = None

    def handle(self, event: str, element: Any) -> Iterator[Record]:
        tag = element.tag
        if not self.started:
            self.started = True
            root = element if tag in ROOTS else element.getparent()
            self.count = to_int(root.get("count")) if root is not None else None
        if tag == "part":
            parts = element.getparent()
            mms = parts.getparent() if parts is not None else None
            if mms is not None and mms.tag == "mms":
                self.builder(mms).add_part(attributes(element), element.sourceline)
            element.clear()
            return
        line = element.sourceline
        if tag in ("sms", "call"):
            attrs = attributes(element)
            yield from self.repeated(tag, line, hash((tag, tuple(attrs.items()))))
            result = sms_record(attrs) if tag == "sms" else call_record(attrs)
            if isinstance(result, str):
                yield Problem(self.where(line), result)
            else:
                self.found += 1
                yield result
        elif tag == "mms":
            yield from self.finish_mms(element)
        else:
            return
        _free(element)

    def builder(self, mms: Any) -> MmsBuilder:
        """The MMS being read (its start tag, with every attribute, is parsed by now)."""
        if self.mms is None:
            self.mms = MmsBuilder(attributes(mms), mms.sourceline, self.name, self.options.scratch)
        return self.mms

    def finish_mms(self, element: Any) -> Iterator[Record]:
        builder = self.builder(element)
        self.mms = None
        addrs = [attributes(a) for a in element.iter("addr")]
        key = hash((builder.key, *(tuple(a.items()) for a in addrs)))
        yield from self.repeated("mms", builder.line, key)
        record, addresses = builder.finish(addrs)
        for message in builder.problems:
            yield Problem(builder.where, message)
        self.found += 1
        yield from self.owner.offer(record, addresses, builder.where)

    def repeated(self, tag: str, line: int, key: int) -> Iterator[Problem]:
        """Note a record that repeats an earlier one byte for byte (both are kept)."""
        if key in self.recent:
            yield Problem(
                self.where(line),
                f"this {tag} repeats the one at line {self.recent[key]} exactly; "
                "both were read, the import stores it once",
            )
        self.recent[key] = line
        self.recent.move_to_end(key)
        if len(self.recent) > REPEAT_WINDOW:
            self.recent.popitem(last=False)

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


def attributes(element: Any) -> dict[str, str]:
    """An element's attributes as a dict (three times faster than ``dict(element.attrib)``)."""
    return dict(zip(element.keys(), element.values(), strict=True))


def _fatal(error: etree.XMLSyntaxError) -> tuple[int, str]:
    """The line and message of the parser's fatal error (the exception's own text can be a
    generic "no element found"; the log may also hold older entries, so the last one counts)."""
    fatals = error.error_log.filter_from_fatals()
    if fatals:
        return fatals[-1].line, fatals[-1].message
    return error.lineno or 1, error.msg or str(error)


def _free(element: Any) -> None:
    """Drop a handled element and everything before it, so the tree never grows."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
