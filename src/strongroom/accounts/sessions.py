"""Web sessions: a random cookie token, its hash stored with a CSRF secret and an idle expiry."""

from __future__ import annotations

import secrets

from sqlalchemy import delete
from sqlalchemy.orm import Session

from strongroom.accounts.models import WebSession
from strongroom.accounts.tokens import new_token
from strongroom.types import Millis

TOKEN_PREFIX = "srs_"


def start_session(
    session: Session, account_id: int, *, user_agent: str, now: Millis, lifetime_ms: int
) -> tuple[str, str]:
    """Create a session; return the cookie token and the session's CSRF token."""
    token, token_hash = new_token(TOKEN_PREFIX)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=token_hash,
            account_id=account_id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime_ms,
            user_agent=user_agent[:255],
        )
    )
    session.flush()
    return token, csrf


def end_session(session: Session, session_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.id == session_id))


def end_other_sessions(session: Session, account_id: int, keep_session_id: int | None) -> int:
    """End every web session of the account except ``keep_session_id``; return how many."""
    stmt = delete(WebSession).where(WebSession.account_id == account_id)
    if keep_session_id is not None:
        stmt = stmt.where(WebSession.id != keep_session_id)
    return session.execute(stmt).rowcount  # type: ignore[attr-defined, no-any-return]


def extend_session(session: Session, session_id: int, *, now: Millis, lifetime_ms: int) -> None:
    row = session.get(WebSession, session_id)
    if row is not None:
        row.last_seen_at = now
        row.expires_at = now + lifetime_ms
