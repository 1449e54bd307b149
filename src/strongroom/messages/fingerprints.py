"""When are two copies the same message?

A message's fingerprint is a hash of its direction, sender, participants, body (Unicode NFC,
trimmed) and the SHA-256 of its media attachments; its time is compared separately:

- both copies carry milliseconds: the same millisecond;
- either copy only carries seconds (IMAP ``Date`` headers, some exports): the same second.

Within one run (an upload batch, an import) a stored message matches at most one incoming copy,
in the order they come: two identical "ok"s sent in the same second are two messages and both
survive, and importing them again matches each to one of them.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Sequence

# Layout parts differ between tools for the same MMS, so they do not identify it.
_NOT_MEDIA = ("text/plain", "application/smil")


def normalise_body(body: str) -> str:
    return unicodedata.normalize("NFC", body).strip()


def is_media(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() not in _NOT_MEDIA


def fingerprint(
    direction: str,
    sender: str | None,
    participants: Iterable[str],
    body: str,
    media_sha256: Iterable[bytes],
) -> bytes:
    return fingerprint_of_normalised(
        direction, sender, sorted(participants), normalise_body(body), media_sha256
    )


def fingerprint_of_normalised(
    direction: str,
    sender: str | None,
    sorted_participants: Sequence[str],
    normalised_body: str,
    media_sha256: Iterable[bytes] = (),
) -> bytes:
    """:func:`fingerprint` of participants already sorted and a body already normalised (an
    import fingerprints every message, and has done both)."""
    # Each field followed by a NUL, hashed in one piece
    data = "\x00".join(
        (direction, sender or "", "\x1f".join(sorted_participants), normalised_body, "")
    ).encode()
    h = hashlib.blake2b(data, digest_size=16, person=b"strongroom-msg1")
    for digest in sorted(media_sha256):
        h.update(digest)
    return h.digest()


def same_time(a_date: int, a_precision: str, b_date: int, b_precision: str) -> bool:
    if a_precision == "ms" and b_precision == "ms":
        return a_date == b_date
    return a_date // 1000 == b_date // 1000
