"""Where a many-file export goes: a folder on disk, or a folder inside a streamed zip.

Writers that produce several files (the HTML export, the archive) write through a
:class:`Folder`, one file at a time, by relative names they build themselves.  Names are checked
again here: a name that is absolute or has an empty, ``.`` or ``..`` component is refused, so no
mistake upstream can write outside the folder.

:func:`open_zip` writes a zip to any binary stream.  On a stream that cannot seek (an HTTP
response, a pipe) :mod:`zipfile` writes each member's sizes after its data (data descriptors),
so nothing is buffered; members that may pass 4 GiB are written as ZIP64.  The zip keeps one
small entry per member for its central directory, written at the end (about 0.5 KB each).
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol, cast

ZIP64_ABOVE = (1 << 31) - 1
"""Members announced larger than this are written as ZIP64 from the start."""


def check_name(name: str) -> str:
    """``name`` if it is a relative path of plain components.  Raises ValueError."""
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise ValueError(f"refusing to write {name!r}: not a plain relative path")
    return name


def _zip_time(ms: int | None) -> tuple[int, int, int, int, int, int]:
    seconds = time.time() if ms is None else ms / 1000
    moment = time.gmtime(min(max(seconds, 315_532_800), 4_354_819_199))  # 1980..2107
    return moment[:6]


class Folder(Protocol):
    def exists(self, name: str) -> bool:
        """True if ``name`` has been written already."""

    def file(
        self,
        name: str,
        *,
        size: int | None = None,
        date_ms: int | None = None,
        compress: bool = True,
    ) -> AbstractContextManager[BinaryIO]:
        """A context manager giving a stream to write file ``name`` into (one at a time).

        ``size``, when known, lets a zip choose its format up front; ``compress`` False stores
        content that is compressed already (pictures, video).
        """


class DirectoryFolder:
    """A folder on disk; missing subfolders are created."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, name: str) -> bool:
        return (self.root / check_name(name)).exists()

    @contextmanager
    def file(
        self,
        name: str,
        *,
        size: int | None = None,
        date_ms: int | None = None,
        compress: bool = True,
    ) -> Iterator[BinaryIO]:
        path = self.root / check_name(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            yield f


class ZipFolder:
    """A folder inside a zip being written, under ``prefix`` (``""`` or ending in ``/``)."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str = "") -> None:
        self.archive = archive
        self.prefix = prefix

    def exists(self, name: str) -> bool:
        try:
            self.archive.getinfo(self.prefix + check_name(name))
        except KeyError:
            return False
        return True

    @contextmanager
    def file(
        self,
        name: str,
        *,
        size: int | None = None,
        date_ms: int | None = None,
        compress: bool = True,
    ) -> Iterator[BinaryIO]:
        info = zipfile.ZipInfo(self.prefix + check_name(name), _zip_time(date_ms))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        if size is not None:
            info.file_size = size
        force_zip64 = size is None or size > ZIP64_ABOVE
        with self.archive.open(info, "w", force_zip64=force_zip64) as f:
            yield cast(BinaryIO, f)


@contextmanager
def open_zip(out: BinaryIO, prefix: str = "") -> Iterator[ZipFolder]:
    """A zip written to ``out`` (seekable or not), as a folder; finished when the block ends."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        yield ZipFolder(archive, prefix)
