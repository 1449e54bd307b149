"""Who is the account owner in an MMS address list, and so who are the other participants.

An MMS lists every address of the conversation (``From``, ``To``, ``CC``, ``BCC``), the owner's
own number among them, sometimes twice, sometimes as the placeholder ``insert-address-token``.
The owner must not count as a participant, or one group chat splits into several.

:class:`OwnerInference` decides per message, learning the owner's number(s) as it goes: numbers
given by the account (``ReadOptions.owner_numbers``), the ``From`` of a sent MMS, the one address
of a received MMS that is neither its sender nor in its thread address (or the only ``To``
among several).  A message it cannot
decide yet (a received group MMS seen before any of those) waits in a small buffer until a later
message settles it, or until the buffer is full or the file ends, when the owner is taken as the
address every waiting message shares.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers

from strongroom.messages.records import MessageRecord, PartRecord, Problem

INSERT_ADDRESS_TOKEN = "insert-address-token"
FROM, TO, CC, BCC = 137, 151, 130, 129
PENDING_LIMIT = 512

_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{3,}$")


@lru_cache(maxsize=65536)
def handle_key(handle: str, region: str) -> str:
    """A comparison key: E.164 for phone numbers, the lower-cased text for anything else."""
    text = handle.strip()
    if _PHONE_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 3:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return re.sub(r"\D", "", text)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return text.lower()


def split_addresses(value: str | None) -> list[str]:
    """An ``address`` attribute as a list: ``~`` separates, and so does ``,`` between numbers."""
    if not value or value == "null":
        return []
    if "~" not in value and "," not in value:
        stripped = value.strip()
        return [stripped] if stripped else []
    pieces = [p.strip() for p in value.split("~")]
    out: list[str] = []
    for piece in pieces:
        parts = [p.strip() for p in piece.split(",")]
        if len(parts) > 1 and all(_PHONE_LIKE.match(p) for p in parts if p):
            out.extend(p for p in parts if p)
        elif piece:
            out.append(piece)
    return out


@dataclass
class MmsAddresses:
    """The addresses of one MMS as the file lists them."""

    addrs: list[tuple[str, int]]
    """(address, type) in file order, without empties and without the placeholder."""
    thread: list[str]
    """The message's ``address`` attribute: the other party or parties (never the owner)."""
    incoming: bool
    token: bool = False
    """The owner appeared as ``insert-address-token``."""

    def sender(self) -> str | None:
        for address, kind in self.addrs:
            if kind == FROM:
                return address
        return self.thread[0] if len(self.thread) == 1 else None


@dataclass
class _Waiting:
    record: MessageRecord
    addresses: MmsAddresses
    candidates: set[str]
    where: str


@dataclass
class OwnerInference:
    owner_numbers: Iterable[str] = ()
    region: str = "US"
    known: set[str] = field(default_factory=set)
    waiting: list[_Waiting] = field(default_factory=list)
    undecided: int = 0
    first_undecided: str = ""

    def __post_init__(self) -> None:
        self.known |= {self.key(n) for n in self.owner_numbers if n.strip()}

    def key(self, handle: str) -> str:
        return handle_key(handle, self.region)

    def offer(
        self, record: MessageRecord, addresses: MmsAddresses, where: str
    ) -> list[MessageRecord]:
        """Settle ``record``'s sender and participants now, or hold it; returns what is ready."""
        owners = self._owners(addresses)
        if owners is not None:
            _settle(record, addresses, owners, self.key)
            return [record, *self._release()]
        candidates = self._candidates(addresses)
        self.waiting.append(_Waiting(record, addresses, candidates, where))
        if len(self.waiting) > PENDING_LIMIT:
            return self._decide_by_intersection(everything=False)
        return []

    def flush(self) -> list[MessageRecord | Problem]:
        """At the end of the file: settle every waiting message; say if any were guessed."""
        out: list[MessageRecord | Problem] = [*self._decide_by_intersection(everything=True)]
        if self.undecided:
            out.append(
                Problem(
                    self.first_undecided,
                    f"could not tell the owner's own number in {self.undecided} group MMS "
                    "(everyone listed was kept as a participant); set the account's phone "
                    "numbers and import again to group them correctly",
                )
            )
        return out

    def abandon(self) -> list[PartRecord]:
        """Forget the waiting messages; returns their parts so the caller can free them."""
        parts = [p for w in self.waiting for p in w.record.parts]
        self.waiting = []
        return parts

    def _candidates(self, a: MmsAddresses) -> set[str]:
        excluded = {self.key(t) for t in a.thread}
        sender = a.sender() if a.incoming else None
        if sender is not None:
            excluded.add(self.key(sender))
        return {self.key(addr) for addr, _ in a.addrs} - excluded

    def _owners(self, a: MmsAddresses) -> set[str] | None:
        """The owner keys in this message (possibly none), or None when it cannot tell yet."""
        keys = {self.key(addr) for addr, _ in a.addrs}
        if keys & self.known:
            return keys & self.known
        if a.token:
            return set()
        if not a.incoming:
            sender = a.sender() if any(k == FROM for _, k in a.addrs) else None
            thread = {self.key(t) for t in a.thread}
            if sender is not None and self.key(sender) not in thread:
                self.known.add(self.key(sender))
                return {self.key(sender)}
            return set()
        candidates = self._candidates(a)
        if len(candidates) > 1:
            # A received MMS is addressed To the owner; the rest of a group is often in CC.
            to = {self.key(addr) for addr, kind in a.addrs if kind == TO} & candidates
            candidates = to if len(to) == 1 else candidates
        if len(candidates) == 1:
            self.known |= candidates
            return candidates
        return set() if not candidates else None

    def _release(self) -> list[MessageRecord]:
        ready: list[MessageRecord] = []
        still: list[_Waiting] = []
        for w in self.waiting:
            keys = {self.key(addr) for addr, _ in w.addresses.addrs}
            if keys & self.known:
                _settle(w.record, w.addresses, keys & self.known, self.key)
                ready.append(w.record)
            else:
                still.append(w)
        self.waiting = still
        return ready

    def _decide_by_intersection(self, *, everything: bool) -> list[MessageRecord]:
        if not self.waiting:
            return []
        shared = set.intersection(*(w.candidates for w in self.waiting))
        if len(shared) == 1:
            self.known |= shared
            return self._release()
        count = len(self.waiting) if everything else 1
        ready = []
        for w in self.waiting[:count]:
            if not self.undecided:
                self.first_undecided = w.where
            self.undecided += 1
            _settle(w.record, w.addresses, set(), self.key)
            ready.append(w.record)
        del self.waiting[:count]
        return ready


def _settle(
    record: MessageRecord, a: MmsAddresses, owners: set[str], key: Callable[[str], str]
) -> None:
    """Fill in the sender and participants, leaving out the owner's own number(s)."""
    seen: set[str] = set()
    participants: list[str] = []
    for address in [addr for addr, _ in a.addrs] or a.thread:
        k = key(address)
        if k not in owners and k not in seen:
            seen.add(k)
            participants.append(address)
    if not participants:
        participants = [t for t in a.thread if key(t) not in owners]
    if record.direction == "in":
        sender = a.sender()
        if sender is None or key(sender) in owners:
            sender = participants[0] if participants else None
        record.sender = sender
        if sender is not None and key(sender) not in {key(p) for p in participants}:
            participants.insert(0, sender)
    record.participants = participants
