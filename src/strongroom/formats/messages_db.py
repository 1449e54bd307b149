"""Reader of Apple Messages databases, iOS ``sms.db`` and macOS ``chat.db``: ``messages-db``.

Rows of ``message`` become :class:`MessageRecord` s in ROWID order (the order they were stored),
with the conversation from ``chat_message_join``/``chat`` (group title: ``display_name``), its
participants from ``chat_handle_join``/``handle``, and attachments from
``message_attachment_join``/``attachment``.  The text is the ``text`` column, or, when that is
empty (most rows since iOS 16), the ``attributedBody`` typedstream.  Each U+FFFC placeholder in
the text stands for the message's next attachment: the placeholders are taken out of the body and
each part records where its placeholder stood (``extra["text_offset"]``, in characters).

Tapbacks are rows too (``associated_message_type`` 2000-2007, removals 3000-3007); they become
:class:`ReactionRecord` s on the target guid (with the target's date, looked up for a few hundred
tapbacks at a time), never messages.  Group events (``item_type`` not 0:
renames, members joining or leaving) carry no message and are skipped.

Handles are kept as stored: the same person under a phone number and an e-mail address stays two
handles; where the database links them (``handle.person_centric_id``, iOS 14+), the link is kept
in ``extra["person_centric_id"]`` (sender) and ``extra["participant_person_ids"]``.  Columns that
an older schema lacks read as NULL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

from strongroom.formats.apple_dates import apple_time_ms
from strongroom.formats.attachment_paths import (
    AttachmentSource,
    folder_attachments,
    guess_content_type,
)
from strongroom.formats.base import BadInput, ReadOptions
from strongroom.formats.sqlite_files import (
    MAGIC,
    SQLITE_ERRORS,
    logs_beside,
    open_untrusted,
    table_names,
)
from strongroom.formats.tapbacks import TAPBACKS, is_tapback, target_guid
from strongroom.formats.typedstream import attributed_body_text
from strongroom.messages.records import (
    Expected,
    Kind,
    MessageRecord,
    PartContent,
    PartRecord,
    Problem,
    ReactionRecord,
    Record,
)

NAMES = ("sms.db", "chat.db")
PLACEHOLDER = "\ufffc"
_TABLE_INFO = "SELECT name FROM pragma_table_info(?)"
_TARGET_DATES = "SELECT CAST(guid AS TEXT), CAST(date AS INTEGER) FROM message WHERE guid IN ({})"
_TARGETS_AT_ONCE = 500
"""Tapbacks held back to look up their targets' dates together (bound variables of a query)."""


class MessageRow(NamedTuple):
    """The ``message`` columns read, in SELECT order (missing ones come as NULL)."""

    ROWID: int
    guid: str | None
    text: str | None
    attributedBody: bytes | None
    handle_id: int | None
    service: str | None
    date: int | None
    date_read: int | None
    date_delivered: int | None
    is_from_me: int | None
    is_read: int | None
    is_sent: int | None
    error: int | None
    subject: str | None
    item_type: int | None
    associated_message_guid: str | None
    associated_message_type: int | None
    associated_message_emoji: str | None
    thread_originator_guid: str | None
    cache_has_attachments: int | None
    balloon_bundle_id: str | None
    expressive_send_style_id: str | None
    date_edited: int | None
    chat_id: int | None


# Every value is CAST to the type the code expects: SQLite lets any column hold any type, and an
# uploaded file may put a string where a date belongs.
_TEXT_COLUMNS = {"guid", "text", "service", "subject", "associated_message_guid"}
_TEXT_COLUMNS |= {"associated_message_emoji", "thread_originator_guid", "balloon_bundle_id"}
_TEXT_COLUMNS |= {"expressive_send_style_id"}
MESSAGE_COLUMNS = [
    (name, "TEXT" if name in _TEXT_COLUMNS else "BLOB" if name == "attributedBody" else "INTEGER")
    for name in MessageRow._fields
    if name != "chat_id"
]


_as_row = partial(tuple.__new__, MessageRow)
"""A fetched row as a MessageRow (``MessageRow._make`` without its length check: the SELECT
has a column for each field)."""


class _InChat(NamedTuple):
    """What the messages of one chat share."""

    participants: tuple[str, ...]
    title: str | None
    extra: dict[str, str]
    """Their ``extra`` entries about the chat."""


@dataclass(frozen=True)
class Handle:
    ident: str
    person: str | None


@dataclass(frozen=True)
class Chat:
    guid: str
    identifier: str | None
    title: str | None
    handles: tuple[int, ...]
    people: str | None
    """JSON of ``{handle: person_centric_id}`` for the members the database links to a person."""


class MessagesDbReader:
    """Reads ``sms.db``/``chat.db``.  Attachments come from ``attachments`` if given, else from
    the folder ``options.extra["attachments_root"]``, else the folder holding the database."""

    name = "messages-db"

    def __init__(
        self,
        *,
        attachments: AttachmentSource | None = None,
        source: str = "",
        label: str | None = None,
    ) -> None:
        """``label`` names the database in errors and problems (default: its file name)."""
        self.attachments = attachments
        self.source = source or self.name
        self.label = label

    def sniff(self, path: Path) -> bool:
        if not path.is_file():
            return False
        with path.open("rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                return False
        return path.name in NAMES or {"message", "handle"} <= table_names(path)

    def open_ahead(self, path: Path) -> Opened | None:
        """``path`` opened and checked before the read options are known, for :meth:`read`:
        a reading process started early does this while its caller starts up (the integrity
        check reads the whole file).  None when it cannot be done yet (a log beside the
        database is read from a copy in the options' scratch folder) or fails (:meth:`read`
        then reports why)."""
        if logs_beside(path):
            return None
        closing = ExitStack()
        try:
            conn = closing.enter_context(open_untrusted(path, label=self.label or path.name))
        except (BadInput, OSError):
            closing.close()
            return None
        return Opened(conn, closing)

    def read(
        self, path: Path, options: ReadOptions, ahead: Opened | None = None
    ) -> Iterator[Record]:
        """The records of ``path``; ``ahead``: what :meth:`open_ahead` gave for it."""
        attachments = self.attachments
        if attachments is None:
            root = options.extra.get("attachments_root")
            attachments = folder_attachments(Path(root) if root else path.parent)
        name = self.label or path.name
        with ahead or open_untrusted(path, scratch=options.scratch, label=name) as conn:
            try:
                yield from _Reading(conn, name, attachments, self.source).records()
            except SQLITE_ERRORS as e:
                raise BadInput(f"{name}: reading stopped ({e})") from e


@dataclass
class Opened:
    """A database opened and checked ahead of its reading (:meth:`MessagesDbReader.open_ahead`):
    as a context, its connection, closed at the end of the block."""

    conn: sqlite3.Connection
    closing: ExitStack

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.closing.close()


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}


class _Reading:
    """One pass over one database: lookups of handles and chats, then the message rows."""

    def __init__(
        self, conn: sqlite3.Connection, name: str, attachments: AttachmentSource, source: str
    ) -> None:
        self.conn = conn
        self.name = name
        self.attachments = attachments
        self.source = source
        tables = _tables(conn)
        missing = {"message", "handle"} - tables
        if missing:
            raise BadInput(f"{name}: not a Messages database (no table {', '.join(missing)})")
        self.has_chats = {"chat", "chat_message_join", "chat_handle_join"} <= tables
        self.has_attachments = {"attachment", "message_attachment_join"} <= tables
        self.handles = self._handles()
        self.chats = self._chats() if self.has_chats else {}
        self.parts_sql = self._parts_select() if self.has_attachments else ""
        self._in_chats: dict[int | None, _InChat] = {}

    def records(self) -> Iterator[Record]:
        yield Expected(int(self.conn.execute("SELECT count(*) FROM message").fetchone()[0]))
        previous = None
        reactions: list[ReactionRecord] = []
        problems: list[Problem] = []
        message = self._message
        for row in map(_as_row, self.conn.execute(self._select())):
            if row.ROWID == previous:  # a message joined to two chats: read it once
                continue
            previous = row.ROWID
            kind = row.associated_message_type
            if kind and is_tapback(kind):
                reaction = self._reaction(row, kind)
                if isinstance(reaction, Problem):
                    yield reaction
                    continue
                reactions.append(reaction)
                if len(reactions) >= _TARGETS_AT_ONCE:
                    yield from self._with_target_dates(reactions)
                    reactions = []
            elif not row.item_type:
                said = message(row, problems)
                if problems:
                    yield from problems
                    problems.clear()
                if said is not None:
                    yield said
        yield from self._with_target_dates(reactions)

    def _with_target_dates(self, reactions: list[ReactionRecord]) -> list[ReactionRecord]:
        """``reactions`` with the dates of their targets, in one query for all of them (a
        scan of the table at worst, when the database has no index of guids)."""
        if not reactions:
            return reactions
        guids = sorted({r.target_guid for r in reactions})
        sql = _TARGET_DATES.format(", ".join("?" * len(guids)))
        dates = {str(guid): apple_time_ms(date) for guid, date in self.conn.execute(sql, guids)}
        for r in reactions:
            if when := dates.get(r.target_guid):
                r.target_date_ms = when[0]
        return reactions

    def _columns(self, table: str, alias: str, wanted: list[tuple[str, str]]) -> str:
        """``CAST(alias.column AS type)`` for each wanted column, NULL where the table lacks it."""
        present = {r[0].lower() for r in self.conn.execute(_TABLE_INFO, (table,))} | {"rowid"}
        return ", ".join(
            f"CAST({alias}.{column} AS {sql_type})" if column.lower() in present else "NULL"
            for column, sql_type in wanted
        )

    def _select(self) -> str:
        columns = self._columns("message", "m", MESSAGE_COLUMNS)
        if not self.has_chats:
            return f"SELECT {columns}, NULL FROM message m ORDER BY m.ROWID"
        return (
            f"SELECT {columns}, CAST(j.chat_id AS INTEGER) FROM message m"
            " LEFT JOIN chat_message_join j ON j.message_id = m.ROWID ORDER BY m.ROWID"
        )

    def _parts_select(self) -> str:
        wanted = ["guid", "filename", "mime_type", "transfer_name"]
        columns = self._columns("attachment", "a", [(c, "TEXT") for c in wanted])
        return (
            f"SELECT {columns} FROM message_attachment_join j"
            " JOIN attachment a ON a.ROWID = j.attachment_id"
            " WHERE j.message_id = ? ORDER BY a.ROWID"
        )

    def _handles(self) -> dict[int, Handle]:
        wanted = [("ROWID", "INTEGER"), ("id", "TEXT"), ("person_centric_id", "TEXT")]
        rows = self.conn.execute(f"SELECT {self._columns('handle', 'h', wanted)} FROM handle h")
        return {rowid: Handle(ident, pcid or None) for rowid, ident, pcid in rows if ident}

    def _chats(self) -> dict[int, Chat]:
        members: dict[int, list[int]] = {}
        for chat_id, handle_id in self.conn.execute(
            "SELECT CAST(chat_id AS INTEGER), CAST(handle_id AS INTEGER) FROM chat_handle_join"
            " ORDER BY chat_id, handle_id"
        ):
            members.setdefault(chat_id, []).append(handle_id)
        wanted = [("ROWID", "INTEGER")] + [
            (c, "TEXT") for c in ("guid", "chat_identifier", "display_name")
        ]
        rows = self.conn.execute(f"SELECT {self._columns('chat', 'c', wanted)} FROM chat c")
        return {
            rowid: self._chat(guid, identifier, name, members.get(rowid, []))
            for rowid, guid, identifier, name in rows
        }

    def _chat(
        self, guid: str | None, identifier: str | None, name: str | None, members: list[int]
    ) -> Chat:
        people = {h.ident: h.person for i in members if (h := self.handles.get(i)) and h.person}
        linked = json.dumps(people, sort_keys=True) if people else None
        return Chat(guid or "", identifier, name or None, tuple(members), linked)

    def _where(self, row: MessageRow) -> str:
        return f"{self.name} message row {row.ROWID}"

    def _ident(self, handle_id: int | None) -> str | None:
        handle = self.handles.get(handle_id or 0)
        return handle.ident if handle else None

    def _reaction(self, row: MessageRow, kind: int) -> ReactionRecord | Problem:
        target = target_guid(row.associated_message_guid)
        when = apple_time_ms(row.date)
        if target is None or when is None:
            return Problem(self._where(row), "a reaction without a target message or date")
        reaction = TAPBACKS[kind % 1000]
        if reaction == "emoji" and (row.associated_message_emoji or row.text):
            reaction = row.associated_message_emoji or row.text or reaction
        extra = {"associated_message_guid": row.associated_message_guid or ""}
        return ReactionRecord(
            target_guid=target,
            reaction=reaction,
            sender=None if row.is_from_me else self._ident(row.handle_id),
            date_ms=when[0],
            removed=kind >= 3000,
            guid=row.guid,
            extra=extra,
        )

    def _message(self, row: MessageRow, problems: list[Problem]) -> MessageRecord | None:
        """The message of ``row``, or None if it has none to keep; what is wrong with it is
        added to ``problems``.  (Run for every row: what depends only on the chat is looked up
        once per chat, see :meth:`_in_chat`.)"""
        when = apple_time_ms(row.date)
        if when is None:
            problems.append(Problem(self._where(row), "a message without a date is skipped"))
            return None
        body = row.text or (self._body(row, problems) if row.attributedBody else "")
        parts = (
            self._parts(row, problems)
            if self.has_attachments and row.cache_has_attachments != 0
            else []
        )
        if PLACEHOLDER in body:
            body, parts = _place_parts(body, parts)
        in_chat = self._in_chat(row.chat_id)
        from_me = row.is_from_me
        handle = None if from_me else self.handles.get(row.handle_id or 0)
        sender = handle.ident if handle else None
        participants = (
            list(in_chat.participants) if in_chat.participants or not sender else [sender]
        )
        extra = {"rowid": str(row.ROWID), "apple_date": str(row.date)}
        if row.service:
            extra["service"] = row.service
        extra.update(in_chat.extra)
        if handle and handle.person:
            extra["person_centric_id"] = handle.person
        if row.balloon_bundle_id:
            extra["balloon_bundle_id"] = row.balloon_bundle_id
        if row.expressive_send_style_id:
            extra["expressive_send_style_id"] = row.expressive_send_style_id
        if row.date_edited:
            extra["date_edited"] = str(row.date_edited)
        read = apple_time_ms(row.date_read) if row.date_read else None
        delivered = apple_time_ms(row.date_delivered) if row.date_delivered else None
        return MessageRecord(
            kind=_kind(row.service, parts, participants),
            direction="out" if from_me else "in",
            date_ms=when[0],
            date_precision=when[1],
            body=body,
            sender=sender,
            participants=participants,
            read=bool(from_me or row.is_read),
            status=("failed" if row.error else "sent") if from_me else "received",
            subject=row.subject or None,
            parts=parts,
            guid=row.guid,
            reply_to_guid=row.thread_originator_guid or None,
            group_title=in_chat.title,
            source=self.source,
            extra=extra,
            date_read_ms=read[0] if read else None,
            date_delivered_ms=delivered[0] if delivered else None,
        )

    def _in_chat(self, chat_id: int | None) -> _InChat:
        """What the messages of chat ``chat_id`` share (the same for an unknown chat)."""
        found = self._in_chats.get(chat_id)
        if found is None:
            chat = self.chats.get(chat_id or 0)
            extra: dict[str, str] = {}
            if chat:
                extra["chat_guid"] = chat.guid
                if chat.identifier:
                    extra["chat_identifier"] = chat.identifier
                if chat.people:
                    extra["participant_person_ids"] = chat.people
            participants = [i for h in chat.handles if (i := self._ident(h))] if chat else []
            found = _InChat(tuple(participants), chat.title if chat else None, extra)
            self._in_chats[chat_id] = found
        return found

    def _body(self, row: MessageRow, problems: list[Problem]) -> str:
        """The text of ``row``'s ``attributedBody``."""
        try:
            return attributed_body_text(bytes(row.attributedBody or b"")) or ""
        except BadInput as e:
            problems.append(Problem(self._where(row), f"the text cannot be read: {e}"))
            return ""

    def _parts(self, row: MessageRow, problems: list[Problem]) -> list[PartRecord]:
        rows = self.conn.execute(self.parts_sql, (row.ROWID,)).fetchall()
        parts = []
        for guid, stored, mime_type, transfer_name in rows:
            filename = transfer_name or (stored.rsplit("/", 1)[-1] if stored else None)
            content = self._content(row, stored, problems)
            if content is None:
                continue
            parts.append(
                PartRecord(
                    content_type=guess_content_type(mime_type, filename),
                    content=content,
                    filename=filename,
                    extra={"attachment_guid": guid},
                )
            )
        return parts

    def _content(
        self, row: MessageRow, stored: str | None, problems: list[Problem]
    ) -> PartContent | None:
        where = self._where(row)
        if not stored:
            problems.append(Problem(where, "an attachment has no file name (never downloaded?)"))
            return None
        try:
            content = self.attachments(stored)
        except BadInput as e:
            problems.append(Problem(where, str(e)))
            return None
        if content is None:
            problems.append(Problem(where, f"attachment file missing: {stored}"))
        return content


def _kind(service: str | None, parts: list[PartRecord], participants: list[str]) -> Kind:
    label = (service or "").lower()
    if label.startswith("imessage"):
        return "imessage"
    if label == "rcs":
        return "rcs"
    return "mms" if parts or len(participants) > 1 else "sms"


def _place_parts(body: str, parts: list[PartRecord]) -> tuple[str, list[PartRecord]]:
    """Take the U+FFFC placeholders out of ``body``; part *i* gets the offset of placeholder *i*."""
    pieces = body.split(PLACEHOLDER)
    offset = 0
    for index, piece in enumerate(pieces[:-1]):
        offset += len(piece)
        if index < len(parts):
            parts[index].extra["text_offset"] = str(offset)
    return "".join(pieces), parts
