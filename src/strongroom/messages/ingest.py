"""Storing messages: one path for device uploads and imports alike.

An :class:`Ingest` is one run of writes (an upload batch, or a whole import).  For each batch it
normalises handles, stages attachment bytes into the content store (outside the transaction),
then in one transaction matches every message against the vault and the fingerprints of deleted
and expired messages (:mod:`messages.fingerprints`), and stores only what is new.

# Race: two devices uploading overlapping batches at the same moment.  The transaction first locks
# the account row (``usage.reserve``), so batches of one account are matched and stored one after
# the other, and the second sees the first's messages as duplicates.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from strongroom.accounts import changes, usage
from strongroom.accounts.models import Account
from strongroom.blobs import Vault
from strongroom.clock import DAY_MS, Clock
from strongroom.content import store as content
from strongroom.db import (
    Database,
    KeptWrite,
    execute_many,
    insert_rows,
    insert_tuples,
    select_in,
)
from strongroom.errors import InvalidInput, NotFound, StrongroomError
from strongroom.messages import ids, preparing, search, threads
from strongroom.messages.errors import ServiceOff
from strongroom.messages.fingerprints import fingerprint, is_media, same_time
from strongroom.messages.handles import normalise, normalise_many
from strongroom.messages.models import Call, Gone, Message, MessagePart, Reaction
from strongroom.messages.records import (
    CALL_TYPES,
    CallRecord,
    MessageRecord,
    PartRecord,
    ReactionRecord,
)

SMALL_PART = 1024 * 1024
"""Parts up to this size are staged together with the batch's other small parts."""
SMALL_PARTS_HELD = 16 * 1024 * 1024
"""The most small-part bytes held in memory at once while staging a batch."""
UNKNOWN_NUMBER = "unknown"
"""The handle of calls from a withheld or private number."""


# The matching queries.  No ORDER BY: SQLite would walk the (account, id) index, every message of
# the account, to avoid a sort; the few matches are sorted after.
# PostgreSQL: one index probe per fingerprint, whatever the planner believes.  Its statistics lag
# behind a big import (the table grows from nothing to a million rows between two autovacuum
# analyses); with ``fingerprint IN (...)`` it then read every message of the account through the
# account index and filtered them, each batch (90 ms a batch at 200k messages, growing).
_STORED = (
    "SELECT m.id, m.fingerprint, m.date, m.date_precision, m.read "
    "FROM unnest(%s::bytea[]) AS f(fp) CROSS JOIN LATERAL ("
    "SELECT id, fingerprint, date, date_precision, read FROM messages "
    "WHERE account_id = %s AND fingerprint = f.fp OFFSET 0) AS m"
)
# SQLite has no index on fingerprints (see migration 0007): a copy can only match a stored
# message of the same second, and ids grow with the date, so it reads the seconds of the batch
# through the (account, id) index instead, one range of ids per run of nearby seconds.
_IN_RANGES = (
    "WITH r(lo, hi) AS (VALUES (*)) SELECT {} "
    "FROM r CROSS JOIN messages AS m WHERE m.account_id = ? AND m.id BETWEEN r.lo AND r.hi"
)
_STORED_IN_RANGES = _IN_RANGES.format("m.id, m.fingerprint, m.date, m.date_precision, m.read")
# Nor on guids (migration 0014): a tapback's target is looked for among the messages of the
# seconds around the target's date, when its reader knows that date.
_GUIDS_IN_RANGES = _IN_RANGES.format("m.guid, m.id")
TARGET_SLACK_S = 1
"""Seconds either side of a tapback's target's date that the target is looked for in."""
_STORED_BOUNDS = (
    "SELECT (SELECT min(id) FROM messages WHERE account_id = ?), "
    "(SELECT max(id) FROM messages WHERE account_id = ?)"
)
RANGE_GAP_S = 10
"""Seconds of a batch this close together are read as one range of ids."""
_RANGES_PER_STATEMENT = 400
_BY_GUID = "SELECT guid, id FROM messages WHERE account_id = ? AND guid IN (*)"
"""Targets by guid alone: PostgreSQL's index, or on SQLite a scan of the account's messages."""
_DROP_REACTION = (
    "DELETE FROM reactions WHERE message_id = ? AND reaction = ? "
    "AND sender_id IS NOT DISTINCT FROM ?"
)
_DROP_REACTION_SQLITE = (
    "DELETE FROM reactions WHERE message_id = ? AND reaction = ? AND sender_id IS ?"
)
_GONE = (
    "SELECT id, message_id, fingerprint, date, date_precision, reason FROM messages_gone "
    "WHERE account_id = ? AND fingerprint IN (*)"
)


Incoming = MessageRecord | preparing.Ready
"""A message to store: a record, or one an import's reading process made ready."""

_MESSAGE_COLUMNS = (
    "id", "conversation_id", "sender_id", "created_at", "account_id", *preparing.TAIL_COLUMNS
)  # fmt: skip
"""A message row's columns: the five :meth:`Ingest._store` knows, then :attr:`_Item.tail`."""

_TAIL_BODY = preparing.TAIL_COLUMNS.index("body")

CLAIMS_KEPT = 200_000
"""How many of a run's latest claims are remembered (memory stays flat on long imports)."""
_CLAIMS_TOGETHER = 1024
"""Single claims are let go of in groups of up to this many."""


class _Recent:
    """A set of about the last ``limit`` ids added.  A run's identical copies come close
    together (the same conversation, the same second), so claims older than that are let go,
    a batch of them at a time."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.ids: set[int] = set()
        self.batches: deque[list[int]] = deque()
        self.held = 0

    def __contains__(self, value: int) -> bool:
        return value in self.ids

    def add(self, value: int) -> None:
        """One claim (a matched copy), kept with the newest claims."""
        if value in self.ids:
            return
        self.ids.add(value)
        if self.batches and len(self.batches[-1]) < _CLAIMS_TOGETHER:
            self.batches[-1].append(value)
        else:
            self.batches.append([value])
        self.held += 1
        self._let_go()

    def update(self, values: list[int], *, new: bool = False) -> None:
        """Many claims at once; ``new``: ids just allocated (a batch's new messages), which
        no claim can hold yet and which differ from each other."""
        fresh = list(values) if new else [v for v in dict.fromkeys(values) if v not in self.ids]
        if not fresh:
            return
        self.ids.update(fresh)
        self.batches.append(fresh)
        self.held += len(fresh)
        self._let_go()

    def _let_go(self) -> None:
        while self.held - len(self.batches[0]) >= self.limit:
            oldest = self.batches.popleft()
            self.held -= len(oldest)
            self.ids.difference_update(oldest)


def _unclaimed(candidates: list[Any] | None, claimed: _Recent, at: int, rec: Incoming) -> Any:
    """The first of ``candidates`` (rows with their id first, and the time and its precision
    at ``at`` and ``at + 1``) not claimed yet in this run and of the same time as ``rec``."""
    for row in candidates or ():
        if row[0] not in claimed and same_time(
            row[at], row[at + 1], rec.date_ms, rec.date_precision
        ):
            return row
    return None


@dataclass(slots=True)
class Outcome:
    client_id: str | None
    id: int | None
    status: str  # created, duplicate, rejected
    problem: dict[str, str] | None = None


def _rejected(client_id: str | None, code: str, detail: str, id_: int | None = None) -> Outcome:
    return Outcome(client_id, id_, "rejected", {"code": code, "detail": detail})


@dataclass(slots=True)
class _Item:
    index: int
    client_id: str | None
    record: Incoming
    sender: str | None
    participants: Sequence[str]
    body: str
    """As stored."""
    staged: Sequence[tuple[PartRecord, content.Staged]] = ()
    """The parts' bytes as stored (a list once staged; one shared empty tuple for the many
    messages without parts)."""
    key: str = ""
    """The conversation's participants key."""
    fingerprint: bytes = b""
    """Known before staging when the message has no media."""
    extra: str = "{}"
    """The record's ``extra`` as JSON."""
    expired: bool = False
    """Older than the account keeps messages: stored only if the vault already has it."""
    tail: tuple[Any, ...] = ()
    """The message's row from ``kind`` on (:func:`~strongroom.messages.preparing.row_tail`):
    made by the reading process of an import for most messages, else once staged, on the
    staging thread while the batch before it is stored."""


@dataclass
class StagedBatch:
    """A batch prepared, its parts' bytes stored, waiting for :meth:`Ingest.store`."""

    items: list[_Item]
    outcomes: list[Outcome | None]
    chunks: content.ChunkRecords
    """The small parts' new chunks, recorded by :meth:`Ingest.store` in the batch's own
    transaction (so staging takes no turn at the write lock while the batch before it is being
    stored), or by :meth:`Ingest.release` when the batch is not stored."""
    dates: list[int] = field(default_factory=list)
    """The items' dates, in order (taken while staging)."""
    with_parts: bool = True
    """Whether any item has attachments (to weigh against the quota)."""


@dataclass
class _Settings:
    region: str
    owner: frozenset[str]
    retention_days: int | None
    enabled: bool


class Ingest:
    """One run of writes into an account's message vault."""

    def __init__(
        self, db: Database, vault: Vault, clock: Clock, account_id: int, *, source: str
    ) -> None:
        self.db, self.vault, self.clock, self.account_id = db, vault, clock, account_id
        self.source = source
        self.claimed = _Recent(CLAIMS_KEPT)
        self.claimed_gone = _Recent(CLAIMS_KEPT)
        with db.read() as s:
            account = s.get(Account, account_id)
            if account is None:
                raise NotFound("no such account")
            region = account.default_region
            self.settings = _Settings(
                region=region,
                owner=frozenset(normalise_many(list(account.phone_numbers or []), region)),
                retention_days=account.message_retention_days,
                enabled=account.messages_enabled,
            )
        self.rows = preparing.RowSettings(db.null_marks, source) if db.is_sqlite else None
        """How this run's message rows are made (what an import's reading process is told, to
        make them ahead)."""
        self.settings_key = preparing.settings_key(
            self.settings.region, self.settings.owner, self.rows
        )
        self.threads = threads.Threads(account_id, self.settings.region)
        self.state = 0
        self._sharing: tuple[int, float] | None = None
        """(messages, seconds) when batches share transactions (:meth:`share_transactions`)."""
        self._open: KeptWrite | None = None
        self._open_messages = 0
        self._open_chunks: list[content.ChunkRecords] = []
        """The new chunks of the batches stored in the open transaction (see :meth:`release`)."""

    # -- transactions -----------------------------------------------------------------------

    def share_transactions(self, messages: int, seconds: float) -> None:
        """SQLite: store the batches of this run in shared transactions, each kept open
        until it holds ``messages`` messages or has been open ``seconds``, or until
        :meth:`commit`.  Every write of this thread meanwhile joins it, and other writers wait
        for it: commit before waiting on anything.  A write that fails in it takes every batch
        since the last commit with it (running the import again stores them).

        Each commit writes out every page its transaction touched, and every batch touches
        a leaf of the conversation index in most conversations and the search index's newest
        pages: a million messages in transactions of 6,000 wrote 2.3 GB to the log, in
        transactions of 30,000 1.2 GB (plain sqlite3, 11.3 s against 9.3 s)."""
        if self.db.is_sqlite:
            self._sharing = (messages, seconds)

    def commit(self) -> None:
        """End the shared transaction, if one is open: commit it, or roll it back if a write
        in it failed.  The new chunks of the batches not stored are recorded apart (see
        :meth:`release`)."""
        kept, self._open = self._open, None
        if kept is None:
            return
        chunks, self._open_chunks, self._open_messages = self._open_chunks, [], 0
        committed = False
        try:
            committed = kept.end()
        finally:
            if not committed:
                for records in chunks:
                    self._record_apart(records)

    # -- preparing ------------------------------------------------------------------------

    def _prepare(self, index: int, client_id: str | None, rec: Incoming) -> _Item:
        if type(rec) is preparing.Ready:
            if rec.settings != self.settings_key:  # not from a reading process of this run
                raise InvalidInput("the message was prepared under other account settings")
            return _Item(
                index,
                client_id,
                rec,
                rec.sender,
                rec.participants,
                rec.tail[_TAIL_BODY],  # the conversation's snippet, if it is the last
                key=rec.key,
                fingerprint=rec.fingerprint,
                tail=rec.tail,
            )
        assert isinstance(rec, MessageRecord)
        ready = rec.prepared
        if ready is None or ready.settings != self.settings_key:
            ready = preparing.prepare(rec, self.settings.region, self.settings.owner)
        return _Item(
            index,
            client_id,
            rec,
            ready.sender,
            ready.participants,
            ready.body,
            key=ready.key,
            fingerprint=ready.fingerprint or b"",
            extra=(
                ready.extra_json
                if ready.extra_json is not None
                else preparing.compact_json(rec.extra)
                if rec.extra
                else "{}"
            ),
            tail=ready.tail or (),
        )

    def _oldest_kept(self) -> int:
        """The date (ms) before which the account keeps no messages (0: it keeps them all)."""
        days = self.settings.retention_days
        return 0 if days is None else self.clock.now_ms() - days * DAY_MS

    def _stage(self, items: list[_Item], later: content.ChunkRecords) -> None:
        """Store every part's bytes (small parts together, a few round trips per batch, their
        chunks recorded ``later``; large ones streamed one by one), then fingerprint each
        message."""
        items = [it for it in items if it.record.parts]  # most messages have none
        slots: list[list[content.Staged | None]] = [[None] * len(it.record.parts) for it in items]
        small: list[tuple[list[content.Staged | None], int, bytes]] = []
        held = 0
        for item, slot in zip(items, slots, strict=True):
            for i, part in enumerate(item.record.parts):
                if part.content.size > SMALL_PART:
                    slot[i] = content.stage(
                        self.db, self.vault, self.account_id, self.clock, part.content.chunks()
                    )
                    continue
                small.append((slot, i, part.content.read()))
                held += part.content.size
                if held >= SMALL_PARTS_HELD:
                    self._stage_small(small, later)
                    small, held = [], 0
        self._stage_small(small, later)
        for item, slot in zip(items, slots, strict=True):
            item.staged = [(p, st) for p, st in zip(item.record.parts, slot, strict=True) if st]
            if item.fingerprint:
                continue  # no media: made with the message
            media = [st.sha256 for p, st in item.staged if is_media(p.content_type)]
            item.fingerprint = fingerprint(
                item.record.direction, item.sender, item.participants, item.body, media
            )

    def _stage_small(
        self,
        small: list[tuple[list[content.Staged | None], int, bytes]],
        later: content.ChunkRecords,
    ) -> None:
        if not small:
            return
        staged = content.stage_many(
            self.db,
            self.vault,
            self.account_id,
            self.clock,
            [data for _, _, data in small],
            later=later,
        )
        for (slot, i, _), st in zip(small, staged, strict=True):
            slot[i] = st

    # -- the batch --------------------------------------------------------------------------

    def add(self, batch: Sequence[tuple[str | None, Incoming]]) -> list[Outcome]:
        """Store a batch; one outcome per message, in order.  Raises ServiceOff."""
        return self.store(self.stage(batch))

    def stage(self, batch: Sequence[tuple[str | None, Incoming]]) -> StagedBatch:
        """The first half of :meth:`add`: prepare each message and store its parts' bytes,
        outside any transaction of the vault.  Safe to run on another thread while the
        previous batch is in :meth:`store` (imports do, so that attachments are encrypted and
        written while rows are inserted).  Raises ServiceOff."""
        if not self.settings.enabled:
            raise ServiceOff("turn the messages service on to back up messages")
        outcomes: list[Outcome | None] = [None] * len(batch)
        items: list[_Item] = []
        oldest = self._oldest_kept()
        for i, (client_id, rec) in enumerate(batch):
            try:
                item = self._prepare(i, client_id, rec)
                # Matched like the others first: a copy of a message the vault still holds
                # (expiry had not run yet) is that message, not a refusal the device would
                # keep as a phone-only copy and upload again as a new message later.
                item.expired = rec.date_ms < oldest
                items.append(item)
            except StrongroomError as e:
                outcomes[i] = _rejected(client_id, e.slug, e.detail)
        staged = StagedBatch(items, outcomes, content.ChunkRecords())
        try:
            self._stage(items, staged.chunks)
        except BaseException:
            self.release(staged)
            raise
        self._tails(items)
        staged.dates = [it.record.date_ms for it in items]
        staged.with_parts = any(it.staged for it in items)
        return staged

    def store(self, staged: StagedBatch) -> list[Outcome]:
        """The second half of :meth:`add`: match and store a staged batch in one transaction
        (batches are stored in the order they were read).  Raises ServiceOff."""
        items, outcomes = staged.items, staged.outcomes
        try:
            if self._sharing and self._open is None:
                self._open = self.db.keep_open()
            with self.db.write() as s:
                free = usage.reserve(s, self.account_id, 0).free_bytes  # takes the account lock
                if not s.scalar(
                    select(Account.messages_enabled).where(Account.id == self.account_id)
                ):
                    raise ServiceOff("the messages service was turned off")
                content.record_chunks(s, staged.chunks)
                new = self._match(s, items, outcomes, staged.dates)
                dates = staged.dates if new is items else None
                self._store(s, new, outcomes, free, dates, staged.with_parts)
                self.state = changes.current_state(s, self.account_id)
        except BaseException:
            try:
                self.commit()  # rolled back, with the batches before it in the transaction
            finally:
                self.release(staged)
            raise
        if self._open is not None and self._sharing:
            self._open_chunks.append(staged.chunks)
            self._open_messages += len(items)
            if self._open_messages >= self._sharing[0] or self._open.age() >= self._sharing[1]:
                self.commit()
        staged.chunks = content.ChunkRecords()
        return [o if o is not None else _rejected(None, "error", "not processed") for o in outcomes]

    def release(self, staged: StagedBatch) -> None:
        """Let go of a staged batch that will not be stored: its parts' new chunks are recorded
        on their own, for reclaiming to delete once unused (without a record their pack would
        be on no list).  If that fails too (the database is unwritable), the pack stays as
        after a crash between its write and its record."""
        chunks, staged.chunks = staged.chunks, content.ChunkRecords()
        self._record_apart(chunks)

    def _record_apart(self, chunks: content.ChunkRecords) -> None:
        try:
            content.record_later(self.db, chunks)
        except Exception:  # noqa: BLE001 - the first failure is the one to report
            pass

    def _match(
        self, s: Session, items: list[_Item], outcomes: list[Outcome | None], dates: list[int]
    ) -> list[_Item]:
        fps: set[bytes] | None = None
        stored: dict[bytes, list[tuple[int, int, str, bool]]] = defaultdict(list)
        if self.db.is_sqlite:
            found = self._stored_near(s, dates)
        else:
            fps = {it.fingerprint for it in items}
            result = s.connection().exec_driver_sql(_STORED, (list(fps), self.account_id))
            found = [tuple(row) for row in result]
        if found:
            fps = fps or {it.fingerprint for it in items}
            for mid, fp, date, prec, read in found:
                if bytes(fp) in fps:
                    stored[bytes(fp)].append((int(mid), int(date), str(prec), bool(read)))
        gone: dict[bytes, list[tuple[int, int, int, str, str]]] = defaultdict(list)
        if s.execute(select(Gone.id).where(Gone.account_id == self.account_id).limit(1)).first():
            fps = fps or {it.fingerprint for it in items}
            for gid, mid, fp, date, prec, reason in select_in(
                s, _GONE, (self.account_id,), list(fps)
            ):
                gone[bytes(fp)].append((int(gid), int(mid), int(date), str(prec), str(reason)))
        for matches in stored.values():
            matches.sort()
        for tombs in gone.values():
            tombs.sort()
        if not stored and not gone and not any(it.expired for it in items):
            return items  # an import in date order: every batch is newer than what is stored
        new: list[_Item] = []
        mark_read: list[int] = []
        for it in items:
            rec = it.record
            same = _unclaimed(stored.get(it.fingerprint), self.claimed, 1, rec)
            if same:
                mid, _, _, read = same
                self.claimed.add(mid)
                outcomes[it.index] = Outcome(it.client_id, mid, "duplicate")
                if rec.read and not read and rec.direction == "in":
                    mark_read.append(mid)
                continue
            if it.expired:
                outcomes[it.index] = _rejected(
                    it.client_id, "expired", "older than the account keeps messages"
                )
                continue
            tomb = _unclaimed(gone.get(it.fingerprint), self.claimed_gone, 2, rec) if gone else None
            if tomb:
                gid, mid, _, _, reason = tomb
                self.claimed_gone.add(gid)
                outcomes[it.index] = _rejected(
                    it.client_id, reason, f"this message was {reason} from the vault", mid
                )
                continue
            new.append(it)
        if mark_read:
            self._mark_read(s, mark_read)
        return new

    def _stored_near(
        self, s: Session, dates_ms: list[int], sql: str = _STORED_IN_RANGES, slack_s: int = 0
    ) -> list[tuple[Any, ...]]:
        """The account's stored messages of the seconds of ``dates_ms`` (widened by
        ``slack_s`` either side, and joined by the gaps of up to :data:`RANGE_GAP_S` between
        them), as ``sql`` (an :data:`_IN_RANGES` query) selects them."""
        connection = s.connection()
        lowest, highest = connection.exec_driver_sql(_STORED_BOUNDS, (self.account_id,) * 2).one()
        if lowest is None:
            return []  # nothing stored yet
        # Only seconds that stored ids could fall in: an import in date order (either way)
        # reads nothing, each batch being newer (or older) than everything stored before it.
        first, last = ids.date_of(lowest) // 1000, ids.date_of(highest) // 1000
        if not dates_ms or min(dates_ms) // 1000 - slack_s > last:
            return []  # an import in date order: the batch is newer than all stored
        if max(dates_ms) // 1000 + slack_s < first:
            return []  # or older
        seconds = sorted(
            {
                sec
                for d in dates_ms
                for sec in range(d // 1000 - slack_s, d // 1000 + slack_s + 1)
                if first <= sec <= last
            }
        )
        ranges: list[tuple[int, int]] = []
        for second in seconds:
            if ranges and second - ranges[-1][1] <= RANGE_GAP_S:
                ranges[-1] = (ranges[-1][0], second)
            else:
                ranges.append((second, second))
        found: list[tuple[Any, ...]] = []
        for at in range(0, len(ranges), _RANGES_PER_STATEMENT):
            part = ranges[at : at + _RANGES_PER_STATEMENT]
            statement = sql.replace("(*)", ", ".join("(?, ?)" for _ in part))
            bounds = [
                v
                for lo, hi in part
                for v in (ids.first_id_at(lo * 1000), ids.first_id_at((hi + 1) * 1000) - 1)
            ]
            found += connection.exec_driver_sql(statement, (*bounds, self.account_id)).all()
        return found

    def _mark_read(self, s: Session, message_ids: list[int]) -> None:
        s.execute(update(Message).where(Message.id.in_(message_ids)).values(read=True))
        convs = set(s.scalars(select(Message.conversation_id).where(Message.id.in_(message_ids))))
        threads.refresh(s, convs)
        now = self.clock.now_ms()
        changes.record(
            s, self.account_id, "message", [(m, changes.UPDATED) for m in message_ids], now
        )

    def _store(
        self,
        s: Session,
        items: list[_Item],
        outcomes: list[Outcome | None],
        free: int,
        dates: list[int] | None,
        with_parts: bool,
    ) -> None:
        """Store ``items`` (of ``dates``, when known) within ``free`` bytes of quota."""
        now = self.clock.now_ms()
        accepted: list[_Item] = []
        total = 0
        if free >= 0 and not with_parts:
            accepted = items  # nothing to weigh against the quota
        else:
            for it in items:
                size = sum(st.size for _, st in it.staged) if it.staged else 0
                if size > free - total:
                    outcomes[it.index] = _rejected(
                        it.client_id,
                        "quota-exceeded",
                        f"storing its {size} bytes of attachments would exceed the storage quota",
                    )
                    continue
                total += size
                accepted.append(it)
        if not accepted:
            return
        if dates is None or accepted is not items:
            dates = [it.record.date_ms for it in accepted]
        new_ids = ids.allocate(s, dates)
        # The senders' handles (the rows name them); a new conversation makes its
        # participants' handles itself.
        handle_ids = self.threads.handle_ids(s, list({it.sender for it in accepted if it.sender}))
        self.threads.look_up(s, [it.key for it in accepted])
        rows, parts, reactions = [], [], []
        staged_parts: list[content.Staged] = []
        per_conv: dict[int, list[Any]] = {}
        """Per conversation: messages added, of them unread, the last one's id and item."""
        created_convs: list[int] = []
        known = self.threads.conversations
        null_number = self.db.null_marks[1]
        account = self.account_id
        for it, mid in zip(accepted, new_ids, strict=True):
            rec = it.record
            cid = known.get(it.key)
            if cid is None:
                cid, created = self.threads.conversation_id(
                    s, it.participants, rec.group_title, now, it.key
                )
                if created:
                    created_convs.append(cid)
            unread = not rec.read and rec.direction == "in"
            summary = per_conv.get(cid)
            if summary is None:
                per_conv[cid] = [1, 1 if unread else 0, mid, it]
            else:
                summary[0] += 1
                if unread:
                    summary[1] += 1
                if mid > summary[2]:
                    summary[2], summary[3] = mid, it
            sender = handle_ids[it.sender] if it.sender else null_number
            rows.append((mid, cid, sender, now, account) + it.tail)
            for seq, (part, staged) in enumerate(it.staged):
                parts.append(
                    {
                        "account_id": self.account_id,
                        "message_id": mid,
                        "seq": seq,
                        "content_type": part.content_type[:255],
                        "filename": part.filename,
                        "size": staged.size,
                        "extra": part.extra,
                    }
                )
                staged_parts.append(staged)
            if rec.reactions:
                reactions += self._reaction_rows(s, rec.reactions, mid)
            outcomes[it.index] = Outcome(it.client_id, mid, "created")
        self.claimed.update(new_ids, new=True)
        for row, content_id in zip(
            parts, content.commit_many(s, self.account_id, staged_parts, now), strict=True
        ):
            row["content_id"] = content_id
        insert_tuples(s, Message, _MESSAGE_COLUMNS, rows, encoded=True)
        insert_rows(s, MessagePart, parts)
        insert_rows(s, Reaction, reactions)
        search.index(s, new_ids)
        self._summarise(s, per_conv)
        usage.add(s, self.account_id, "messages", total, len(accepted))
        if created_convs:
            changes.record(
                s,
                self.account_id,
                "conversation",
                [(c, changes.CREATED) for c in created_convs],
                now,
            )
        changes.record_all(s, self.account_id, "message", new_ids, changes.CREATED, now)

    def _tails(self, items: list[_Item]) -> None:
        """Make the rows (:attr:`_Item.tail`) of the items whose row was not made ahead, encoded
        for :func:`~strongroom.db.insert_tuples` (on SQLite, as it binds quickest)."""
        marks = self.rows.null_marks if self.rows else None
        source, row_tail = self.source, preparing.row_tail
        for it in items:
            if not it.tail:
                rec = it.record
                assert isinstance(rec, MessageRecord)  # a Ready message comes with its row
                it.tail = row_tail(
                    rec, it.body, it.fingerprint, it.extra, len(it.staged), source, marks
                )

    def _reaction_rows(
        self, s: Session, reactions: Sequence[ReactionRecord], mid: int
    ) -> list[dict[str, Any]]:
        rows = []
        for r in reactions:
            if r.removed:
                continue
            sender_id = None
            if r.sender:
                value = normalise(r.sender, self.settings.region)[0]
                sender_id = self.threads.handle_ids(s, [value])[value]
            rows.append(
                {
                    "message_id": mid,
                    "sender_id": sender_id,
                    "reaction": r.reaction[:32],
                    "date": r.date_ms,
                }
            )
        return rows

    def add_reactions(self, records: list[ReactionRecord]) -> int:
        """Attach tapbacks that came as their own rows to their target messages (by guid).

        A removal deletes the sender's earlier reaction.  Returns how many targets were found.
        In bulk: each (message, sender, reaction) ends as its latest record says, so its
        stored row is dropped and, if that record adds, the new one inserted (the same end
        as applying every record in turn, in a few statements for a whole batch).
        """
        by_guid: dict[str, list[ReactionRecord]] = defaultdict(list)
        for r in records:
            by_guid[r.target_guid].append(r)
        region = self.settings.region
        with self.db.write() as s:
            targets = self._targets(s, by_guid)
            senders: dict[str, str] = {}
            for guid in targets:
                for r in by_guid[guid]:
                    if r.sender and r.sender not in senders:
                        try:
                            senders[r.sender] = normalise(r.sender, region)[0]
                        except InvalidInput:
                            continue  # a blank sender: the reaction is left out
            handle_ids = self.threads.handle_ids(s, sorted(set(senders.values())))
            latest: dict[tuple[int, int | None, str], ReactionRecord] = {}
            for guid, mid in targets.items():
                for r in sorted(by_guid[guid], key=lambda r: r.date_ms):
                    if r.sender and r.sender not in senders:
                        continue
                    sender_id = handle_ids[senders[r.sender]] if r.sender else None
                    latest[(mid, sender_id, r.reaction[:32])] = r
            drop = _DROP_REACTION_SQLITE if self.db.is_sqlite else _DROP_REACTION
            execute_many(s, drop, [(m, x, sender) for m, sender, x in latest])
            insert_tuples(
                s,
                Reaction,
                ("message_id", "sender_id", "reaction", "date"),
                [
                    (m, sender, x, r.date_ms)
                    for (m, sender, x), r in latest.items()
                    if not r.removed
                ],
            )
            if targets:
                changes.record(
                    s,
                    self.account_id,
                    "message",
                    [(m, changes.UPDATED) for m in targets.values()],
                    self.clock.now_ms(),
                )
        return len(targets)

    def _targets(self, s: Session, by_guid: dict[str, list[ReactionRecord]]) -> dict[str, int]:
        """The stored messages the reactions target, by guid: on SQLite, among the messages of
        the seconds around each target's date where the reactions tell it (there is no index
        of guids to ask), else among all the account's."""
        undated = sorted(by_guid)
        targets: dict[str, int] = {}
        if self.db.is_sqlite:
            dated = {
                guid: date
                for guid, records in by_guid.items()
                if (date := records[0].target_date_ms) is not None
            }
            undated = [guid for guid in undated if guid not in dated]
            if dated:
                near = self._stored_near(s, list(dated.values()), _GUIDS_IN_RANGES, TARGET_SLACK_S)
                targets = {str(guid): int(mid) for guid, mid in near if guid in dated}
        if undated:
            found = select_in(s, _BY_GUID, (self.account_id,), undated)
            targets.update((str(guid), int(mid)) for guid, mid in found)
        return targets

    def add_calls(self, calls: list[CallRecord]) -> list[str]:
        """Store call-log entries: ``created``, ``duplicate`` (same number, time and type as one
        stored) or ``rejected``, one per call, in order."""
        if not self.settings.enabled:
            raise ServiceOff("turn the messages service on to back up calls")
        region = self.settings.region
        statuses: list[str] = []
        keyed: list[tuple[int, str, CallRecord]] = []
        for i, call in enumerate(calls):
            if call.type not in CALL_TYPES or not 0 <= call.date_ms < 1 << 46:
                statuses.append("rejected")
                continue
            try:
                number = normalise(call.number, region)[0]
            except InvalidInput:
                number = UNKNOWN_NUMBER
            statuses.append("")
            keyed.append((i, number, call))
        with self.db.write() as s:
            usage.reserve(s, self.account_id, 0)  # takes the account lock
            handle_ids = self.threads.handle_ids(s, [n for _, n, _ in keyed])
            dates = {c.date_ms for _, _, c in keyed}
            stored = {
                (int(h), int(d), str(t))
                for h, d, t in s.execute(
                    select(Call.handle_id, Call.date, Call.type).where(
                        Call.account_id == self.account_id, Call.date.in_(dates)
                    )
                )
            }
            rows = []
            for i, number, call in keyed:
                key = (handle_ids[number], call.date_ms, call.type)
                if key in stored:
                    statuses[i] = "duplicate"
                    continue
                stored.add(key)
                statuses[i] = "created"
                rows.append(
                    {
                        "account_id": self.account_id,
                        "handle_id": key[0],
                        "date": call.date_ms,
                        "duration_s": max(0, min(call.duration_s, 2**31 - 1)),
                        "type": call.type,
                        "name": call.name[:255] if call.name else None,
                        "source": (call.source or self.source)[:32],
                        "extra": call.extra,
                    }
                )
            if rows:
                insert_rows(s, Call, rows)
        return statuses

    def _summarise(self, s: Session, per_conv: dict[int, list[Any]]) -> None:
        """Count the messages stored into their conversations' summaries (``per_conv``: added,
        unread, the last one's id and item, counted while their rows were made)."""
        threads.bump(
            s,
            [
                threads.Bump(
                    cid, added, unread, last_id, threads.snippet_of(last.body, len(last.staged))
                )
                for cid, (added, unread, last_id, last) in per_conv.items()
            ],
        )
