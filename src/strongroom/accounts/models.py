"""Tables of identity: accounts, their devices, web sessions and login throttling."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from strongroom.db import Base, BigId


class Account(Base):
    """One user's vault.  ``change_seq`` is the account's position in its change sequence."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active")
    held_until: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    password_changed_at: Mapped[int] = mapped_column(BigInteger)
    quota_bytes: Mapped[int] = mapped_column(BigInteger)
    default_region: Mapped[str] = mapped_column(String(2))
    phone_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    message_retention_days: Mapped[int | None] = mapped_column(Integer)
    messages_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    changes_floor: Mapped[int] = mapped_column(BigInteger, default=0)


class Device(Base):
    """A phone, computer or script holding its own bearer token (only its hash is stored)."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_upload_at: Mapped[int | None] = mapped_column(BigInteger)
    """When the device last finished an upload batch (its last successful backup)."""
    last_upload: Mapped[dict[str, int] | None] = mapped_column(JSON)
    """What that batch held: ``{"messages", "new", "duplicates", "rejected", "attachments"}``."""
    uploaded_messages: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """How many messages this device added to the vault, over its life."""


class WebSession(Base):
    """A browser's log-in; the cookie holds the token, the table its hash and the CSRF secret."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class LoginFailures(Base):
    """Recent failed logins for one key (``user:NAME`` or ``ip:ADDRESS``)."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[int] = mapped_column(BigInteger)
    locked_until: Mapped[int | None] = mapped_column(BigInteger)


class AccountKey(Base):
    """An account's data key, wrapped by the master key ``master_key_id``; ``namespace`` names
    the account's objects in the blob store."""

    __tablename__ = "account_keys"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    namespace: Mapped[str] = mapped_column(String(32), unique=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary(128))
    master_key_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class AccountUsage(Base):
    """Bytes and items stored per category (``messages``, ``photos``, ``videos``...)."""

    __tablename__ = "account_usage"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    items: Mapped[int] = mapped_column(BigInteger, default=0)


class Change(Base):
    """One entry of an account's change sequence: object ``object_id`` of ``kind`` was created,
    updated, destroyed or expired at position ``seq``."""

    __tablename__ = "changes"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(BigInteger)
    change: Mapped[str] = mapped_column(String(1))
    at: Mapped[int] = mapped_column(BigInteger)
    run_length: Mapped[int] = mapped_column(Integer, server_default="1")
    """How many changes this row holds: positions ``seq`` .. ``seq + run_length - 1``, all of
    the same kind and change, recorded together (migration 0011)."""
    more_ids: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The objects of positions ``seq + 1`` onwards, 8 bytes each (big-endian)."""

    __table_args__ = (
        Index("ix_changes_account_kind_seq", "account_id", "kind", "seq"),
        # Clustered on the key: one B-tree write per row instead of two (migration 0009).
        {"sqlite_with_rowid": False},
    )
