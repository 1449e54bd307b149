"""Full-text search over message bodies and subjects: SQLite FTS5, or PostgreSQL's text search.

Results come newest first.  Message ids grow with the message date, so on SQLite the FTS5 table
uses the message id as its rowid and "newest first" is FTS5's cheap descending rowid walk, never a
rank-and-sort over every hit of a common word.  Each FTS5 row also carries tag tokens
(``a<account>``, ``c<conversation>``, ``att``) so the account and conversation filters are
index intersections inside FTS5.  The FTS5 table keeps no copy of the text: it reads bodies,
subjects and tags from ``messages_search_source``, a view over ``messages`` (migration 0012,
whose triggers keep the index in step when messages are deleted or changed).  On PostgreSQL a
GIN index over ``to_tsvector('strongroom_search', subject || ' ' || body)`` (simple words,
unaccented) answers the match, and the planner chooses between it and the ``(account_id, id)``
index depending on how common the words are.

This module is where the two dialects differ; both give the same answers (tests run on both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from strongroom.db import parameters_per_statement
from strongroom.errors import InvalidInput
from strongroom.messages.ids import first_id_at
from strongroom.messages.snippets import make_snippet

MARK_START, MARK_END = "\x02", "\x03"
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_PG_VECTOR = "to_tsvector('strongroom_search'::regconfig, coalesce(m.subject, '') || ' ' || m.body)"


@dataclass(frozen=True)
class SearchFilter:
    account_id: int
    query: str
    conversation_ids: list[int] | None = None
    after_ms: int | None = None
    before_ms: int | None = None
    has_attachment: bool | None = None
    before_id: int | None = None
    limit: int = 50


@dataclass(frozen=True)
class Hit:
    message_id: int
    snippet: str
    """The matching passage; matches are between MARK_START and MARK_END."""


def terms(query: str) -> list[str]:
    """The words and quoted phrases of a query.  Raises InvalidInput when there are none."""
    found = [m.group(1) if m.group(1) is not None else m.group(2) for m in _TERM.finditer(query)]
    found = [t.strip() for t in found if t.strip() and t.strip() not in ("AND", "OR", "NOT")]
    if not found:
        raise InvalidInput("say what to search for")
    if len(found) > 16 or len(query) > 500:
        raise InvalidInput("the search is too long (at most 16 words)")
    return found


def index(session: Session, message_ids: list[int]) -> None:
    """Add the stored messages ``message_ids`` to the index (SQLite; PostgreSQL's index follows
    the table by itself).  FTS5 reads their text from ``messages_search_source``, the view over
    ``messages`` it also reads snippets from, and the triggers that keep it in step hand it the
    same expressions (migration 0012)."""
    if not message_ids or session.get_bind().dialect.name != "sqlite":
        return
    connection = session.connection()
    per = parameters_per_statement(session)
    for at in range(0, len(message_ids), per):
        part = message_ids[at : at + per]
        connection.exec_driver_sql(
            "INSERT INTO messages_fts (rowid, body, subject, tags) "
            "SELECT id, body, subject, tags FROM messages_search_source "
            f"WHERE id IN ({', '.join('?' * len(part))})",
            tuple(part),
        )


def search(session: Session, f: SearchFilter) -> list[Hit]:
    words = terms(f.query)
    if session.get_bind().dialect.name == "sqlite":
        return _search_sqlite(session, f, words)
    return _search_postgres(session, f, words)


def _id_bounds(f: SearchFilter) -> tuple[int, int]:
    low = first_id_at(f.after_ms) if f.after_ms is not None else 0
    high = first_id_at(f.before_ms) - 1 if f.before_ms is not None else (1 << 63) - 1
    if f.before_id is not None:
        high = min(high, f.before_id - 1)
    return low, high


def _fts_query(f: SearchFilter, words: list[str]) -> str:
    quoted = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
    parts = [f"tags : a{f.account_id}", f"{{body subject}} : ({quoted})"]
    if f.conversation_ids is not None:
        if not f.conversation_ids:
            parts.append("tags : nomatch")
        else:
            parts.append("tags : (" + " OR ".join(f"c{c}" for c in f.conversation_ids) + ")")
    if f.has_attachment:
        parts.append("tags : att")
    query = " AND ".join(parts)
    if f.has_attachment is False:
        query = f"({query}) NOT tags : att"
    return query


def _search_sqlite(session: Session, f: SearchFilter, words: list[str]) -> list[Hit]:
    low, high = _id_bounds(f)
    # The body, not FTS5's snippet(): the passage is cut and marked by make_snippet, as on
    # PostgreSQL (marking FTS5's already marked snippet again nested the marks)
    rows = session.execute(
        text(
            "SELECT rowid, body FROM messages_fts "
            "WHERE messages_fts MATCH :q AND rowid BETWEEN :low AND :high "
            "ORDER BY rowid DESC LIMIT :limit"
        ),
        {
            "q": _fts_query(f, words),
            "low": low,
            "high": high,
            "limit": f.limit,
        },
    ).all()
    return [Hit(int(r[0]), make_snippet(r[1], words, MARK_START, MARK_END)) for r in rows]


def _search_postgres(session: Session, f: SearchFilter, words: list[str]) -> list[Hit]:
    low, high = _id_bounds(f)
    where = [
        "m.account_id = :account",
        f"{_PG_VECTOR} @@ q.query",
        "m.id BETWEEN :low AND :high",
    ]
    params: dict[str, object] = {
        "account": f.account_id,
        "words": " ".join('"' + w.replace('"', " ") + '"' for w in words),
        "low": low,
        "high": high,
        "limit": f.limit,
    }
    if f.conversation_ids is not None:
        where.append("m.conversation_id = ANY(:convs)")
        params["convs"] = list(f.conversation_ids)
    if f.has_attachment is not None:
        where.append("m.part_count > 0" if f.has_attachment else "m.part_count = 0")
    rows = session.execute(
        text(
            "SELECT m.id, m.body "
            "FROM messages m, "
            "websearch_to_tsquery('strongroom_search'::regconfig, :words) AS q(query) "
            f"WHERE {' AND '.join(where)} ORDER BY m.id DESC LIMIT :limit"
        ),
        params,
    ).all()
    return [Hit(int(r[0]), make_snippet(r[1], words, MARK_START, MARK_END)) for r in rows]
