"""What every format module provides: a reader of records, a writer of records, or both.

Readers are pure: they take a path (file or folder) and yield :mod:`strongroom.messages.records`
records, interleaving :class:`~strongroom.messages.records.Problem` records for what they had to
skip; they never touch the database or the blob store.  A reader raises :class:`BadInput` (naming
the file and the position) only when nothing more can be read at all.  Readers stream: memory
does not grow with the size of the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from strongroom.errors import InvalidInput
from strongroom.messages.records import Record

if TYPE_CHECKING:
    from strongroom.messages.preparing import RowSettings


class BadInput(InvalidInput):
    """An input file is malformed beyond reading; the message names the file and position."""

    slug = "bad-input"
    title = "The file cannot be read"


@dataclass(frozen=True)
class ReadOptions:
    """What a reader may need beyond the file itself."""

    owner_numbers: tuple[str, ...] = ()
    """The account owner's own numbers, so the owner is never counted as a participant."""
    default_region: str = "US"
    password: str | None = None
    """The backup password, for encrypted iPhone backups."""
    scratch: Path | None = None
    """A folder for spooled attachments; the system temp folder if None."""
    extra: dict[str, str] = field(default_factory=dict)
    rows: RowSettings | None = None
    """How a reading process makes each message's database row ahead, if it should
    (:func:`strongroom.messages.preparing.attach`)."""


class Reader(Protocol):
    name: str
    """The format's name on the command line: ``sbr-xml``, ``ios-backup``, ``mbox``..."""

    def sniff(self, path: Path) -> bool:
        """True if ``path`` looks like this format (cheap: a few bytes or a file name)."""

    def read(self, path: Path, options: ReadOptions) -> Iterator[Record]:
        """Yield every record of the file or folder.  Raises BadInput if unreadable at once."""


class Writer(Protocol):
    name: str

    def write(self, records: Iterable[Record], out: BinaryIO) -> None:
        """Write records to ``out`` as this format."""
