"""Tables of stored content: chunks, the packs that hold them, contents, and which chunks make a
content."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from strongroom.db import Base, BigId


class Chunk(Base):
    """A stored blob of an account.  ``last_used_at`` protects a chunk that an upload is about
    to reference from being reclaimed (see :mod:`strongroom.content.reclaim`)."""

    __tablename__ = "chunks"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    blob_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    stored_size: Mapped[int] = mapped_column(Integer)
    last_used_at: Mapped[int] = mapped_column(BigInteger)
    pack_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """The pack holding this chunk's sealed bytes at ``pack_offset``; None: a blob of its own
    (chunks stored before packs, and the store's own ``<namespace>/<blob id>`` objects)."""
    pack_offset: Mapped[int | None] = mapped_column(BigInteger, default=None)

    __table_args__ = (Index("ix_chunks_account_pack", "account_id", "pack_id"),)


class Pack(Base):
    """One stored object holding many sealed chunks (see :mod:`strongroom.blobs.vault`).

    It goes when no chunk row points into it any more (``content/reclaim.py``).  ``retired_at``:
    its live chunks were copied into a new pack; readers that looked it up before may still be
    reading it, so it is deleted only a grace period later.
    """

    __tablename__ = "packs"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stored_size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Content(Base):
    """A byte sequence of an account, identified by SHA-256 and size."""

    __tablename__ = "contents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    size: Mapped[int] = mapped_column(BigInteger)
    chunk_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_used_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("account_id", "sha256", "size"),
        # Which sizes an account stores: a device hashes only the files that could be stored
        # already (see locker.files.stored_sizes).
        Index("ix_contents_account_size", "account_id", "size"),
    )


class ContentChunk(Base):
    """Chunk ``seq`` of a content, starting at byte ``offset``."""

    __tablename__ = "content_chunks"

    content_id: Mapped[int] = mapped_column(
        ForeignKey("contents.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    blob_id: Mapped[str] = mapped_column(String(64))
    offset: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_content_chunks_account_blob", "account_id", "blob_id"),)
