"""Slowing, then refusing, repeated failed logins per user ID and per client address.

After ``slow_after`` failures within the window each further failure is answered more slowly;
after ``max_failures`` the key is locked for ``lockout_ms`` and every attempt, right or wrong, is
refused with RateLimited.  State lives in the database so every server process shares it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from strongroom.accounts.models import LoginFailures
from strongroom.db import upsert
from strongroom.errors import RateLimited
from strongroom.types import Millis


@dataclass(frozen=True)
class LoginPolicy:
    slow_after: int = 3
    max_failures: int = 10
    lockout_ms: int = 900_000
    delay_cap_s: float = 2.0


def throttle_keys(username: str, address: str | None) -> list[str]:
    keys = [f"user:{username.strip().lower()[:100]}"]
    if address:
        keys.append(f"ip:{address[:100]}")
    return keys


def check_allowed(session: Session, keys: list[str], now: Millis) -> None:
    """Raise RateLimited if any of ``keys`` is locked out."""
    rows = session.scalars(select(LoginFailures).where(LoginFailures.key.in_(keys))).all()
    until = max((r.locked_until or 0 for r in rows), default=0)
    if until > now:
        raise RateLimited(
            "too many failed log-in attempts; try again later",
            retry_after=max(1, (until - now + 999) // 1000),
        )


def record_failure(session: Session, keys: list[str], policy: LoginPolicy, now: Millis) -> float:
    """Count a failure against every key; return how many seconds to slow this answer by."""
    worst = 0
    for key in keys:
        row = session.get(LoginFailures, key)
        if row is not None and now - row.first_at > policy.lockout_ms:
            session.delete(row)  # the window has passed: start counting again
            session.flush()
        upsert(
            session,
            LoginFailures,
            {"key": key, "failures": 1, "first_at": now, "locked_until": None},
            key=["key"],
            update={"failures": LoginFailures.failures + 1},
        )
        failures = session.scalars(
            select(LoginFailures.failures).where(LoginFailures.key == key)
        ).one()
        if failures >= policy.max_failures:
            session.execute(
                update(LoginFailures)
                .where(LoginFailures.key == key)
                .values(locked_until=now + policy.lockout_ms)
            )
        worst = max(worst, failures)
    if worst <= policy.slow_after:
        return 0.0
    return float(min(policy.delay_cap_s, 0.25 * 2 ** (worst - policy.slow_after - 1)))


def record_success(session: Session, keys: list[str]) -> None:
    """A correct password clears the user's count (an address keeps its count)."""
    session.execute(delete(LoginFailures).where(LoginFailures.key == keys[0]))
