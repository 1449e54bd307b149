"""Bearer tokens for devices and web sessions: 256 random bits, only their hash stored."""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str) -> tuple[str, bytes]:
    """A fresh token (``prefix`` + 43 URL-safe characters) and the hash to store."""
    token = prefix + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> bytes:
    # A fast hash is enough: the token carries 256 bits of randomness, unlike a password.
    return hashlib.sha256(token.encode()).digest()


def new_public_id() -> str:
    """A random identifier safe to show (device ids and the like)."""
    return secrets.token_hex(8)
