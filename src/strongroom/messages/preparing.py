"""Checking and normalising one incoming message, before anything touches the database.

Pure work on a :class:`~strongroom.messages.records.MessageRecord`: validate it, normalise its
handles, drop the owner from its participants, pick its body, and compute what the vault matches
and groups it by (its conversation key and, when it has no media, its fingerprint).  The messages
service runs it on every message it stores; an import runs it in the reading process instead
(:func:`attach`), on the other core, and the service takes the result when it was made for the
same account settings (:attr:`Prepared.settings`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, partial
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any, NamedTuple

from strongroom.errors import InvalidInput
from strongroom.messages.fingerprints import fingerprint_of_normalised, is_media, normalise_body
from strongroom.messages.handles import normalise, normalise_many
from strongroom.messages.records import STATUSES, MessageRecord

MAX_BODY = 1_000_000
MAX_PARTS = 100
KINDS = ("sms", "mms", "imessage", "rcs")


def participants_key(values: Iterable[str]) -> str:
    """A conversation's identity: a hash of its participants' normalised handles."""
    return _key_of(tuple(sorted(set(values))))


@lru_cache(maxsize=1 << 14)
def _key_of(sorted_values: tuple[str, ...]) -> str:
    # Messages come conversation by conversation: most keys were just made.
    return hashlib.sha256("\x1f".join(sorted_values).encode()).hexdigest()


def settings_key(region: str, owner: Iterable[str], rows: RowSettings | None = None) -> str:
    """Names the settings a message was prepared under (region and the owner's handles, and
    how its row was made ahead, if it was)."""
    global _last_key
    last = _last_key
    if last[1] is owner and last[0] is region and last[2] is rows:
        return last[3]  # a reading process asks for every message with the same three
    owners = frozenset(owner)  # the same object when it is one: never a set changed since
    key = region + "\x1f" + "\x1f".join(sorted(owners))
    if rows is not None:
        key = f"{key}\x1e{rows!r}"
    _last_key = (region, owners, rows, key)
    return key


_last_key: tuple[object, object, object, str] = (None, None, None, "")
"""The settings last named, and their name.  A reading process names the same settings for
every message; a cache keyed by them hashed the row settings (a frozen dataclass) in Python each
time, 0.18 s of a reading process's 7.5 s for the benchmark's sms.db."""


TAIL_COLUMNS = (
    "kind", "direction", "date", "date_sent", "date_precision", "read", "status", "subject",
    "body", "part_count", "guid", "reply_to_guid", "source", "fingerprint", "extra",
)  # fmt: skip
"""The columns of a message's row that :func:`row_tail` gives, in order (the ingest puts its
id, conversation, sender, creation time and account before them)."""


@dataclass(frozen=True)
class RowSettings:
    """How a reading process makes each message's row ahead (:func:`attach`): SQLite's marks
    for NULL (:attr:`strongroom.db.Database.null_marks`) and the source a record without one
    is stored under (the reader's name)."""

    null_marks: tuple[object, object]
    source: str


def row_tail(
    rec: MessageRecord,
    body: str,
    fingerprint: bytes,
    extra: str,
    part_count: int,
    source: str,
    null_marks: tuple[object, object] | None,
) -> tuple[Any, ...]:
    """The values of :data:`TAIL_COLUMNS` for ``rec`` (stored with ``body``, ``fingerprint``,
    ``extra`` as JSON text, and ``part_count`` parts).  With ``null_marks`` (SQLite), encoded as
    :func:`strongroom.db.insert_tuples` takes them ``encoded``: 0 or 1 for the read flag, a
    bytearray for the fingerprint, the marks for NULL; else plain values."""
    read = rec.read or rec.direction == "out"
    if null_marks is None:
        return (
            rec.kind, rec.direction, rec.date_ms, rec.date_sent_ms, rec.date_precision, read,
            rec.status, rec.subject, body, part_count, rec.guid, rec.reply_to_guid,
            rec.source or source, fingerprint, extra,
        )  # fmt: skip
    text_null, number_null = null_marks
    return (
        rec.kind,
        rec.direction,
        rec.date_ms,
        number_null if rec.date_sent_ms is None else rec.date_sent_ms,
        rec.date_precision,
        1 if read else 0,
        rec.status,
        text_null if rec.subject is None else rec.subject,
        body,
        part_count,
        text_null if rec.guid is None else rec.guid,
        text_null if rec.reply_to_guid is None else rec.reply_to_guid,
        rec.source or source,
        bytearray(fingerprint),
        extra,
    )


@dataclass(slots=True)
class Prepared:
    sender: str | None
    participants: tuple[str, ...]
    """Sorted, without the owner (one tuple shared by the messages of a conversation)."""
    body: str
    """The body as stored: NFC and trimmed, except an MMS's."""
    key: str
    """The conversation's :func:`participants_key`."""
    fingerprint: bytes | None
    """None when the message has media: its fingerprint needs the media's hashes."""
    extra_json: str | None
    """The record's ``extra`` as JSON, when it was encoded here (the record's dict is then
    emptied, so it crosses a pipe once)."""
    settings: str
    tail: tuple[Any, ...] | None = None
    """The message's row from ``kind`` on (:func:`row_tail`), when it was made ahead: for a
    message without parts, by a reading process told how (:class:`RowSettings`)."""

    def __reduce__(self) -> tuple[type[Prepared], tuple[object, ...]]:
        # Rebuilt from its fields in order: a third of the time of the default way.
        return (
            Prepared,
            (
                self.sender,
                self.participants,
                self.body,
                self.key,
                self.fingerprint,
                self.extra_json,
                self.settings,
                self.tail,
            ),
        )


def compact_json(values: dict[str, str]) -> str:
    """``json.dumps(values, separators=(",", ":"))``, in half the time for the flat string maps
    readers keep in ``extra`` (anything else goes through ``json.dumps``): the records of one
    file mostly share their keys, so the keys are written into a template once."""
    try:
        return _template(tuple(values)) % tuple(map(_quoted, values.values()))
    except TypeError:  # a value (or key) that is not a string
        return json.dumps(values, separators=(",", ":"))


@lru_cache(maxsize=256)
def _template(keys: tuple[str, ...]) -> str:
    return "{" + ",".join(_quoted(k).replace("%", "%%") + ":%s" for k in keys) + "}"


def _check(rec: MessageRecord) -> None:
    if rec.kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    if rec.direction not in ("in", "out"):
        raise InvalidInput("direction must be 'in' or 'out'")
    if rec.status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    if len(rec.body) > MAX_BODY or len(rec.parts) > MAX_PARTS:
        raise InvalidInput("the message is too large")
    if not 0 <= rec.date_ms < 1 << 46:
        raise InvalidInput("the date is not a time in UTC milliseconds")


def prepare(
    rec: MessageRecord,
    region: str,
    owner: set[str] | frozenset[str],
    rows: RowSettings | None = None,
) -> Prepared:
    """Check and normalise ``rec``; ``rows``: how its row is to be made ahead, if it is (part
    of the settings it was prepared under).  Raises InvalidInput naming what is wrong."""
    _check(rec)
    sender = normalise(rec.sender, region)[0] if rec.sender else None
    if rec.direction != "in":
        sender = None
    owners = owner if isinstance(owner, frozenset) else frozenset(owner)
    participants, key = _people(tuple(rec.participants), sender, rec.direction, region, owners)
    body = rec.body
    kind = rec.kind
    if kind != "mms":
        body = normalise_body(body)  # as stored (an MMS keeps its text as it came)
    elif not body.strip():
        body = "\n".join(
            p.content.read().decode("utf-8", "replace")
            for p in rec.parts
            if p.content_type.split(";")[0].strip().lower() == "text/plain"
        )
    has_media = rec.parts and any(is_media(p.content_type) for p in rec.parts)
    return Prepared(
        sender,
        participants,
        body,
        key,
        None
        if has_media
        else fingerprint_of_normalised(
            rec.direction,
            sender,
            participants,
            body if kind != "mms" else normalise_body(body),
        ),
        None,
        settings_key(region, owners, rows),
    )


@lru_cache(maxsize=1 << 14)
def _people(
    raw: tuple[str, ...], sender: str | None, direction: str, region: str, owner: frozenset[str]
) -> tuple[tuple[str, ...], str]:
    """The participants of a message as stored (normalised, sorted, without the owner, with
    the sender of an incoming one) and their conversation's key.  Messages come conversation
    by conversation, so most were just worked out for the message before."""
    participants = [p for p in normalise_many(list(raw), region) if p not in owner]
    if direction == "in":
        if sender is None:
            raise InvalidInput("an incoming message needs a sender")
        if sender not in participants and sender not in owner:
            participants.append(sender)
    if not participants:
        raise InvalidInput("a message needs at least one participant besides the owner")
    participants.sort()
    people = tuple(participants)
    return people, _key_of(people)


class Ready(NamedTuple):
    """A message without parts or reactions, prepared and its row made by a reading process
    (:func:`attach`): all that storing it needs.  It crosses the pipe as a plain tuple, built
    and rebuilt in C (:func:`as_ready` names its fields again): a record with its
    :class:`Prepared` took a reading process 3.6-4.2 µs a message to pickle and the importing
    process 2.0-3.5 µs to unpickle, this 1.4 µs and 0.9-1.1 µs.  It answers the record's fields
    the ingest reads, under the same names."""

    kind: str
    direction: str
    date_ms: int
    date_precision: str
    read: bool
    group_title: str | None
    sender: str | None
    """Normalised (a record's is as it came)."""
    participants: tuple[str, ...]
    """Normalised, sorted, without the owner."""
    key: str
    fingerprint: bytes
    settings: str
    """What it was prepared under (:attr:`Prepared.settings`)."""
    tail: tuple[Any, ...]
    """Its row from ``kind`` on (:func:`row_tail`)."""

    @property
    def parts(self) -> tuple[()]:
        return ()

    @property
    def reactions(self) -> tuple[()]:
        return ()


as_ready: Callable[[tuple[Any, ...]], Ready] = partial(tuple.__new__, Ready)
"""A :class:`Ready` from the plain tuple it crossed the pipe as."""


def attach(
    rec: MessageRecord, region: str, owner: frozenset[str], rows: RowSettings | None = None
) -> MessageRecord | tuple[Any, ...]:
    """Prepare ``rec`` ahead (in a reading process) and keep the result on it; with ``rows``,
    make its row too, if it has no parts (the row of a message with parts waits for them to be
    stored), and give a message without parts or reactions as a :class:`Ready`, in a plain
    tuple, instead of the record.

    A record that fails its checks is given as it is: the service checks it again and reports
    the problem.  ``extra`` is encoded to JSON here and the dict emptied.
    """
    try:
        prepared = prepare(rec, region, owner, rows)
    except InvalidInput:
        return rec
    if rec.extra:
        prepared.extra_json = compact_json(rec.extra)
        rec.extra = {}
    if rows is not None and not rec.parts and prepared.fingerprint is not None:
        extra = "{}" if prepared.extra_json is None else prepared.extra_json
        tail = row_tail(
            rec, prepared.body, prepared.fingerprint, extra, 0, rows.source, rows.null_marks
        )
        if not rec.reactions:
            return (  # Ready's fields, in its order (a Ready made here would cost a call)
                rec.kind, rec.direction, rec.date_ms, rec.date_precision, rec.read,
                rec.group_title, prepared.sender, prepared.participants, prepared.key,
                prepared.fingerprint, prepared.settings, tail,
            )  # fmt: skip
        prepared.tail = tail
    rec.prepared = prepared
    return rec
