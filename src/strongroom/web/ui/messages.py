"""The messages pages: the conversation list, a conversation as a chat, search, and importing a
backup file.

Pages are rendered whole on the server; ``static/messages.js`` then asks the ``/list`` and
``/more`` routes for HTML fragments (older conversations, older or newer messages, live
updates) and uses the JSON API for read state and deletion.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from strongroom.accounts import service as accounts
from strongroom.accounts.auth import Principal
from strongroom.errors import InvalidInput, NotFound
from strongroom.jobs import imports
from strongroom.messages import service
from strongroom.sync.tokens import parse_id
from strongroom.web.deps import RuntimeDep
from strongroom.web.pages import render
from strongroom.web.ui import timeline
from strongroom.web.ui.access import require_user
from strongroom.web.ui.bubbles import Names, bubbles, conversation_item

router = APIRouter(include_in_schema=False)

IMPORTS_LISTED = 10
"""Earlier imports listed on the import page."""


def _list_context(s: Session, principal: Principal, cursor: str | None) -> dict[str, Any]:
    account = accounts.get_account(s, principal.account_id)
    names = Names(account.default_region)
    page = timeline.conversation_page(s, principal.account_id, cursor)
    return {
        "account": account,
        "names": names,
        "conversations": [conversation_item(c, names) for c in page.conversations],
        "cursor": page.cursor,
        "active": "messages",
    }


@router.get("/messages")
def index(request: Request, rt: RuntimeDep, cursor: str | None = None) -> Response:
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        context = _list_context(s, principal, cursor)
    context["older_page"] = cursor is not None
    return render(request, "messages/index.html", context, principal=principal)


@router.get("/messages/import")
def import_page(request: Request, rt: RuntimeDep) -> Response:
    """Importing a backup file from the browser: ``static/imports.js`` uploads it with tus,
    starts the import through the JSON API and follows its progress there."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        account = accounts.get_account(s, principal.account_id)
    recent = [
        imports.import_status(rt, principal.account_id, i)
        for i in imports.imports_of(rt, principal.account_id, IMPORTS_LISTED)
    ]
    context = {"account": account, "recent": recent, "active": "messages"}
    return render(request, "messages/import.html", context, principal=principal)


@router.get("/messages/list")
def list_fragment(
    request: Request, rt: RuntimeDep, cursor: str | None = None, current: str | None = None
) -> Response:
    """More conversation list items (``cursor``), or the first page again (live updates)."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        context = _list_context(s, principal, cursor)
    context["current"] = parse_id(current or "")
    return render(request, "messages/_conversation_items.html", context, principal=principal)


@router.get("/messages/search")
def search_page(
    request: Request, rt: RuntimeDep, q: str = "", cursor: str | None = None
) -> Response:
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        context = _list_context(s, principal, None)
    context.update({"q": q, "hits": None, "error": None})
    if q.strip():
        try:
            context["hits"] = timeline.search(rt, principal.account_id, q[:500], cursor)
        except InvalidInput as e:
            context["error"] = e.detail
    return render(request, "messages/search.html", context, principal=principal)


def _window(s: Session, principal: Principal, cid: int, params: dict[str, str]) -> timeline.Window:
    around, older = parse_id(params.get("around", "")), parse_id(params.get("before", ""))
    newer = parse_id(params.get("after", ""))
    if around is not None:
        return timeline.around(s, principal.account_id, cid, around)
    if newer is not None:
        return timeline.after(s, principal.account_id, cid, newer)
    return timeline.before(s, principal.account_id, cid, older)


@router.get("/messages/c/{conversation_id}")
def conversation_page(conversation_id: str, request: Request, rt: RuntimeDep) -> Response:
    """A conversation: the newest messages, or those ``around`` a message (a search hit, which
    is marked and scrolled to), or those ``before`` one (the link for browsers without JS)."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    params = dict(request.query_params)
    cid = parse_id(conversation_id)
    with rt.db.read() as s:
        context = _list_context(s, principal, None)
        try:
            if cid is None:
                raise NotFound("no such conversation")
            convo = service.conversation(s, principal.account_id, cid)
            window = _window(s, principal, cid, params)
        except NotFound:
            return render(
                request, "messages/not_found.html", context, principal=principal, status=404
            )
    names: Names = context["names"]
    group = len(convo.participants) > 1
    hit = parse_id(params.get("around", ""))
    context.update(
        {
            "current": cid,
            "conversation": conversation_item(convo, names),
            "people": [names.person(p) for p in convo.participants],
            "window": window,
            "group": group,
            "bubbles": bubbles(window.messages, names, group=group, hit=hit, query=params.get("q")),
        }
    )
    return render(request, "messages/conversation.html", context, principal=principal)


@router.get("/messages/c/{conversation_id}/more")
def more_messages(conversation_id: str, request: Request, rt: RuntimeDep) -> Response:
    """A fragment of bubbles ``before`` or ``after`` a message, for scrolling and live updates."""
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    cid = parse_id(conversation_id)
    if cid is None:
        raise NotFound("no such conversation")
    with rt.db.read() as s:
        account = accounts.get_account(s, principal.account_id)
        convo = service.conversation(s, principal.account_id, cid)
        window = _window(s, principal, cid, dict(request.query_params))
    names = Names(account.default_region)
    context = {
        "fragment": True,
        "conversation_id": cid,
        "window": window,
        "bubbles": bubbles(window.messages, names, group=len(convo.participants) > 1),
    }
    return render(request, "messages/_bubbles.html", context, principal=principal)
