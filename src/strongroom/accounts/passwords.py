"""Password hashing with argon2id and the rules a new password must meet."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from strongroom.accounts.errors import WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 1024

# OWASP Password Storage Cheat Sheet (2024): argon2id, 19 MiB, 2 iterations, 1 lane.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that timing does not reveal user IDs.
    Made when first needed: a command that checks no password does not pay for it."""
    return _HASHER.hash("strongroom-no-such-user")


def check_policy(password: str) -> None:
    """Raise WeakPassword unless the password is acceptable (NIST SP 800-63B length rules)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"the password must have at most {MAX_LENGTH} characters")
    if not password.strip():
        raise WeakPassword("the password cannot be only spaces")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; with no hash, spend the same time and answer False."""
    try:
        matches = _HASHER.verify(password_hash or _dummy_hash(), password)
        return matches and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
