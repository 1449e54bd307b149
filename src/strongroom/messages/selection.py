"""What an export covers, from the text a command line or a query string gives."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from strongroom.errors import InvalidInput, NotFound
from strongroom.messages.export import Selection

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_selection(
    conversation: str | None, since: str | None, until: str | None, *, prefix: str = ""
) -> Selection:
    """A selection from the text a command line or a query string gives (``prefix`` ``--``
    names options the way the command line spells them).  Raises NotFound for a conversation
    id that cannot be one, InvalidInput for a date that is not one."""
    cid = None
    if conversation is not None:
        text = conversation.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            raise NotFound(f"no conversation {conversation!r}")
        cid = int(text)
    return Selection(
        conversation_id=cid,
        since_ms=parse_when(since, f"{prefix}since") if since else None,
        until_ms=parse_when(until, f"{prefix}until", end=True) if until else None,
    )


def parse_when(text: str, name: str, *, end: bool = False) -> int:
    """A date (``YYYY-MM-DD``, UTC) or ISO 8601 time as UTC milliseconds.

    A bare date means the start of that day; with ``end`` it means the end of it (the start of
    the next day, since range ends are exclusive), so ``--until 2024-01-31`` takes all of
    January 31.  A time without a zone is UTC.  Raises InvalidInput naming ``name``.
    """
    value = text.strip()
    try:
        if _DAY.match(value):
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"{name}: {text!r} is not a date; use YYYY-MM-DD or ISO 8601 (2024-01-31T18:00:00Z)"
        ) from None
    return int(moment.timestamp() * 1000)
