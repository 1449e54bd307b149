"""Sync states and ids on the wire.

A state is the account's position in its change sequence, written as a decimal string.  Clients
treat it as opaque; anything that is not a state we issued answers "cannot calculate changes"
(the client then resyncs), never a server error.
"""

from __future__ import annotations

from strongroom.accounts.changes import CannotCalculateChanges

_MAX = (1 << 63) - 1


def encode_state(seq: int) -> str:
    return str(seq)


def decode_state(state: str) -> int:
    """Raises CannotCalculateChanges for anything that is not a state."""
    value = parse_id(state)
    if value is None:
        raise CannotCalculateChanges("that is not a state this server issued; resync")
    return value


def parse_id(text: str) -> int | None:
    """A wire id as an integer, or None if it cannot be one of ours."""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= _MAX else None
