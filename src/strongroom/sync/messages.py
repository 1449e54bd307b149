"""Message sync: turning wire requests into vault operations and vault views into wire answers."""

from __future__ import annotations

import base64
import binascii
import html
import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

from strongroom.accounts import changes, devices
from strongroom.accounts.keys import vault_for
from strongroom.blobs import Vault
from strongroom.content import store as content
from strongroom.errors import InvalidInput, StrongroomError
from strongroom.locker import uploads
from strongroom.messages import search as search_mod
from strongroom.messages import service
from strongroom.messages.ingest import Ingest, Outcome
from strongroom.messages.records import InlineContent, MessageRecord, PartContent, PartRecord
from strongroom.runtime import Runtime
from strongroom.sync import protocol as p
from strongroom.sync.tokens import decode_state, encode_state, parse_id


class StoredPart(PartContent):
    """A part whose bytes were sent first as a resumable upload (large attachments)."""

    def __init__(self, vault: Vault, chunk_list: list[content.ChunkAt], size: int) -> None:
        self.vault, self.chunk_list, self.size = vault, chunk_list, size

    def open(self) -> BinaryIO:
        return io.BytesIO(self.read())

    def chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        return content.read_range(self.vault, self.chunk_list)


def _uploaded_part(rt: Runtime, account_id: int, upload_id: str, vault: Vault) -> StoredPart:
    """The bytes of a finished upload of this account.  Raises InvalidInput otherwise."""
    with rt.db.read() as s:
        try:
            upload = uploads.get(s, account_id, upload_id, rt.clock.now_ms())
        except StrongroomError:
            raise InvalidInput(f"no finished upload {upload_id!r} of this account") from None
        if upload.finished_at is None or upload.content_id is None:
            raise InvalidInput(f"the upload {upload_id!r} is not finished")
        chunks = content.chunk_list(s, upload.content_id)
        size = upload.length
    return StoredPart(vault, chunks, size)


def to_record(
    item: p.MessageIn, resolve: Callable[[str], PartContent] | None = None
) -> MessageRecord:
    """The record for an uploaded message.  Raises InvalidInput for undecodable parts."""
    parts = []
    for n, part in enumerate(item.parts):
        if part.upload is not None:
            if resolve is None:
                raise InvalidInput(f"part {n}: uploads cannot be used here")
            parts.append(PartRecord(part.content_type, resolve(part.upload), part.filename))
            continue
        try:
            data = base64.b64decode(part.data_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"part {n}: data_base64 is not valid base64") from None
        parts.append(PartRecord(part.content_type, InlineContent(data), part.filename))
    return MessageRecord(
        kind=item.kind,  # type: ignore[arg-type]  # checked by Ingest
        direction=item.direction,  # type: ignore[arg-type]
        date_ms=item.date,
        body=item.body,
        sender=item.sender,
        participants=item.participants,
        date_sent_ms=item.date_sent,
        date_precision="s" if item.date_precision == "s" else "ms",
        read=item.read,
        status=item.status,
        subject=item.subject,
        parts=parts,
        guid=item.guid,
        reply_to_guid=item.reply_to,
        group_title=item.group_title,
        source="device",
    )


def _result(o: Outcome) -> p.UploadResult:
    problem = p.Problem(**o.problem) if o.problem else None
    return p.UploadResult(
        client_id=o.client_id,
        id=str(o.id) if o.id is not None else None,
        status=o.status,
        problem=problem,
    )


def upload(
    rt: Runtime, account_id: int, body: p.UploadIn, device_pk: int | None = None
) -> p.UploadOut:
    """Store a batch; when a device sent it, note the batch on the device (its backup health)."""
    with rt.db.read() as s:
        vault = vault_for(s, rt.store, rt.keyring, account_id)
    ingest = Ingest(rt.db, vault, rt.clock, account_id, source="device")
    results: list[p.UploadResult | None] = [None] * len(body.items)
    batch: list[tuple[str | None, MessageRecord]] = []
    where: list[int] = []

    def resolve(upload_id: str) -> PartContent:
        return _uploaded_part(rt, account_id, upload_id, vault)

    for i, item in enumerate(body.items):
        try:
            batch.append((item.client_id, to_record(item, resolve)))
            where.append(i)
        except InvalidInput as e:
            results[i] = p.UploadResult(
                client_id=item.client_id,
                id=None,
                status="rejected",
                problem=p.Problem(code=e.slug, detail=e.detail),
            )
    for i, outcome in zip(where, ingest.add(batch), strict=True):
        results[i] = _result(outcome)
    done = [r for r in results if r is not None]
    if device_pk is not None:
        _record(rt, device_pk, body, done)
    return p.UploadOut(results=done, state=encode_state(ingest.state))


def _record(rt: Runtime, device_pk: int, body: p.UploadIn, results: list[p.UploadResult]) -> None:
    statuses = [r.status for r in results]
    summary = devices.UploadSummary(
        messages=len(results),
        new=statuses.count("created"),
        duplicates=statuses.count("duplicate"),
        rejected=statuses.count("rejected"),
        attachments=sum(len(item.parts) for item in body.items),
    )
    with rt.db.write() as s:
        devices.record_upload(s, device_pk, summary, rt.clock.now_ms())


def message_out(v: service.MessageView) -> p.MessageOut:
    return p.MessageOut(
        id=str(v.id),
        conversation_id=str(v.conversation_id),
        kind=v.kind,
        direction=v.direction,
        sender=v.sender,
        participants=v.participants,
        date=v.date,
        date_sent=v.date_sent,
        read=v.read,
        status=v.status,
        subject=v.subject,
        body=v.body,
        parts=[
            p.PartOut(id=str(x.id), content_type=x.content_type, filename=x.filename, size=x.size)
            for x in v.parts
        ],
        reactions=[
            p.ReactionOut(reaction=r.reaction, sender=r.sender, date=r.date) for r in v.reactions
        ],
        guid=v.guid,
        reply_to=v.reply_to_guid,
        source=v.source,
    )


def changes_since(
    rt: Runtime, account_id: int, since: str | None, max_changes: int, kind: str = "message"
) -> p.ChangesOut:
    with rt.db.read() as s:
        result = changes.changes_since(
            s, account_id, kind, decode_state(since) if since else None, max_changes
        )
    return p.ChangesOut(
        old_state=encode_state(result.old_state),
        new_state=encode_state(result.new_state),
        has_more=result.has_more,
        created=[str(i) for i in result.created],
        updated=[str(i) for i in result.updated],
        destroyed=[str(i) for i in result.destroyed],
        expired=[str(i) for i in result.expired],
    )


def get(rt: Runtime, account_id: int, ids: list[str]) -> p.GetOut:
    wanted = {i: parse_id(i) for i in ids}
    with rt.db.read() as s:
        found, _ = service.get_messages(
            s, account_id, [n for n in wanted.values() if n is not None]
        )
    by_id = {str(v.id): v for v in found}
    return p.GetOut(
        messages=[message_out(by_id[i]) for i in ids if i in by_id],
        not_found=[i for i in ids if i not in by_id],
    )


def set_messages(rt: Runtime, account_id: int, body: p.SetIn) -> p.SetOut:
    result = service.SetResult()
    bad_update = [k for k in body.update if parse_id(k) is None]
    bad_destroy = [k for k in body.destroy if parse_id(k) is None]
    with rt.db.write() as s:
        now = rt.clock.now_ms()
        wanted = {parse_id(k): v.read for k, v in body.update.items() if parse_id(k) is not None}
        if wanted:
            service.set_read(s, account_id, wanted, now, result)  # type: ignore[arg-type]
        doomed = [n for n in (parse_id(k) for k in body.destroy) if n is not None]
        if doomed:
            service.destroy(s, account_id, doomed, now, result)
    missing = p.Problem(code="not-found", detail="no such message")
    return p.SetOut(
        updated=[str(i) for i in result.updated],
        destroyed=[str(i) for i in result.destroyed],
        not_updated={
            **{str(k): missing for k in result.not_updated},
            **dict.fromkeys(bad_update, missing),
        },
        not_destroyed={
            **{str(k): missing for k in result.not_destroyed},
            **dict.fromkeys(bad_destroy, missing),
        },
    )


def all_ids(rt: Runtime, account_id: int, cursor: str | None, limit: int) -> p.AllIdsOut:
    after = parse_id(cursor) if cursor else None
    with rt.db.read() as s:
        state = changes.current_state(s, account_id)
        found = service.all_ids(s, account_id, after, limit)
    return p.AllIdsOut(
        ids=[str(i) for i in found],
        state=encode_state(state),
        cursor=str(found[-1]) if len(found) == min(limit, 10_000) else None,
    )


def conversation_out(c: service.ConversationView) -> p.ConversationOut:
    return p.ConversationOut(
        id=str(c.id),
        participants=c.participants,
        title=c.title,
        last_message_at=c.last_message_at,
        snippet=c.snippet,
        unread_count=c.unread_count,
        message_count=c.message_count,
    )


def highlight_html(snippet: str) -> str:
    escaped = html.escape(snippet)
    return escaped.replace(search_mod.MARK_START, "<mark>").replace(search_mod.MARK_END, "</mark>")


def search(rt: Runtime, f: search_mod.SearchFilter) -> p.SearchOut:
    with rt.db.read() as s:
        hits = search_mod.search(s, f)
        views, _ = service.get_messages(s, f.account_id, [h.message_id for h in hits])
    by_id = {v.id: v for v in views}
    results = [
        p.SearchHit(
            message=message_out(by_id[h.message_id]),
            snippet=h.snippet.replace(search_mod.MARK_START, "").replace(search_mod.MARK_END, ""),
            snippet_html=highlight_html(h.snippet),
        )
        for h in hits
        if h.message_id in by_id
    ]
    cursor = str(hits[-1].message_id) if len(hits) == f.limit else None
    return p.SearchOut(results=results, cursor=cursor)
