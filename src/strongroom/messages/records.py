"""Plain records of messages and calls: what importers yield and exporters consume.

No database, no blob store: ``formats`` reads files into these and writes these into files;
``jobs/imports.py`` hands them to the messages service.  Handles are kept as the source wrote
them (``(555) 010-9999``, ``+15550109999``, ``Alice@Example.com``); the service normalises them.

Times are UTC milliseconds.  ``date_precision`` says what the source really carried: ``"ms"``, or
``"s"`` when the source only has whole seconds (IMAP ``Date`` headers, some exports), which the
duplicate check then compares at the second.
"""

from __future__ import annotations

import io
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, get_args

if TYPE_CHECKING:
    from strongroom.messages.preparing import Prepared

Kind = Literal["sms", "mms", "imessage", "rcs"]
Direction = Literal["in", "out"]
Precision = Literal["ms", "s"]
CallType = Literal["incoming", "outgoing", "missed", "rejected", "blocked", "voicemail"]
CALL_TYPES: tuple[str, ...] = get_args(CallType)

STATUSES = ("received", "sent", "draft", "outbox", "failed", "queued")


class PartContent(ABC):
    """Where a part's bytes are: in memory, or spooled to a file so one large part at a time
    (never a whole attachment list) is held."""

    size: int

    @abstractmethod
    def open(self) -> BinaryIO:
        """A fresh binary stream positioned at the start."""

    def read(self) -> bytes:
        with self.open() as f:
            return f.read()

    def chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        with self.open() as f:
            while piece := f.read(size):
                yield piece

    def discard(self) -> None:  # noqa: B027 - optional hook
        """Free what holds the bytes (a spooled file); the content is unusable afterwards."""


class InlineContent(PartContent):
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)


class FileContent(PartContent):
    """Bytes in a file; ``owned`` files are deleted by :meth:`discard`."""

    def __init__(self, path: Path, *, owned: bool = False) -> None:
        self.path = path
        self.owned = owned
        self.size = path.stat().st_size

    def open(self) -> BinaryIO:
        return self.path.open("rb")

    def discard(self) -> None:
        if self.owned:
            self.path.unlink(missing_ok=True)

    @classmethod
    def spool(cls, chunks: Iterator[bytes], directory: Path | None = None) -> FileContent:
        """Write ``chunks`` to a new temporary file owned by the returned content."""
        fd, name = tempfile.mkstemp(prefix="part-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                for piece in chunks:
                    f.write(piece)
        except BaseException:
            os.unlink(name)
            raise
        return cls(Path(name), owned=True)


@dataclass(slots=True)
class PartRecord:
    """One piece of an MMS/iMessage: an image, a video, a vCard, the SMIL layout, a text part."""

    content_type: str
    content: PartContent
    filename: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ReactionRecord:
    """A tapback/reaction on a message (by its source id), from ``sender`` (None = the owner)."""

    target_guid: str
    reaction: str  # love, like, dislike, laugh, emphasize, question, or an emoji
    sender: str | None
    date_ms: int
    removed: bool = False
    guid: str | None = None
    """The source's own id of the reaction row, when it has one."""
    extra: dict[str, str] = field(default_factory=dict)
    target_date_ms: int | None = None
    """The target message's date, when the source holds it too: the vault finds the target
    among the messages of that time (SQLite keeps no index of guids); without it, among all."""


@dataclass(slots=True)
class MessageRecord:
    kind: Kind
    direction: Direction
    date_ms: int
    body: str = ""
    sender: str | None = None
    """The handle it came from (for ``in``); None when the owner sent it."""
    participants: list[str] = field(default_factory=list)
    """Everyone in the conversation except the account owner."""
    date_sent_ms: int | None = None
    date_precision: Precision = "ms"
    read: bool = True
    status: str = "received"
    subject: str | None = None
    parts: list[PartRecord] = field(default_factory=list)
    guid: str | None = None
    """The source's own id of the message (iMessage guid, MMS m_id), when it has one."""
    reply_to_guid: str | None = None
    reactions: list[ReactionRecord] = field(default_factory=list)
    group_title: str | None = None
    source: str = ""
    """Which format it came from: ``sbr-xml``, ``ios-backup``, ``messages-db``, ``mbox``..."""
    extra: dict[str, str] = field(default_factory=dict)
    """Source-specific fields we do not model, kept so that export loses nothing."""
    date_read_ms: int | None = None
    """When the owner read it (incoming) or the recipient did (outgoing), if the source says."""
    date_delivered_ms: int | None = None
    prepared: Prepared | None = field(default=None, compare=False, repr=False)
    """Checked and normalised ahead, by an import's reading process
    (:func:`strongroom.messages.preparing.attach`)."""

    def __reduce__(self) -> tuple[type[MessageRecord], tuple[Any, ...]]:
        # Rebuilt from its fields in order: half the time of the default way, which matters
        # when an import hands hundreds of thousands of records between processes.
        return (MessageRecord, _message_fields(self))


_message_fields = attrgetter(*(f.name for f in fields(MessageRecord)))


@dataclass(slots=True)
class CallRecord:
    number: str
    date_ms: int
    duration_s: int
    type: CallType
    name: str | None = None
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """Something wrong in an input that did not stop the import: where, and what."""

    where: str
    """The file and the position in it (``sms.xml line 136``, ``sms.db row 42``)."""
    message: str


@dataclass(frozen=True)
class Expected:
    """How many records a reader expects to yield, as its source counts them (a Messages
    database's message rows; a folder's .eml files), told before them so that an import can
    show how far it has got where the read position in a file says nothing.  An estimate: rows
    a reader skips are counted in it."""

    count: int


Record = MessageRecord | CallRecord | ReactionRecord | Problem | Expected
"""What a reader yields: records, with problems interleaved where they were found.  A reaction
stored as its own row in the source (iMessage tapbacks) comes as a ReactionRecord after the
message it targets.  A reader that can count its records cheaply says so first (Expected)."""
