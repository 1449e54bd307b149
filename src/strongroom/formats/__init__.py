"""Message formats: pure readers and writers of other tools' files (see :mod:`.base`).

``READERS`` and ``WRITERS`` map the names used on the command line and in the API to one
instance each; :func:`detect` picks the reader for ``--format auto``.  Registering a format is
one line in each table.
"""

from __future__ import annotations

from pathlib import Path

from strongroom.errors import InvalidInput
from strongroom.formats.apple import APPLE_READERS
from strongroom.formats.archive import ArchiveWriter
from strongroom.formats.base import BadInput, Reader, ReadOptions, Writer
from strongroom.formats.csv_export import CsvWriter
from strongroom.formats.html_export import HtmlWriter
from strongroom.formats.json_export import JsonWriter
from strongroom.formats.sbr_xml import SbrXmlReader
from strongroom.formats.sbr_xml_writer import SbrCallsWriter, SbrXmlWriter
from strongroom.formats.sms_backup_plus import SbpEmlReader, SbpMboxReader
from strongroom.formats.sms_backup_plus_writer import SbpMboxWriter, render_message
from strongroom.formats.text_export import TextWriter

__all__ = [
    "FORMATS",
    "READERS",
    "WRITERS",
    "BadInput",
    "ReadOptions",
    "Reader",
    "Writer",
    "detect",
    "reader_for",
    "render_message",
]

READERS: dict[str, Reader] = {
    **APPLE_READERS,
    "sbr-xml": SbrXmlReader(),
    "mbox": SbpMboxReader(),
    "eml": SbpEmlReader(),
}
READERS["sbp-mbox"] = READERS["mbox"]

WRITERS: dict[str, Writer] = {
    "sbr-xml": SbrXmlWriter(),
    "sbr-calls-xml": SbrCallsWriter(),
    "sbp-mbox": SbpMboxWriter(),
    "html": HtmlWriter(),
    "txt": TextWriter(),
    "csv": CsvWriter(),
    "json": JsonWriter(),
    "archive": ArchiveWriter(),
}
WRITERS["mbox"] = WRITERS["sbp-mbox"]


def detect(path: Path) -> Reader:
    """The reader for ``path`` (``--format auto``), judged by its name and first bytes.

    Raises BadInput when no reader recognises it.
    """
    seen: set[int] = set()
    for reader in READERS.values():
        if id(reader) in seen:
            continue
        seen.add(id(reader))
        if reader.sniff(path):
            return reader
    raise BadInput(
        f"{path.name}: not a format Strongroom can import (known: {', '.join(sorted(READERS))}); "
        "name the format explicitly if it is one of them"
    )


FORMATS = ("auto", *sorted(READERS))
"""The names ``--format`` and the API take."""


def reader_for(path: Path, format_name: str) -> Reader:
    """The reader of ``path``: named (one of :data:`FORMATS`), or found by :func:`detect`.

    Raises InvalidInput for an unknown format name, BadInput for a file no reader recognises.
    """
    if format_name == "auto":
        return detect(path)
    reader = READERS.get(format_name)
    if reader is None:
        raise InvalidInput(f"unknown format {format_name!r}; use one of {', '.join(FORMATS)}")
    return reader
