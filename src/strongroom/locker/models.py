"""Tables of the locker: folders, files and their versions, albums, share links, uploads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from strongroom.db import Base, BigId

_ACCOUNT = "accounts.id"


class Folder(Base):
    """A folder; ``path`` is its full path from the locker root (``Photos/2024/Trip``)."""

    __tablename__ = "folders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(4096))
    created_at: Mapped[int] = mapped_column(BigInteger)
    trashed_at: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_folders_account_path", "account_id", "path"),
        Index(
            "uq_folders_live_path",
            "account_id",
            "path",
            unique=True,
            sqlite_where=text("trashed_at IS NULL"),
            postgresql_where=text("trashed_at IS NULL"),
        ),
    )


class File(Base):
    """A file in the locker; its current bytes are ``content_id`` (also its newest version)."""

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"))
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("folders.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    content_id: Mapped[int] = mapped_column(ForeignKey("contents.id"))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    content_type: Mapped[str] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    modified_at: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[int] = mapped_column(BigInteger)
    trashed_at: Mapped[int | None] = mapped_column(BigInteger)
    trashed_with: Mapped[int | None] = mapped_column(BigInteger)
    """The folder whose deletion trashed this file, so restoring the folder restores it."""
    taken_at: Mapped[int | None] = mapped_column(BigInteger)
    media: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    thumb_state: Mapped[str] = mapped_column(String(8), default="none")
    thumb_small_id: Mapped[int | None] = mapped_column(ForeignKey("contents.id"))
    thumb_large_id: Mapped[int | None] = mapped_column(ForeignKey("contents.id"))

    __table_args__ = (
        Index("ix_files_account_folder_name", "account_id", "folder_id", "name"),
        Index("ix_files_account_category", "account_id", "category", "id"),
        Index("ix_files_account_taken", "account_id", "taken_at"),
        Index("ix_files_account_sha", "account_id", "sha256"),
        Index("ix_files_thumb_state", "thumb_state"),
    )


class FileVersion(Base):
    """One kept version of a file's bytes, the current one included."""

    __tablename__ = "file_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    content_id: Mapped[int] = mapped_column(ForeignKey("contents.id"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    modified_at: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Album(Base):
    __tablename__ = "albums"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    cover_file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class AlbumItem(Base):
    __tablename__ = "album_items"

    album_id: Mapped[int] = mapped_column(
        ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[int] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[int] = mapped_column(BigInteger)


class Share(Base):
    """A public link to a file, a folder or an album.  Only a hash of its token is stored."""

    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    token_sealed: Mapped[bytes] = mapped_column(LargeBinary(128))
    """The token, encrypted with the account's key, so its owner can copy the link again."""
    kind: Mapped[str] = mapped_column(String(8))  # file, folder, album
    target_id: Mapped[int] = mapped_column(BigInteger)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    max_downloads: Mapped[int | None] = mapped_column(Integer)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class Upload(Base):
    """A resumable (tus) upload in progress; ``offset`` bytes are durably staged."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"), index=True)
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tail_blob: Mapped[str | None] = mapped_column(String(64))
    """Bytes past the last cut point, stored as a blob until more arrive."""
    head: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    """The first bytes, for recognising the file type at the end."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    file_id: Mapped[int | None] = mapped_column(BigInteger)
    content_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)


class UploadChunk(Base):
    """A chunk an upload has staged so far, in order."""

    __tablename__ = "upload_chunks"

    upload_id: Mapped[int] = mapped_column(
        ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    blob_id: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_upload_chunks_account_blob", "account_id", "blob_id"),)
