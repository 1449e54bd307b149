"""Export formats by name, and writing one whole export to a stream or to a path.

This is what ``strongroom export`` and ``GET /api/v1/export`` share: which formats exist, what
each needs from its source (records conversation by conversation, or in date order), its file
name and media type, and how it lands on disk (one file; a folder for ``html``; the messages
file plus a sibling ``calls-...xml`` for ``sbr-xml``).

A :class:`Source` is a re-iterable stream of records with a separate view of its messages and
its calls (:class:`~strongroom.messages.export.VaultRecords` is one), so that each file reads
only what it needs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from strongroom.errors import InvalidInput
from strongroom.formats import WRITERS
from strongroom.formats.attachment_names import safe_filename
from strongroom.formats.folders import DirectoryFolder
from strongroom.formats.html_export import HtmlWriter
from strongroom.formats.sbr_xml_writer import SbrCallsWriter, SbrXmlWriter
from strongroom.messages.records import CallRecord, MessageRecord, Record


class Source(Protocol):
    owner_number: str | None
    """The account owner's number, if known (SMS Backup & Restore names it in MMS)."""

    def __iter__(self) -> Iterator[MessageRecord | CallRecord]:
        """Messages, then calls; a fresh pass each time."""

    def messages(self) -> Iterator[MessageRecord]: ...

    def calls(self) -> Iterator[CallRecord]: ...

    def message_count(self) -> int: ...


class UnknownFormat(InvalidInput):
    """An export format name that is not one of :data:`FORMATS`."""

    slug = "unknown-format"
    title = "Unknown export format"


class OutputNotWritable(InvalidInput):
    """The export's destination cannot be written (missing folder, no permission, disk full,
    or a folder that is not empty)."""

    slug = "output-not-writable"
    title = "The export cannot be written there"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    extension: str
    """Of the file written, or of the download (``.zip`` for ``html``)."""
    media_type: str
    """Of the download."""
    grouped: bool
    """Wants records conversation by conversation rather than in date order."""
    folder: bool = False
    """Written to disk as a folder rather than a file."""
    label: str = field(default="", compare=False)

    def download_name(self, who: str, now_ms: int) -> str:
        """``sms-20240131120000.xml`` (the name the Android app looks for) for ``sbr-xml``;
        ``strongroom-alice-html-2024-01-31.zip`` and so on for the others."""
        moment = datetime.fromtimestamp(now_ms / 1000, UTC)
        if self.name == "sbr-xml":
            return f"sms-{moment:%Y%m%d%H%M%S}.xml"
        who = safe_filename(who, "export")
        return f"strongroom-{who}-{self.name}-{moment:%Y-%m-%d}{self.extension}"


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("sbr-xml", ".xml", "application/xml", False, label="SMS Backup & Restore"),
        ExportFormat("sbp-mbox", ".mbox", "application/mbox", False, label="SMS Backup+ mbox"),
        ExportFormat("html", ".zip", "application/zip", True, folder=True, label="HTML pages"),
        ExportFormat("txt", ".txt", "text/plain; charset=utf-8", True, label="Plain text"),
        ExportFormat("csv", ".csv", "text/csv; charset=utf-8", False, label="CSV"),
        ExportFormat("json", ".json", "application/json", False, label="JSON"),
        ExportFormat("archive", ".zip", "application/zip", True, label="Everything (zip)"),
    )
}


def export_format(name: str) -> ExportFormat:
    """The format called ``name``.  Raises UnknownFormat listing the known ones."""
    found = FORMATS.get(name.strip().lower())
    if found is None:
        raise UnknownFormat(f"no export format {name!r}; use one of {', '.join(FORMATS)}")
    return found


@dataclass
class ExportReport:
    messages: int = 0
    calls: int = 0
    paths: list[Path] = field(default_factory=list)


class _Counted:
    """A source that counts what its last pass gave."""

    def __init__(self, source: Source, report: ExportReport) -> None:
        self.source, self.report = source, report
        self.owner_number = source.owner_number

    def __iter__(self) -> Iterator[MessageRecord | CallRecord]:
        self.report.messages = self.report.calls = 0
        for record in self.source:
            self._count(record)
            yield record

    def messages(self) -> Iterator[MessageRecord]:
        self.report.messages = 0
        for record in self.source.messages():
            self._count(record)
            yield record

    def calls(self) -> Iterator[CallRecord]:
        self.report.calls = 0
        for record in self.source.calls():
            self._count(record)
            yield record

    def message_count(self) -> int:
        return self.source.message_count()

    def _count(self, record: Record) -> None:
        if isinstance(record, MessageRecord):
            self.report.messages += 1
        elif isinstance(record, CallRecord):
            self.report.calls += 1


def write_stream(name: str, source: Source, out: BinaryIO) -> ExportReport:
    """The export as one stream: the file itself, or a zip for ``html`` and ``archive``.

    For ``sbr-xml`` that is the messages file only (the app keeps calls in a file of its own).
    """
    report = ExportReport()
    counted = _Counted(source, report)
    fmt = export_format(name)
    if fmt.name == "sbr-xml":
        writer = SbrXmlWriter(owner_number=source.owner_number)
        writer.write(counted.messages(), out, count=source.message_count())
    else:
        WRITERS[fmt.name].write(counted, out)
    return report


def write_path(name: str, source: Source, path: Path) -> ExportReport:
    """The export on disk at ``path``: a folder for ``html`` (which must be new or empty), a
    file otherwise, plus ``calls-...xml`` beside it for ``sbr-xml`` when there are calls.

    Files appear whole or not at all (written beside, then renamed).  Raises OutputNotWritable.
    """
    fmt = export_format(name)
    report = ExportReport()
    counted = _Counted(source, report)
    try:
        if fmt.folder:
            _check_empty_folder(path)
            path.mkdir(parents=True, exist_ok=True)
            HtmlWriter().write_folder(counted, DirectoryFolder(path))
            report.paths.append(path)
        elif fmt.name == "sbr-xml":
            writer = SbrXmlWriter(owner_number=source.owner_number)
            _atomic(path, lambda out: writer.write(counted.messages(), out))
            report.paths.append(path)
            calls = calls_path(path)
            _atomic(calls, lambda out: SbrCallsWriter().write(counted.calls(), out))
            if report.calls:
                report.paths.append(calls)
            else:
                calls.unlink()
        else:
            _atomic(path, lambda out: WRITERS[fmt.name].write(counted, out))
            report.paths.append(path)
    except OSError as e:
        raise OutputNotWritable(f"cannot write {e.filename or path}: {e.strerror or e}") from None
    return report


def calls_path(path: Path) -> Path:
    """Where the calls of an ``sbr-xml`` export go: ``sms-1.xml`` → ``calls-1.xml``."""
    name = path.name
    return path.with_name("calls" + name[3:] if name.lower().startswith("sms") else "calls-" + name)


def _check_empty_folder(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise OutputNotWritable(f"{path} exists and is not an empty folder; choose a new one")


def _atomic(path: Path, write: Callable[[BinaryIO], None]) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = [
    "FORMATS",
    "ExportFormat",
    "ExportReport",
    "OutputNotWritable",
    "Source",
    "UnknownFormat",
    "calls_path",
    "export_format",
    "write_path",
    "write_stream",
]
