"""Where a Messages attachment's bytes are: from the path the database stores to a file here.

``sms.db`` and ``chat.db`` store attachment paths as the phone or Mac saw them:
``~/Library/SMS/Attachments/ab/11/<guid>/IMG_0001.HEIC`` (iOS), ``/var/mobile/Library/SMS/...``
(older iOS), ``~/Library/Messages/Attachments/...`` (macOS).  Everything from ``Library/`` on is
what an iPhone backup's manifest calls the file's ``relativePath``; what follows
``Library/SMS/`` or ``Library/Messages/`` lies beside the database file in a copied folder.
Names are untrusted: a ``..`` component or a path outside ``Library/`` is refused.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from strongroom.formats.base import BadInput
from strongroom.messages.records import FileContent, PartContent

AttachmentSource = Callable[[str], PartContent | None]
"""Maps a stored attachment path to its bytes; None when the file is missing.  Raises BadInput
for a name it refuses (path traversal)."""

_FOLDERS = ("Library/SMS/", "Library/Messages/")


class UnsafeAttachmentPath(BadInput):
    """An attachment path in a Messages database or a backup manifest leaves its folder."""

    slug = "unsafe-attachment-path"
    title = "The attachment path is refused"


def library_relative(stored: str) -> str:
    """The ``Library/...`` relative path of a stored attachment path.

    Raises UnsafeAttachmentPath for ``..`` components or a path with no ``Library/SMS/`` or
    ``Library/Messages/`` folder.
    """
    parts = PurePosixPath(stored.replace("\\", "/")).parts
    if ".." in parts:
        raise UnsafeAttachmentPath(f"attachment path {stored!r} contains '..'")
    joined = "/".join(p for p in parts if p not in ("/", "~", "."))
    for folder in _FOLDERS:
        at = joined.find(folder)
        if at >= 0 and (at == 0 or joined[at - 1] == "/"):
            return joined[at:]
    raise UnsafeAttachmentPath(f"attachment path {stored!r} is not under Library/SMS or Messages")


def folder_attachments(root: Path) -> AttachmentSource:
    """Attachments beside a database: ``Library/SMS/x`` or ``Library/Messages/x`` → ``root/x``."""
    base = root.resolve()

    def resolve(stored: str) -> PartContent | None:
        relative = library_relative(stored)
        inside = relative.split("/", 2)[2]
        path = (base / inside).resolve()
        if not path.is_relative_to(base):
            raise UnsafeAttachmentPath(f"attachment path {stored!r} leaves {root}")
        return FileContent(path) if path.is_file() else None

    return resolve


def guess_content_type(mime_type: str | None, name: str | None) -> str:
    """The database's MIME type, else one guessed from the file name, else octet-stream."""
    if mime_type:
        return mime_type
    guessed = mimetypes.guess_type(name or "")[0]
    return guessed or "application/octet-stream"
