"""Reading the vault back out as plain records, for every export format.

:class:`VaultRecords` is the account's messages (and calls) as
:mod:`strongroom.messages.records`, ready for any writer in :mod:`strongroom.formats`.  It reads
the database a page of :data:`PAGE` messages at a time in short read transactions, so memory
stays flat however large the vault is, and each iteration starts afresh (the archive writer reads
it twice).  Attachments are :class:`VaultContent`: nothing is read from the blob store until a
writer asks for a part's bytes, and then one chunk at a time.

Message ids grow with the date (:mod:`messages.ids`), so "in date order" is "by id", and a date
range is an id range: no sort and no scan outside the range.

:func:`stats` counts what an account holds (``strongroom stats``, the export page's summary).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from strongroom.accounts.keys import vault_for
from strongroom.accounts.service import get_account
from strongroom.blobs import Vault
from strongroom.content import store as content
from strongroom.db import Database
from strongroom.errors import InvalidInput
from strongroom.messages import ids, service, threads
from strongroom.messages.handles import normalise_many
from strongroom.messages.models import Call, Conversation, Handle, Message, MessagePart, Reaction
from strongroom.messages.records import (
    CallRecord,
    CallType,
    MessageRecord,
    PartContent,
    PartRecord,
    ReactionRecord,
)
from strongroom.runtime import Runtime

PAGE = 500
"""Messages (or conversations, or calls) read per query."""

_CALL_TYPES = ("incoming", "outgoing", "missed", "rejected", "blocked", "voicemail")
_NOT_ATTACHMENTS = ("text/plain", "application/smil")


class VaultContent(PartContent):
    """A stored part's bytes: its chunk list is looked up, and its chunks read (and verified),
    only when a writer reads the part, one chunk at a time."""

    def __init__(self, db: Database, vault: Vault, content_id: int, size: int) -> None:
        self.db, self.vault, self.content_id, self.size = db, vault, content_id, size

    def chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        with self.db.read() as s:
            chunk_list = content.chunk_list(s, self.content_id)
        for data in content.read_range(self.vault, chunk_list):
            for start in range(0, len(data), size):
                yield data[start : start + size]

    def open(self) -> BinaryIO:
        return cast(BinaryIO, io.BufferedReader(_PieceReader(self.chunks())))

    def read(self) -> bytes:
        return b"".join(self.chunks())


class _PieceReader(io.RawIOBase):
    """A raw stream over an iterator of byte pieces."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._left = memoryview(b"")  # a view, so taking from it copies nothing

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._left = memoryview(piece)
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


@dataclass(frozen=True)
class Selection:
    """Which messages an export takes: one conversation or all, within ``[since, until)``."""

    conversation_id: int | None = None
    since_ms: int | None = None
    until_ms: int | None = None


@dataclass
class VaultRecords:
    """An account's messages, then its calls, as records; iterable any number of times.

    ``by_conversation`` orders messages conversation by conversation (each in date order), which
    the HTML and text writers need to write one conversation at a time; otherwise all messages
    come in date order.  Calls come after the messages, in date order, and only when no single
    conversation is selected.
    """

    db: Database
    vault: Vault
    account_id: int
    selection: Selection = Selection()
    by_conversation: bool = False
    owner_number: str | None = None
    """The owner's own number (E.164), for formats that name the owner (MMS addresses)."""

    def __iter__(self) -> Iterator[MessageRecord | CallRecord]:
        yield from self.messages()
        yield from self.calls()

    def messages(self) -> Iterator[MessageRecord]:
        if self.by_conversation and self.selection.conversation_id is None:
            for cid in _conversation_ids(self.db, self.account_id):
                yield from _messages(self.db, self.vault, self.account_id, self.selection, cid)
        else:
            yield from _messages(
                self.db, self.vault, self.account_id, self.selection, self.selection.conversation_id
            )

    def calls(self) -> Iterator[CallRecord]:
        if self.selection.conversation_id is None:
            yield from _calls(self.db, self.account_id, self.selection)

    def message_count(self) -> int:
        with self.db.read() as s:
            query = _message_query(
                select(func.count()),
                self.account_id,
                self.selection,
                self.selection.conversation_id,
            )
            return int(s.scalar(query) or 0)


def iter_records(
    db: Database,
    vault: Vault,
    account_id: int,
    *,
    conversation_id: int | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    by_conversation: bool = False,
) -> Iterator[MessageRecord | CallRecord]:
    """The account's messages in date order (``until_ms`` exclusive), then its calls.

    Raises NotFound when ``conversation_id`` is not one of the account's conversations.
    """
    selection = Selection(conversation_id, since_ms, until_ms)
    records = open_records(db, vault, account_id, selection, by_conversation=by_conversation)
    return iter(records)


def open_records(
    db: Database,
    vault: Vault,
    account_id: int,
    selection: Selection,
    *,
    by_conversation: bool = False,
) -> VaultRecords:
    """The records of a selection, checked first.  Raises NotFound for another account's
    conversation (or one that does not exist), InvalidInput for an empty date range."""
    if selection.conversation_id is not None:
        with db.read() as s:
            service.conversation(s, account_id, selection.conversation_id)
    if (
        selection.since_ms is not None
        and selection.until_ms is not None
        and selection.until_ms <= selection.since_ms
    ):
        raise InvalidInput("the end of the date range must come after its start")
    return VaultRecords(db, vault, account_id, selection, by_conversation)


def account_records(
    rt: Runtime, account_id: int, selection: Selection, *, by_conversation: bool = False
) -> VaultRecords:
    """:func:`open_records` for an account of an installation (its vault opened with its key)."""
    with rt.db.read() as s:
        vault = vault_for(s, rt.store, rt.keyring, account_id)
        account = get_account(s, account_id)
        numbers = normalise_many(list(account.phone_numbers or []), account.default_region)
    records = open_records(rt.db, vault, account_id, selection, by_conversation=by_conversation)
    records.owner_number = numbers[0] if numbers else None
    return records


def _conversation_ids(db: Database, account_id: int) -> Iterator[int]:
    last = 0
    while True:
        with db.read() as s:
            page = list(
                s.scalars(
                    select(Conversation.id)
                    .where(Conversation.account_id == account_id, Conversation.id > last)
                    .order_by(Conversation.id)
                    .limit(PAGE)
                )
            )
        yield from page
        if len(page) < PAGE:
            return
        last = page[-1]


def _message_query(query: Any, account_id: int, selection: Selection, cid: int | None) -> Any:
    query = query.select_from(Message).where(Message.account_id == account_id)
    if cid is not None:
        query = query.where(Message.conversation_id == cid)
    if selection.since_ms is not None:
        query = query.where(Message.id >= ids.first_id_at(selection.since_ms))
    if selection.until_ms is not None:
        query = query.where(Message.id < ids.first_id_at(selection.until_ms))
    return query


_COLUMNS = (
    Message.id,
    Message.conversation_id,
    Message.kind,
    Message.direction,
    Message.sender_id,
    Message.date,
    Message.date_sent,
    Message.date_precision,
    Message.read,
    Message.status,
    Message.subject,
    Message.body,
    Message.part_count,
    Message.guid,
    Message.reply_to_guid,
    Message.source,
    Message.extra,
)


class _Names:
    """Handle values and conversations' participants and titles, remembered across pages (an
    export reads the same few thousand again and again); forgotten past :data:`LIMIT` entries
    so that memory stays bounded."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self.handles: dict[int, str] = {}
        self.conversations: dict[int, tuple[list[str], str | None]] = {}

    def load(self, s: Session, handle_ids: set[int], conversation_ids: set[int]) -> None:
        if len(self.handles) + len(self.conversations) > self.LIMIT:
            self.handles.clear()
            self.conversations.clear()
        handle_ids -= self.handles.keys()
        if handle_ids:
            query = select(Handle.id, Handle.value).where(Handle.id.in_(handle_ids))
            self.handles.update({int(i): str(v) for i, v in s.execute(query)})
        conversation_ids -= self.conversations.keys()
        if conversation_ids:
            people = threads.participants_of(s, conversation_ids)
            titles = select(Conversation.id, Conversation.title).where(
                Conversation.id.in_(conversation_ids)
            )
            for cid, title in s.execute(titles):
                self.conversations[int(cid)] = (people.get(int(cid), []), title)


def _messages(
    db: Database, vault: Vault, account_id: int, selection: Selection, cid: int | None
) -> Iterator[MessageRecord]:
    after = None
    names = _Names()
    while True:
        with db.read() as s:
            query = _message_query(select(*_COLUMNS), account_id, selection, cid)
            if after is not None:
                query = query.where(Message.id > after)
            rows = list(s.execute(query.order_by(Message.id).limit(PAGE)))
            page = _records(s, db, vault, rows, names, (account_id, cid))
        yield from page
        if len(rows) < PAGE:
            return
        after = rows[-1].id


def _records(
    s: Session,
    db: Database,
    vault: Vault,
    rows: list[Any],
    names: _Names,
    where: tuple[int, int | None],
) -> list[MessageRecord]:
    if not rows:
        return []
    names.load(
        s, {m.sender_id for m in rows if m.sender_id is not None}, {m.conversation_id for m in rows}
    )
    parts = _parts(s, db, vault, [m.id for m in rows if m.part_count])
    reactions = _reactions(s, rows, *where)
    records = []
    for m in rows:
        participants, title = names.conversations.get(m.conversation_id, ([], None))
        records.append(
            MessageRecord(
                kind=m.kind,
                direction=m.direction,
                date_ms=m.date,
                body=m.body,
                sender=names.handles.get(m.sender_id) if m.sender_id is not None else None,
                participants=list(participants),
                date_sent_ms=m.date_sent,
                date_precision="s" if m.date_precision == "s" else "ms",
                read=m.read,
                status=m.status,
                subject=m.subject,
                parts=parts.get(m.id, []),
                guid=m.guid,
                reply_to_guid=m.reply_to_guid,
                reactions=reactions.get(m.id, []),
                group_title=title,
                source=m.source,
                extra=dict(m.extra or {}),
            )
        )
    return records


def _parts(
    s: Session, db: Database, vault: Vault, message_ids: list[int]
) -> dict[int, list[PartRecord]]:
    found: dict[int, list[PartRecord]] = defaultdict(list)
    if not message_ids:
        return found
    for p in s.execute(
        select(
            MessagePart.message_id,
            MessagePart.content_type,
            MessagePart.filename,
            MessagePart.size,
            MessagePart.content_id,
            MessagePart.extra,
        )
        .where(MessagePart.message_id.in_(message_ids))
        .order_by(MessagePart.message_id, MessagePart.seq)
    ):
        content = VaultContent(db, vault, p.content_id, p.size)
        found[p.message_id].append(
            PartRecord(p.content_type, content, p.filename, dict(p.extra or {}))
        )
    return found


def _reactions(
    s: Session, rows: list[Any], account_id: int, cid: int | None
) -> dict[int, list[ReactionRecord]]:
    guids = {m.id: m.guid or "" for m in rows}
    found: dict[int, list[ReactionRecord]] = defaultdict(list)
    # Found through the page's own messages (the same index range), not a list of 500 ids.
    query = (
        select(Reaction.message_id, Reaction.reaction, Handle.value, Reaction.date)
        .join(Message, Message.id == Reaction.message_id)
        .outerjoin(Handle, Handle.id == Reaction.sender_id)
        .where(Message.account_id == account_id, Message.id.between(rows[0].id, rows[-1].id))
    )
    if cid is not None:
        query = query.where(Message.conversation_id == cid)
    for mid, reaction, sender, when in s.execute(
        query.order_by(Reaction.message_id, Reaction.date, Reaction.id)
    ):
        found[mid].append(ReactionRecord(guids[mid], reaction, sender, when))
    return found


def _calls(db: Database, account_id: int, selection: Selection) -> Iterator[CallRecord]:
    after: tuple[int, int] | None = None
    while True:
        with db.read() as s:
            query = (
                select(Call, Handle.value)
                .join(Handle, Handle.id == Call.handle_id)
                .where(Call.account_id == account_id)
            )
            if selection.since_ms is not None:
                query = query.where(Call.date >= selection.since_ms)
            if selection.until_ms is not None:
                query = query.where(Call.date < selection.until_ms)
            if after is not None:
                query = query.where(
                    or_(Call.date > after[0], and_(Call.date == after[0], Call.id > after[1]))
                )
            rows = list(s.execute(query.order_by(Call.date, Call.id).limit(PAGE)))
        for call, number in rows:
            yield CallRecord(
                number=number,
                date_ms=call.date,
                duration_s=call.duration_s,
                type=cast(CallType, call.type if call.type in _CALL_TYPES else "incoming"),
                name=call.name,
                source=call.source,
                extra=dict(call.extra or {}),
            )
        if len(rows) < PAGE:
            return
        after = (rows[-1][0].date, rows[-1][0].id)
