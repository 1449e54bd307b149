"""Message ids that sort by date: ``id = date_ms << 16 | slot``.

"Newest first" is then "highest id first" for every query (conversation pages, search, exports)
with no sort over a million rows.  The 16 random slot bits keep ids unique among messages of the
same millisecond; :func:`allocate` checks for clashes before inserting.
"""

from __future__ import annotations

import random
import struct

from sqlalchemy.orm import Session

from strongroom.db import select_in

SLOT_BITS = 16
"""(:func:`allocate` draws slots as 16-bit numbers.)"""
_MAX_DATE = (1 << (63 - SLOT_BITS)) - 1


def make_id(date_ms: int, slot: int) -> int:
    return (min(max(date_ms, 0), _MAX_DATE) << SLOT_BITS) | slot


def date_of(message_id: int) -> int:
    return message_id >> SLOT_BITS


def first_id_at(date_ms: int) -> int:
    """The smallest id a message of that date can have (for date-range queries)."""
    return make_id(date_ms, 0)


_random = random.Random()
_TAKEN = "SELECT id FROM messages WHERE id IN (*)"
_BOUNDS = "SELECT (SELECT min(id) FROM messages), (SELECT max(id) FROM messages)"


def allocate(session: Session, dates: list[int]) -> list[int]:
    """Fresh ids for messages of these dates, unique among stored ones and each other."""
    if not dates:
        return []
    slot = _random.getrandbits  # unpredictability is not needed, only spread
    # Every slot from one draw of random bits, read as 16-bit numbers (SLOT_BITS): an import
    # allocates thousands of ids at a time
    count = len(dates)
    slots = struct.unpack(f"<{count}H", slot(16 * count).to_bytes(2 * count, "little"))
    top = _MAX_DATE  # make_id's formula, written out: a call per message cost more than it
    ids = [(min(max(d, 0), top) << SLOT_BITS) | s for d, s in zip(dates, slots, strict=True)]
    lowest, highest = session.connection().exec_driver_sql(_BOUNDS).one()
    if lowest is None:
        lowest, highest = 1, 0  # nothing stored
    while True:
        # Only candidates among the stored ids' range can be taken: an import in date order
        # asks about none of them (its ids are newer, or older, than every stored one).
        asked = list({i for i in ids if lowest <= i <= highest})
        taken = {int(row[0]) for row in select_in(session, _TAKEN, (), asked)} if asked else set()
        if not taken and len(set(ids)) == len(ids):
            return ids  # no clash (nearly always): no need to look at each
        seen: set[int] = set()
        clashes = False
        for i, candidate in enumerate(ids):
            if candidate in taken or candidate in seen:
                ids[i] = make_id(dates[i], slot(SLOT_BITS))
                clashes = True
            else:
                seen.add(candidate)
        if not clashes:
            return ids
