"""Who is calling: a device token or a web session cookie, resolved to a :class:`Principal`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from strongroom.accounts.models import Account, Device, WebSession
from strongroom.accounts.tokens import hash_token
from strongroom.errors import NotAuthenticated
from strongroom.types import Millis


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.  Exactly one of ``device_pk`` and ``session_pk`` is set."""

    account_id: int
    username: str
    status: str
    device_pk: int | None = None
    device_id: str | None = None
    session_pk: int | None = None
    csrf_token: str | None = None
    last_seen_at: Millis | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


def principal_from_token(session: Session, token: str, now: Millis) -> Principal:
    """Resolve a device bearer token.  Raises NotAuthenticated if unknown or revoked."""
    row = session.execute(
        select(Device, Account.username, Account.status)
        .join(Account, Account.id == Device.account_id)
        .where(Device.token_hash == hash_token(token))
    ).first()
    if row is None or row[0].revoked_at is not None:
        raise NotAuthenticated("the device token is not valid (revoked or unknown)")
    device, username, status = row
    return Principal(
        account_id=device.account_id,
        username=username,
        status=status,
        device_pk=device.id,
        device_id=device.public_id,
        last_seen_at=device.last_seen_at,
    )


def principal_from_session(session: Session, token: str, now: Millis) -> Principal:
    """Resolve a web session cookie.  Raises NotAuthenticated if unknown or expired."""
    row = session.execute(
        select(WebSession, Account.username, Account.status)
        .join(Account, Account.id == WebSession.account_id)
        .where(WebSession.token_hash == hash_token(token))
    ).first()
    if row is None or row[0].expires_at <= now:
        raise NotAuthenticated("the session has ended; log in again")
    web, username, status = row
    return Principal(
        account_id=web.account_id,
        username=username,
        status=status,
        session_pk=web.id,
        csrf_token=web.csrf_token,
        last_seen_at=web.last_seen_at,
    )
