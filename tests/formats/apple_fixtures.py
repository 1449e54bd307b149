"""Builders of Apple Messages inputs for tests and benchmarks: ``attributedBody`` typedstream
blobs, and ``sms.db``/``chat.db`` files with the tables Apple's Messages creates.

The table definitions below are written from the documented schema of iOS 16-17 ``sms.db`` and
macOS ``chat.db`` (same tables; column lists as Apple ships them, including two of Apple's
triggers that call its own functions), and of iOS 6 for the legacy variant.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

APPLE_EPOCH_MS = 978_307_200_000

MODERN_SCHEMA = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE handle (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT,
    service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT,
    UNIQUE (id, service));
CREATE TABLE chat (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER,
    state INTEGER, account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT,
    room_name TEXT, account_login TEXT, is_archived INTEGER DEFAULT 0,
    last_addressed_handle TEXT, display_name TEXT, group_id TEXT,
    is_filtered INTEGER DEFAULT 0, successful_query INTEGER, engram_id TEXT,
    server_change_token TEXT, ck_sync_state INTEGER DEFAULT 0, original_group_id TEXT,
    last_read_message_timestamp INTEGER DEFAULT 0, cloudkit_record_id TEXT,
    last_addressed_sim_id TEXT, is_blackholed INTEGER DEFAULT 0,
    syndication_date INTEGER DEFAULT 0, syndication_type INTEGER DEFAULT 0,
    is_recovered INTEGER DEFAULT 0);
CREATE TABLE message (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT,
    replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT,
    country TEXT, attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0,
    service TEXT, account TEXT, account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER,
    date_read INTEGER, date_delivered INTEGER, is_delivered INTEGER DEFAULT 0,
    is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0, is_from_me INTEGER DEFAULT 0,
    is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0, is_auto_reply INTEGER DEFAULT 0,
    is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
    is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0,
    has_dd_results INTEGER DEFAULT 0, is_service_message INTEGER DEFAULT 0,
    is_forward INTEGER DEFAULT 0, was_downgraded INTEGER DEFAULT 0,
    is_archive INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0,
    cache_roomnames TEXT, was_data_detected INTEGER DEFAULT 0,
    was_deduplicated INTEGER DEFAULT 0, is_audio_message INTEGER DEFAULT 0,
    is_played INTEGER DEFAULT 0, date_played INTEGER, item_type INTEGER DEFAULT 0,
    other_handle INTEGER DEFAULT 0, group_title TEXT, group_action_type INTEGER DEFAULT 0,
    share_status INTEGER DEFAULT 0, share_direction INTEGER DEFAULT 0,
    is_expirable INTEGER DEFAULT 0, expire_state INTEGER DEFAULT 0,
    message_action_type INTEGER DEFAULT 0, message_source INTEGER DEFAULT 0,
    associated_message_guid TEXT, associated_message_type INTEGER DEFAULT 0,
    balloon_bundle_id TEXT, payload_data BLOB, expressive_send_style_id TEXT,
    associated_message_range_location INTEGER DEFAULT 0,
    associated_message_range_length INTEGER DEFAULT 0, time_expressive_send_played INTEGER,
    message_summary_info BLOB, ck_sync_state INTEGER DEFAULT 0, ck_record_id TEXT,
    ck_record_change_tag TEXT, destination_caller_id TEXT, is_corrupt INTEGER DEFAULT 0,
    reply_to_guid TEXT, sort_id INTEGER, is_spam INTEGER DEFAULT 0,
    has_unseen_mention INTEGER DEFAULT 0, thread_originator_guid TEXT,
    thread_originator_part TEXT, syndication_ranges TEXT, synced_syndication_ranges TEXT,
    was_delivered_quietly INTEGER DEFAULT 0, did_notify_recipient INTEGER DEFAULT 0,
    date_retracted INTEGER DEFAULT 0, date_edited INTEGER DEFAULT 0,
    was_detonated INTEGER DEFAULT 0, part_count INTEGER, is_stewie INTEGER DEFAULT 0,
    is_kt_verified INTEGER DEFAULT 0, associated_message_emoji TEXT);
CREATE TABLE attachment (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
    created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT,
    mime_type TEXT, transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0,
    user_info BLOB, transfer_name TEXT, total_bytes INTEGER DEFAULT 0,
    is_sticker INTEGER DEFAULT 0, sticker_user_info BLOB, attribution_info BLOB,
    hide_attachment INTEGER DEFAULT 0, ck_sync_state INTEGER DEFAULT 0,
    ck_server_change_token_blob BLOB, ck_record_id TEXT, original_guid TEXT UNIQUE NOT NULL,
    is_commsafety_sensitive INTEGER DEFAULT 0);
CREATE TABLE chat_handle_join (
    chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
    handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id));
CREATE TABLE chat_message_join (
    chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
    message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
    message_date INTEGER DEFAULT 0, PRIMARY KEY (chat_id, message_id));
CREATE TABLE message_attachment_join (
    message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
    attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE,
    UNIQUE(message_id, attachment_id));
CREATE INDEX message_idx_date ON message(date);
CREATE INDEX message_idx_handle ON message(handle_id, date);
CREATE INDEX message_idx_associated_message ON message(associated_message_guid);
CREATE INDEX chat_message_join_idx_message_id_only ON chat_message_join(message_id);
CREATE INDEX message_attachment_join_idx_message_id ON message_attachment_join(message_id);
CREATE TRIGGER after_delete_on_attachment AFTER DELETE ON attachment
    BEGIN SELECT delete_attachment_path(OLD.filename); END;
CREATE TRIGGER before_delete_on_attachment BEFORE DELETE ON attachment
    BEGIN SELECT before_delete_attachment_path(OLD.ROWID, OLD.guid); END;
CREATE TRIGGER after_insert_on_chat_message_join AFTER INSERT ON chat_message_join BEGIN
    UPDATE message SET cache_roomnames = (SELECT group_concat(c.room_name) FROM chat c
        INNER JOIN chat_message_join j ON c.ROWID = j.chat_id
        WHERE j.message_id = NEW.message_id)
    WHERE message.ROWID = NEW.message_id; END;
"""

LEGACY_SCHEMA = """
CREATE TABLE handle (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT,
    service TEXT NOT NULL, uncanonicalized_id TEXT, UNIQUE (id, service));
CREATE TABLE chat (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER,
    state INTEGER, account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT,
    room_name TEXT, account_login TEXT, is_archived INTEGER DEFAULT 0,
    last_addressed_handle TEXT);
CREATE TABLE message (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT,
    replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT,
    country TEXT, attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0,
    service TEXT, account TEXT, account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER,
    date_read INTEGER, date_delivered INTEGER, is_delivered INTEGER DEFAULT 0,
    is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0, is_from_me INTEGER DEFAULT 0,
    is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0, is_auto_reply INTEGER DEFAULT 0,
    is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
    is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0,
    has_dd_results INTEGER DEFAULT 0, is_service_message INTEGER DEFAULT 0,
    is_forward INTEGER DEFAULT 0, was_downgraded INTEGER DEFAULT 0,
    is_archive INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0,
    cache_roomnames TEXT, was_data_detected INTEGER DEFAULT 0,
    was_deduplicated INTEGER DEFAULT 0);
CREATE TABLE attachment (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
    created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT,
    mime_type TEXT, transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0);
CREATE TABLE chat_handle_join (
    chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
    handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id));
CREATE TABLE chat_message_join (
    chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
    message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id));
CREATE TABLE message_attachment_join (
    message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
    attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE,
    UNIQUE(message_id, attachment_id));
"""


def apple_ns(ms: int) -> int:
    """A UTC millisecond time as iOS 11+ stores it: nanoseconds since 2001-01-01."""
    return (ms - APPLE_EPOCH_MS) * 1_000_000


def apple_s(ms: int) -> int:
    """A UTC millisecond time as iOS 10 and older store it: seconds since 2001-01-01."""
    return (ms - APPLE_EPOCH_MS) // 1000


def typedstream_int(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x10000:
        return b"\x81" + n.to_bytes(2, "little")
    return b"\x82" + n.to_bytes(4, "little")


def attributed_body(text: str) -> bytes:
    """An ``attributedBody`` blob holding ``text``, laid out as Messages writes one."""
    data = text.encode("utf-8")
    utf16_units = len(text.encode("utf-16-le")) // 2
    return b"".join(
        [
            b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00",
            b"\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+",
            typedstream_int(len(data)),
            data,
            b"\x86\x84\x02iI\x01",
            typedstream_int(utf16_units),
            b"\x92\x84\x84\x84\x0cNSDictionary\x00\x94\x84\x01i\x01\x92\x84\x96\x96\x1d",
            b"__kIMMessagePartAttributeName\x86\x92\x84\x84\x84\x08NSNumber\x00",
            b"\x84\x84\x07NSValue\x00\x94\x84\x01*\x84\x9b\x9b\x00\x86\x86\x86",
        ]
    )


class MessagesDb:
    """A new ``sms.db``/``chat.db`` at ``path`` that tests fill row by row."""

    def __init__(self, path: Path, *, legacy: bool = False) -> None:
        self.path = path
        self.legacy = legacy
        self.conn = sqlite3.connect(path, isolation_level=None)  # noqa: TID251 - a foreign file
        self.conn.executescript(LEGACY_SCHEMA if legacy else MODERN_SCHEMA)
        self.conn.execute("BEGIN")
        self._guids = 0

    def handle(self, ident: str, service: str = "iMessage", person: str | None = None) -> int:
        columns = {"id": ident, "service": service, "uncanonicalized_id": ident}
        if not self.legacy:
            columns["person_centric_id"] = person
        return self._insert("handle", columns)

    def chat(
        self,
        handles: list[int],
        *,
        display_name: str | None = None,
        service: str = "iMessage",
        identifier: str | None = None,
    ) -> int:
        columns: dict[str, object] = {
            "guid": self._guid("chat"),
            "style": 43 if len(handles) > 1 else 45,
            "chat_identifier": identifier or f"chat{self._guids}",
            "service_name": service,
        }
        if not self.legacy:
            columns["display_name"] = display_name
        chat = self._insert("chat", columns)
        for handle in handles:
            self._insert("chat_handle_join", {"chat_id": chat, "handle_id": handle})
        return chat

    def message(self, chat: int | None, **fields: object) -> int:
        """Insert a message row (columns by name; ``guid``, ``service`` and ``date`` default)
        and join it to ``chat``; returns its ROWID."""
        fields.setdefault("guid", self._guid("msg"))
        fields.setdefault("service", "iMessage")
        fields.setdefault("date", apple_ns(1_700_000_000_000))
        rowid = self._insert("message", fields)
        if chat is not None:
            self._insert("chat_message_join", {"chat_id": chat, "message_id": rowid})
        return rowid

    def attachment(
        self, message: int, filename: str | None, mime_type: str | None, name: str | None = None
    ) -> int:
        guid = self._guid("att")
        columns: dict[str, object] = {"guid": guid, "filename": filename, "mime_type": mime_type}
        if not self.legacy:
            columns |= {"transfer_name": name, "original_guid": guid}
        rowid = self._insert("attachment", columns)
        self._insert("message_attachment_join", {"message_id": message, "attachment_id": rowid})
        self.conn.execute(
            "UPDATE message SET cache_has_attachments = 1 WHERE ROWID = ?", (message,)
        )
        return rowid

    def close(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()

    def _guid(self, kind: str) -> str:
        self._guids += 1
        return f"{kind.upper()}-0000-4000-8000-{self._guids:012d}"

    def _insert(self, table: str, columns: dict[str, object]) -> int:
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        cur = self.conn.execute(
            f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(columns.values())
        )
        return int(cur.lastrowid or 0)
