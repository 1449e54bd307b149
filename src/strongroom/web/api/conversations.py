"""Conversations: the list, newest first, and each one's messages, paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from strongroom.errors import NotFound
from strongroom.messages import service
from strongroom.sync import messages as sync
from strongroom.sync import protocol as p
from strongroom.sync.tokens import parse_id
from strongroom.web.deps import CurrentUser, RuntimeDep

router = APIRouter(tags=["messages"])


def _id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise NotFound("no such conversation")
    return value


def _cursor(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    last, _, cid = text.partition(".")
    a, b = parse_id(last), parse_id(cid)
    return (a, b) if a is not None and b is not None else None


@router.get("/conversations", summary="Conversations, most recent first")
def list_conversations(
    user: CurrentUser,
    rt: RuntimeDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> p.ConversationsOut:
    with rt.db.read() as s:
        found = service.conversations(s, user.account_id, _cursor(cursor), limit)
    next_cursor = f"{found[-1].last_message_id}.{found[-1].id}" if len(found) == limit else None
    return p.ConversationsOut(
        conversations=[sync.conversation_out(c) for c in found], cursor=next_cursor
    )


@router.get("/conversations/{conversation_id}", summary="One conversation")
def get_conversation(conversation_id: str, user: CurrentUser, rt: RuntimeDep) -> p.ConversationOut:
    with rt.db.read() as s:
        return sync.conversation_out(service.conversation(s, user.account_id, _id(conversation_id)))


@router.get("/conversations/{conversation_id}/messages", summary="A page of messages, newest first")
def conversation_messages(
    conversation_id: str,
    user: CurrentUser,
    rt: RuntimeDep,
    before: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> p.MessagesPage:
    with rt.db.read() as s:
        found = service.conversation_messages(
            s, user.account_id, _id(conversation_id), parse_id(before) if before else None, limit
        )
    return p.MessagesPage(
        messages=[sync.message_out(m) for m in found],
        cursor=str(found[-1].id) if len(found) == limit else None,
    )


@router.delete("/conversations/{conversation_id}", status_code=204, summary="Delete a conversation")
def delete_conversation(
    conversation_id: str, user: CurrentUser, rt: RuntimeDep, request: Request
) -> Response:
    with rt.db.write() as s:
        service.destroy_conversation(s, user.account_id, _id(conversation_id), rt.clock.now_ms())
    request.app.state.events.poke()
    return Response(status_code=204)
