"""Conversations as the export writers see them: identified by their participants.

Records carry no conversation id: a conversation *is* its set of participants (every handle but
the owner), the same rule the vault uses, so records from any source group the same way.
"""

from __future__ import annotations

import hashlib

from strongroom.messages.records import MessageRecord


def conversation_key(record: MessageRecord) -> str:
    """A short stable id of the record's conversation, safe in file names: ``c1a2b3c4d5e6f``."""
    people = "\x1f".join(sorted(set(record.participants)))
    return "c" + hashlib.sha256(people.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def conversation_name(record: MessageRecord) -> str:
    """The group's title, or its participants: ``Hikers``, ``+15550100001, +15550100002``."""
    if record.group_title:
        return record.group_title
    return ", ".join(sorted(set(record.participants))) or record.sender or "(nobody)"


def is_group(record: MessageRecord) -> bool:
    return len(set(record.participants)) > 1
