"""Message sync (JMAP-style): upload, changes, get, set, attachments, search, events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from strongroom.accounts.keys import vault_for
from strongroom.content import store as content
from strongroom.errors import NotFound
from strongroom.messages import search as search_mod
from strongroom.messages import service
from strongroom.messages.handles import normalise
from strongroom.messages.models import Handle
from strongroom.sync import messages as sync
from strongroom.sync import protocol as p
from strongroom.sync.tokens import parse_id
from strongroom.web.deps import CurrentUser, RuntimeDep
from strongroom.web.downloads import send_content
from strongroom.web.events import EventHub

router = APIRouter(tags=["messages"])


def _hub(request: Request) -> EventHub:
    return request.app.state.events  # type: ignore[no-any-return]


@router.post("/messages/upload", summary="Store a batch of up to 1,000 messages")
def upload(body: p.UploadIn, user: CurrentUser, rt: RuntimeDep, request: Request) -> p.UploadOut:
    out = sync.upload(rt, user.account_id, body, user.device_pk)
    _hub(request).poke()
    return out


@router.get(
    "/messages/changes",
    summary="What changed since a state",
    responses={410: {"description": "cannot-calculate-changes: resync in full"}},
)
def message_changes(
    user: CurrentUser,
    rt: RuntimeDep,
    since: str | None = None,
    max: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> p.ChangesOut:
    return sync.changes_since(rt, user.account_id, since, max)


@router.get("/messages/all", summary="Every message id, paged (for a full resync)")
def all_ids(
    user: CurrentUser,
    rt: RuntimeDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 5000,
) -> p.AllIdsOut:
    _require_service(rt, user.account_id)
    return sync.all_ids(rt, user.account_id, cursor, limit)


@router.post("/messages/get", summary="Messages by id")
def get_messages(body: p.GetIn, user: CurrentUser, rt: RuntimeDep) -> p.GetOut:
    return sync.get(rt, user.account_id, body.ids)


@router.post("/messages/set", summary="Mark read or unread, delete")
def set_messages(body: p.SetIn, user: CurrentUser, rt: RuntimeDep, request: Request) -> p.SetOut:
    out = sync.set_messages(rt, user.account_id, body)
    _hub(request).poke()
    return out


@router.get("/messages/parts/{part_id}", summary="An attachment's bytes (Range supported)")
def get_part(part_id: str, user: CurrentUser, rt: RuntimeDep, request: Request) -> Response:
    pid = parse_id(part_id)
    if pid is None:
        raise NotFound("no such attachment")
    with rt.db.read() as s:
        part = service.part(s, user.account_id, pid)
        info = content.info(s, user.account_id, part.content_id)
        chunks = content.chunk_list(s, part.content_id)
        vault = vault_for(s, rt.store, rt.keyring, user.account_id)
    return send_content(
        request,
        vault,
        chunks,
        size=info.size,
        sha256=info.sha256,
        content_type=part.content_type,
        filename=part.filename,
    )


@router.get("/messages/search", summary="Full-text search, newest first")
def search(
    user: CurrentUser,
    rt: RuntimeDep,
    q: Annotated[str, Query(max_length=500)],
    conversation: str | None = None,
    participant: str | None = None,
    after: int | None = None,
    before: int | None = None,
    has_attachment: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> p.SearchOut:
    conversations = None
    if conversation is not None:
        conversations = [parse_id(conversation) or -1]
    if participant is not None:
        conversations = _conversations_with(rt, user.account_id, participant, conversations)
    f = search_mod.SearchFilter(
        account_id=user.account_id,
        query=q,
        conversation_ids=conversations,
        after_ms=after,
        before_ms=before,
        has_attachment=has_attachment,
        before_id=parse_id(cursor) if cursor else None,
        limit=limit,
    )
    return sync.search(rt, f)


def _conversations_with(
    rt: RuntimeDep, account_id: int, participant: str, within: list[int] | None
) -> list[int]:
    from sqlalchemy import select

    from strongroom.accounts.service import get_account
    from strongroom.messages.models import ConversationParticipant

    with rt.db.read() as s:
        value = normalise(participant, get_account(s, account_id).default_region)[0]
        found = list(
            s.scalars(
                select(ConversationParticipant.conversation_id)
                .join(Handle, Handle.id == ConversationParticipant.handle_id)
                .where(Handle.account_id == account_id, Handle.value == value)
            )
        )
    return [c for c in found if within is None or c in within]


@router.get("/events", summary="Server-Sent Events: the account's state changed")
async def events(user: CurrentUser, request: Request) -> StreamingResponse:
    return StreamingResponse(
        _hub(request).stream(user.account_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _require_service(rt: RuntimeDep, account_id: int) -> None:
    from strongroom.accounts.service import get_account
    from strongroom.messages.errors import ServiceOff

    with rt.db.read() as s:
        if not get_account(s, account_id).messages_enabled:
            raise ServiceOff("the messages service is off for this account")
