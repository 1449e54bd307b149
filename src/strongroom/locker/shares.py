"""Share links: a file, a folder or an album, by an unguessable link, with an optional
password (argon2id), expiry and download limit, revocable at any time.

A link that is unknown, revoked, expired or used up is :class:`ShareUnavailable`, the same answer
in every case, so a visitor learns nothing (not even whether the link ever existed).  Tokens carry
192 random bits; the database keeps their SHA-256 for lookup, and the token itself sealed with the
account's key so that its owner can copy the link again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from strongroom.accounts import passwords
from strongroom.blobs import VaultKey
from strongroom.errors import InvalidInput, NotFound
from strongroom.locker import albums, files, folders
from strongroom.locker.models import File, Folder, Share

KINDS = ("file", "folder", "album")


class ShareUnavailable(NotFound):
    """The link does not lead anywhere (any reason: it is never said which)."""

    slug = "share-unavailable"
    title = "This link is not available"


@dataclass(frozen=True)
class ShareView:
    id: int
    token: str
    kind: str
    target_id: int
    has_password: bool
    expires_at: int | None
    max_downloads: int | None
    downloads: int
    created_at: int
    revoked_at: int | None


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _context(account_id: int) -> bytes:
    return f"share-token/{account_id}".encode()


def _view(share: Share, key: VaultKey) -> ShareView:
    token = key.unseal(share.token_sealed, _context(share.account_id)).decode()
    return ShareView(
        share.id,
        token,
        share.kind,
        share.target_id,
        share.password_hash is not None,
        share.expires_at,
        share.max_downloads,
        share.downloads,
        share.created_at,
        share.revoked_at,
    )


def _check_target(session: Session, account_id: int, kind: str, target_id: int) -> None:
    if kind == "file":
        files.get(session, account_id, target_id)
    elif kind == "folder":
        folder = folders.get(session, account_id, target_id)
        if folder.trashed_at is not None:
            raise NotFound("no such folder")
    elif kind == "album":
        albums.get(session, account_id, target_id)
    else:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")


def create(
    session: Session,
    key: VaultKey,
    account_id: int,
    *,
    kind: str,
    target_id: int,
    password: str | None,
    expires_at: int | None,
    max_downloads: int | None,
    now: int,
) -> ShareView:
    """Make a link.

    Raises NotFound for a target not in the account, InvalidInput for bad limits.
    """
    _check_target(session, account_id, kind, target_id)
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("the expiry must be in the future")
    if max_downloads is not None and max_downloads < 1:
        raise InvalidInput("a download limit is at least 1")
    if password is not None:
        passwords.check_policy(password)
    token = secrets.token_urlsafe(24)
    share = Share(
        account_id=account_id,
        token_hash=_hash(token),
        token_sealed=key.seal(token.encode(), _context(account_id)),
        kind=kind,
        target_id=target_id,
        password_hash=passwords.hash_password(password) if password else None,
        expires_at=expires_at,
        max_downloads=max_downloads,
        downloads=0,
        created_at=now,
    )
    session.add(share)
    session.flush()
    return _view(share, key)


def list_shares(session: Session, key: VaultKey, account_id: int) -> list[ShareView]:
    rows = session.scalars(
        select(Share)
        .where(Share.account_id == account_id, Share.revoked_at.is_(None))
        .order_by(Share.id.desc())
    ).all()
    return [_view(s, key) for s in rows]


def revoke(session: Session, account_id: int, share_id: int, now: int) -> None:
    done = session.execute(
        update(Share)
        .where(Share.id == share_id, Share.account_id == account_id, Share.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise NotFound("no such share link")


def resolve(session: Session, token: str, now: int) -> Share:
    """The live share of a token.  Raises ShareUnavailable for anything else."""
    if not 16 <= len(token) <= 64:
        raise ShareUnavailable()
    share = session.scalar(select(Share).where(Share.token_hash == _hash(token)))
    if (
        share is None
        or share.revoked_at is not None
        or (share.expires_at is not None and share.expires_at <= now)
        or (share.max_downloads is not None and share.downloads >= share.max_downloads)
    ):
        raise ShareUnavailable()
    return share


def password_ok(share: Share, password: str) -> bool:
    return share.password_hash is None or passwords.verify_password(share.password_hash, password)


def access_tag(secret: bytes, share: Share) -> str:
    """A cookie value proving the visitor gave this share's password (until it changes)."""
    return hmac.new(secret, f"{share.id}:{share.password_hash}".encode(), "sha256").hexdigest()


def count_download(session: Session, share_id: int) -> None:
    """Count one download.  Raises ShareUnavailable when the limit is reached meanwhile."""
    counted = session.execute(
        update(Share)
        .where(
            Share.id == share_id,
            (Share.max_downloads.is_(None)) | (Share.downloads < Share.max_downloads),
        )
        .values(downloads=Share.downloads + 1)
    )
    if not counted.rowcount:  # type: ignore[attr-defined]
        raise ShareUnavailable()


def shared_files(session: Session, share: Share) -> list[files.FileView]:
    """What the link shows: the file, the folder's files (with subfolders), or the album."""
    account = share.account_id
    if share.kind == "file":
        f = session.get(File, share.target_id)
        rows = [f] if f is not None and f.trashed_at is None else []
        return files.views(session, rows)
    if share.kind == "album":
        return albums.items(session, account, share.target_id)
    folder = session.get(Folder, share.target_id)
    if folder is None or folder.trashed_at is not None:
        return []
    prefix = folder.path + "/"
    ids = select(Folder.id).where(
        Folder.account_id == account,
        Folder.trashed_at.is_(None),
        (Folder.path == folder.path) | (func.substr(Folder.path, 1, len(prefix)) == prefix),
    )
    found = session.scalars(
        select(File)
        .where(File.folder_id.in_(ids), File.trashed_at.is_(None))
        .order_by(File.taken_at.desc().nulls_last(), File.name)
    ).all()
    return files.views(session, list(found))


def shared_file(session: Session, share: Share, file_id: int) -> File:
    """One file the link shows.  Raises ShareUnavailable for any other file."""
    if file_id not in {f.id for f in shared_files(session, share)}:
        raise ShareUnavailable()
    f = session.get(File, file_id)
    assert f is not None
    return f
