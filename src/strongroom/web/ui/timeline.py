"""What the messages pages read: pages of the conversation list, windows of one conversation
(the newest messages, those before or after a message, or those around a search hit), and
search hits with the names of their conversations.

Message ids grow with the date (:mod:`strongroom.messages.ids`), so every window is an index
range walk on ``(conversation_id, id)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from strongroom.messages import search as search_mod
from strongroom.messages import service
from strongroom.messages.service import ConversationView, MessageView
from strongroom.runtime import Runtime
from strongroom.sync import messages as sync
from strongroom.sync import protocol as p

WINDOW = 40
"""Messages per window of a conversation."""
LIST_PAGE = 30
"""Conversations per page of the list."""
SEARCH_PAGE = 30


@dataclass(frozen=True)
class Window:
    """Consecutive messages of one conversation, oldest first."""

    messages: list[MessageView]
    has_older: bool
    has_newer: bool

    @property
    def oldest_id(self) -> int | None:
        return self.messages[0].id if self.messages else None

    @property
    def newest_id(self) -> int | None:
        return self.messages[-1].id if self.messages else None


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[ConversationView]
    cursor: str | None
    """Pass back as ``cursor`` for the next page; None on the last page."""


def conversation_page(session: Session, account_id: int, cursor: str | None) -> ConversationPage:
    found = service.conversations(session, account_id, _parse_cursor(cursor), LIST_PAGE + 1)
    if len(found) <= LIST_PAGE:
        return ConversationPage(found, None)
    last = found[LIST_PAGE - 1]
    return ConversationPage(found[:LIST_PAGE], f"{last.last_message_id}.{last.id}")


def _parse_cursor(text: str | None) -> tuple[int, int] | None:
    last, _, cid = (text or "").partition(".")
    if not (last.isdigit() and cid.isdigit()):
        return None
    return int(last), int(cid)


def before(
    session: Session,
    account_id: int,
    conversation_id: int,
    before_id: int | None,
    limit: int = WINDOW,
) -> Window:
    """The messages just older than ``before_id`` (None: the newest).  Raises NotFound."""
    found = service.conversation_messages(
        session, account_id, conversation_id, before_id, limit + 1
    )
    return Window(list(reversed(found[:limit])), len(found) > limit, False)


def after(
    session: Session, account_id: int, conversation_id: int, after_id: int, limit: int = WINDOW
) -> Window:
    """The messages just newer than ``after_id``.  Raises NotFound."""
    found = service.conversation_messages_after(
        session, account_id, conversation_id, after_id, limit + 1
    )
    return Window(found[:limit], False, len(found) > limit)


def around(session: Session, account_id: int, conversation_id: int, message_id: int) -> Window:
    """The messages around ``message_id`` (which need not exist any more).  Raises NotFound."""
    half = WINDOW // 2
    older = before(session, account_id, conversation_id, message_id + 1, half)
    newer = after(session, account_id, conversation_id, message_id, half)
    return Window(older.messages + newer.messages, older.has_older, newer.has_newer)


@dataclass(frozen=True)
class Hits:
    results: list[p.SearchHit]
    titles: dict[str, str | None]
    """Conversation id to its group title (None for untitled conversations)."""
    cursor: str | None


def search(rt: Runtime, account_id: int, query: str, cursor: str | None) -> Hits:
    """Search hits, newest first, with their conversations.  Raises InvalidInput for a query
    with no words."""
    before_id = int(cursor) if cursor and cursor.isdigit() else None
    found = sync.search(
        rt,
        search_mod.SearchFilter(
            account_id=account_id, query=query, before_id=before_id, limit=SEARCH_PAGE
        ),
    )
    wanted = {int(h.message.conversation_id) for h in found.results}
    with rt.db.read() as s:
        titles = service.conversation_titles(s, account_id, wanted)
    return Hits(found.results, {str(i): t for i, t in titles.items()}, found.cursor)
