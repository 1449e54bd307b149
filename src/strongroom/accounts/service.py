"""Accounts: sign-up, log-in, password changes and the account's own settings."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from strongroom.accounts import passwords, throttle
from strongroom.accounts.errors import BadCredentials, BadUsername, UsernameTaken
from strongroom.accounts.keys import create_account_key
from strongroom.accounts.models import Account
from strongroom.blobs.keys import Keyring
from strongroom.clock import Clock
from strongroom.db import Database
from strongroom.errors import InvalidInput, NotFound
from strongroom.runtime import Runtime
from strongroom.types import Millis

_USERNAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]{1,62})[a-z0-9]")


@dataclass(frozen=True)
class AccountView:
    """What the account's owner (and the admin CLI) may see of an account."""

    id: int
    username: str
    status: str
    created_at: Millis
    held_until: Millis | None
    quota_bytes: int
    default_region: str
    phone_numbers: list[str]
    message_retention_days: int | None
    messages_enabled: bool

    @classmethod
    def of(cls, a: Account) -> AccountView:
        return cls(
            id=a.id,
            username=a.username,
            status=a.status,
            created_at=a.created_at,
            held_until=a.held_until,
            quota_bytes=a.quota_bytes,
            default_region=a.default_region,
            phone_numbers=list(a.phone_numbers or []),
            message_retention_days=a.message_retention_days,
            messages_enabled=a.messages_enabled,
        )


def normalise_username(name: str) -> str:
    """Lower-case and check a user ID.  Raises BadUsername."""
    norm = name.strip().lower()
    if not _USERNAME.fullmatch(norm):
        raise BadUsername(
            "a user ID has 3 to 64 characters: letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    return norm


def create_account(
    session: Session,
    username: str,
    password: str,
    *,
    keyring: Keyring,
    quota_bytes: int,
    default_region: str,
    now: Millis,
) -> AccountView:
    """Create an active account with its data key.

    Raises BadUsername, WeakPassword or UsernameTaken.
    """
    name = normalise_username(username)
    passwords.check_policy(password)
    if session.scalar(select(Account.id).where(Account.username == name)) is not None:
        raise UsernameTaken(f"the user ID {name!r} is taken")
    account = Account(
        username=name,
        password_hash=passwords.hash_password(password),
        status="active",
        created_at=now,
        password_changed_at=now,
        quota_bytes=quota_bytes,
        default_region=default_region.upper(),
        phone_numbers=[],
        messages_enabled=False,
        change_seq=0,
        changes_floor=0,
    )
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:  # a concurrent sign-up took the name between the check and here
        raise UsernameTaken(f"the user ID {name!r} is taken") from None
    create_account_key(session, keyring, account.id, now)
    return AccountView.of(account)


def sign_up(session: Session, rt: Runtime, username: str, password: str) -> AccountView:
    """Create an account with this installation's defaults (quota, region)."""
    return create_account(
        session,
        username,
        password,
        keyring=rt.keyring,
        quota_bytes=rt.settings.default_quota_bytes,
        default_region=rt.settings.default_region,
        now=rt.clock.now_ms(),
    )


def get_account(session: Session, account_id: int) -> Account:
    """The account row.  Raises NotFound."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("no such account")
    return account


def account_by_name(session: Session, username: str) -> Account:
    """The account with that user ID.  Raises NotFound."""
    account = session.scalar(select(Account).where(Account.username == username.strip().lower()))
    if account is None:
        raise NotFound(f"no account {username!r}")
    return account


def list_accounts(session: Session) -> list[AccountView]:
    return [AccountView.of(a) for a in session.scalars(select(Account).order_by(Account.username))]


def verify_login(
    db: Database,
    username: str,
    password: str,
    *,
    address: str | None,
    policy: throttle.LoginPolicy,
    clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
) -> AccountView:
    """Check a user ID and password, with throttling; the account may be on hold (check status).

    Owns its transactions: a failure is recorded even though the call raises.
    Raises RateLimited while locked out, BadCredentials for a wrong user ID or password.
    """
    keys = throttle.throttle_keys(username, address)
    with db.read() as s:
        throttle.check_allowed(s, keys, clock.now_ms())
        account = s.scalar(select(Account).where(Account.username == username.strip().lower()))
    ok = passwords.verify_password(account.password_hash if account else None, password)
    with db.write() as s:
        if ok and account is not None:
            throttle.record_success(s, keys)
            if passwords.needs_rehash(account.password_hash):
                get_account(s, account.id).password_hash = passwords.hash_password(password)
            return AccountView.of(account)
        delay = throttle.record_failure(s, keys, policy, clock.now_ms())
    if delay:
        sleep(delay)
    raise BadCredentials()


def change_password(
    session: Session, account_id: int, old_password: str, new_password: str, now: Millis
) -> None:
    """Replace the password after checking the old one.  Raises BadCredentials, WeakPassword.

    The caller ends the account's other web sessions (:func:`sessions.end_other_sessions`).
    """
    account = get_account(session, account_id)
    if not passwords.verify_password(account.password_hash, old_password):
        raise BadCredentials("the current password is wrong")
    passwords.check_policy(new_password)
    account.password_hash = passwords.hash_password(new_password)
    account.password_changed_at = now


def check_password(session: Session, account_id: int, password: str) -> None:
    """Raise BadCredentials unless ``password`` is the account's (for confirming risky steps)."""
    if not passwords.verify_password(get_account(session, account_id).password_hash, password):
        raise BadCredentials("the password is wrong")


def set_quota(session: Session, username: str, quota_bytes: int) -> AccountView:
    """Change an account's storage quota (admin).  Raises NotFound, InvalidInput."""
    if quota_bytes < 0:
        raise InvalidInput("a quota cannot be negative")
    account = account_by_name(session, username)
    account.quota_bytes = quota_bytes
    return AccountView.of(account)


_UNSET: Any = object()


def update_settings(
    session: Session,
    account_id: int,
    *,
    default_region: str | None = None,
    phone_numbers: list[str] | None = None,
    message_retention_days: int | None | Any = _UNSET,
) -> AccountView:
    """Change the account's own settings; ``message_retention_days=None`` means keep forever.

    Raises InvalidInput for an unknown region or a retention under one day.
    """
    import phonenumbers

    account = get_account(session, account_id)
    if default_region is not None:
        region = default_region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise InvalidInput(f"{default_region!r} is not a known region code (e.g. US, GB, DE)")
        account.default_region = region
    if phone_numbers is not None:
        cleaned = [n.strip() for n in phone_numbers if n.strip()]
        if len(cleaned) > 20:
            raise InvalidInput("at most 20 phone numbers")
        account.phone_numbers = cleaned
    if message_retention_days is not _UNSET:
        if message_retention_days is not None and not 1 <= message_retention_days <= 36_500:
            raise InvalidInput("retention is a number of days from 1 to 36500, or null (forever)")
        account.message_retention_days = message_retention_days
    return AccountView.of(account)
