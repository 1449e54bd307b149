"""Names of exported attachment files, and which parts count as attachments.

Every file name an export writes comes from :func:`safe_filename`: a sender chooses attachment
names, so a name like ``../../etc/passwd``, ``<script>.png``, ``CON.txt`` or one with a
right-to-left override must never leave the export folder, break a page or a file system, or
disguise its type.  :func:`attachment_path` gives each attachment a path that depends only on
the record, so two passes over the same records (the archive's JSON, then its HTML) agree on it.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import unicodedata
from datetime import UTC, datetime

from strongroom.messages.records import MessageRecord, PartRecord

MAX_NAME_BYTES = 150
"""Well under the 255-byte limit of common file systems, leaving room for the path's prefix."""

_NOT_ATTACHMENTS = ("text/plain", "application/smil")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{n}" for n in range(1, 10)}
    | {f"LPT{n}" for n in range(1, 10)}
)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,12}$")


def base_type(content_type: str) -> str:
    """``image/jpeg`` of ``Image/JPEG; name=x.jpg``."""
    return content_type.split(";", 1)[0].strip().lower()


def is_attachment(part: PartRecord) -> bool:
    """True for a part people think of as an attachment: not the text or the SMIL layout."""
    return base_type(part.content_type) not in _NOT_ATTACHMENTS


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """One file name component, safe in a folder or a zip on any system.

    Keeps only the last component of a path, replaces characters that are unsafe in file names
    (controls, invisible format characters such as bidi overrides, ``<>:"/\\|?*``), drops leading
    dots and spaces (no hidden files, no ``..``) and trailing dots and spaces (Windows), avoids
    Windows device names, and shortens it to :data:`MAX_NAME_BYTES` keeping the extension.
    Returns ``fallback`` (assumed safe) when nothing usable is left.
    """
    text = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text)
    text = "".join(c if c.isprintable() else "_" for c in text)
    text = text.strip(" .")
    if not text.strip("_"):
        return fallback
    if text.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        text = "_" + text
    return _shorten(text)


def _shorten(text: str) -> str:
    if len(text.encode()) <= MAX_NAME_BYTES:
        return text
    match = _EXTENSION.search(text)
    extension = match.group(0) if match else ""
    stem = text[: len(text) - len(extension)]
    while len((stem + extension).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") + extension


def fallback_name(part: PartRecord, seq: int) -> str:
    """``attachment-2.jpg``: a name for a part that came without one."""
    extension = mimetypes.guess_extension(base_type(part.content_type)) or ".bin"
    return f"attachment-{seq + 1}{extension}"


def attachment_path(
    record: MessageRecord, seq: int, part: PartRecord, directory: str = "attachments"
) -> str:
    """Where part ``seq`` of ``record`` goes: ``attachments/2023-11/20231114-221320-<id>-name``.

    The short id is a digest of the message and the part, so different attachments never share
    a path, and the same record gives the same path every time.
    """
    moment = datetime.fromtimestamp(record.date_ms / 1000, UTC)
    identity = json.dumps(
        [
            record.direction,
            record.sender,
            sorted(record.participants),
            record.date_ms,
            record.guid,
            record.subject,
            record.body,
            seq,
            part.content_type,
            part.filename,
            part.content.size,
        ]
    )
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    name = safe_filename(part.filename, fallback_name(part, seq))
    return f"{directory}/{moment:%Y-%m}/{moment:%Y%m%d-%H%M%S}-{digest}-{name}"
