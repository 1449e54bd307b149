"""Tapbacks (reactions) as Apple's Messages stores them: rows of their own in ``message``.

``associated_message_type`` 2000-2007 adds a reaction and 3000-3007 removes it (love, like,
dislike, laugh, emphasize, question; 2006 an emoji, iOS 17+, the emoji in
``associated_message_emoji`` or the text; 2007 a sticker).  ``associated_message_guid`` names the
target as ``p:<part>/<guid>`` or, from older systems, ``bp:<guid>``.
"""

from __future__ import annotations

TAPBACKS = {0: "love", 1: "like", 2: "dislike", 3: "laugh", 4: "emphasize", 5: "question"}
TAPBACKS |= {6: "emoji", 7: "sticker"}


def is_tapback(associated_message_type: int) -> bool:
    """True for a reaction added (2000-2007) or removed (3000-3007)."""
    return associated_message_type // 1000 in (2, 3) and associated_message_type % 1000 <= 7


def target_guid(associated: str | None) -> str | None:
    """The target message guid of a tapback: ``p:0/GUID`` (part 0) or ``bp:GUID`` → ``GUID``."""
    if not associated:
        return None
    if associated.startswith("p:") and "/" in associated:
        return associated.split("/", 1)[1] or None
    return associated.removeprefix("bp:") or None
