"""Resumable uploads (the tus protocol's storage side): bytes are chunked, hashed and encrypted
as they arrive, so finishing even a multi-GB upload only commits what is already stored.

State that survives a restart, per upload: the chunks cut so far (``upload_chunks``), the bytes
after the last cut (a *tail* blob) and ``offset``.  An :class:`Appender` holds the live state
(chunker, SHA-256) in memory between requests; after a restart, or in another process, it is
rebuilt from the stored state (re-reading the staged bytes to rebuild the hash).

A request's bytes become durable at :meth:`Appender.checkpoint`, which appends the request's
chunks to the upload and moves ``offset`` in one transaction, compare-and-set on the old offset:
two processes appending to one upload at once cannot both succeed.  A request whose checksum
does not match is dropped without a checkpoint; the chunks it stored are reclaimed later.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from strongroom.accounts import usage
from strongroom.blobs import Vault
from strongroom.clock import Clock
from strongroom.content import store as content
from strongroom.content.chunking import Chunker, StreamChunker
from strongroom.content.models import Chunk, ContentChunk
from strongroom.db import Database
from strongroom.errors import Conflict, Gone, InvalidInput, NotFound, PayloadTooLarge
from strongroom.locker import files
from strongroom.locker.categories import SNIFF_SIZE
from strongroom.locker.models import Upload, UploadChunk
from strongroom.locker.paths import clean_name, split_path

EXPIRY_MS = 24 * 3_600_000
CONTENT_ONLY = ("import", "message-part")
"""Upload-Metadata ``purpose`` values whose upload becomes stored content, not a locker file:
a file to import, or a large message attachment referenced as ``{"upload": id}``."""
MAX_SIZE = 1 << 40  # 1 TiB: beyond any phone file, below what S3 parts allow


class OffsetMismatch(Conflict):
    """A tus PATCH whose Upload-Offset is not the upload's current offset."""

    slug = "offset-mismatch"
    title = "Upload offset mismatch"


@dataclass(frozen=True)
class UploadView:
    public_id: str
    length: int
    offset: int
    meta: dict[str, str]
    expires_at: int
    file_id: int | None


def _view(u: Upload) -> UploadView:
    return UploadView(u.public_id, u.length, u.offset, dict(u.meta or {}), u.expires_at, u.file_id)


def create(
    session: Session, account_id: int, *, length: int, meta: dict[str, str], now: int
) -> UploadView:
    """Start an upload of ``length`` bytes.  Refused before any byte is sent when it cannot fit:
    QuotaExceeded (saying how much is free), PayloadTooLarge, InvalidInput."""
    return _view(create_row(session, account_id, length=length, meta=meta, now=now))


def create_row(
    session: Session, account_id: int, *, length: int, meta: dict[str, str], now: int
) -> Upload:
    """:func:`create`, returning the new row (to finish it in the same transaction)."""
    check(length, meta)
    usage.reserve(session, account_id, length)
    upload = Upload(
        public_id=secrets.token_urlsafe(24),
        account_id=account_id,
        length=length,
        offset=0,
        meta=meta,
        head=b"",
        created_at=now,
        expires_at=now + EXPIRY_MS,
    )
    session.add(upload)
    session.flush()
    return upload


def check(length: int, meta: dict[str, str]) -> None:
    """What :func:`create` refuses before looking at the quota: PayloadTooLarge, InvalidInput,
    BadPath."""
    if length < 0:
        raise InvalidInput("Upload-Length must be a non-negative integer")
    if length > MAX_SIZE:
        raise PayloadTooLarge(f"uploads are limited to {MAX_SIZE} bytes")
    if meta.get("purpose") not in CONTENT_ONLY:
        if not meta.get("filename"):
            raise InvalidInput("Upload-Metadata must include filename")
        clean_name(meta["filename"])  # refuse bad names before any byte is sent
        split_path(meta.get("folder", ""))


def get(session: Session, account_id: int, public_id: str, now: int) -> Upload:
    """The account's upload.  Raises NotFound (also for other accounts'), Gone when expired."""
    upload = session.scalar(select(Upload).where(Upload.public_id == public_id))
    if upload is None or upload.account_id != account_id:
        raise NotFound("no such upload")
    if upload.finished_at is None and upload.expires_at <= now:
        raise Gone("this upload expired; start it again")
    return upload


def view(session: Session, account_id: int, public_id: str, now: int) -> UploadView:
    return _view(get(session, account_id, public_id, now))


def hold(session: Session, upload_pk: int, now: int) -> None:
    """Keep a finished upload (and so its content) another full day from now: a job uses it."""
    session.execute(update(Upload).where(Upload.id == upload_pk).values(finished_at=now))


def release(session: Session, account_id: int, public_id: str) -> None:
    """Forget a finished upload whose content has been used (its content is reclaimed later)."""
    session.execute(
        delete(Upload).where(Upload.account_id == account_id, Upload.public_id == public_id)
    )


def terminate(session: Session, account_id: int, public_id: str, now: int) -> None:
    """Forget an upload (tus termination); its staged chunks are reclaimed later."""
    session.delete(get(session, account_id, public_id, now))


def expire(session: Session, now: int) -> int:
    """Delete unfinished uploads past their expiry, and finished ones a day after."""
    doomed = list(
        session.scalars(
            select(Upload.id).where(
                ((Upload.finished_at.is_(None)) & (Upload.expires_at <= now))
                | (Upload.finished_at < now - EXPIRY_MS)
            )
        )
    )
    if doomed:
        session.execute(delete(Upload).where(Upload.id.in_(doomed)))
    return len(doomed)


class Appender:
    """Appends bytes to one upload.  One request at a time (the caller serialises)."""

    def __init__(
        self,
        db: Database,
        vault: Vault,
        clock: Clock,
        upload: Upload,
        chunks: list[content.StagedChunk],
        tail: bytes,
        sha: hashlib._Hash,
    ) -> None:
        self.db, self.vault, self.clock = db, vault, clock
        self.upload_pk, self.account_id = upload.id, upload.account_id
        self.public_id, self.length = upload.public_id, upload.length
        self.offset = upload.offset  # durable
        self.tail_blob = upload.tail_blob
        self.chunks = chunks  # durable, in order
        self.head = bytes(upload.head)
        self._sha = sha
        self._chunker: StreamChunker = Chunker(vault.key.chunker_secret).stream(
            start_offset=upload.offset - len(tail)
        )
        self._new: list[content.StagedChunk] = []
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._received = 0  # bytes of the current request
        self._cut_all = False
        self.broken = False
        if tail:
            self._feed(tail, hash_it=False)

    @classmethod
    def load(cls, db: Database, vault: Vault, clock: Clock, upload: Upload) -> Appender:
        """Rebuild the live state from what is stored (after a restart or in another process)."""
        with db.read() as s:
            rows = s.execute(
                select(UploadChunk.blob_id, UploadChunk.size, *_PLACE)
                .outerjoin(
                    Chunk,
                    (Chunk.account_id == UploadChunk.account_id)
                    & (Chunk.blob_id == UploadChunk.blob_id),
                )
                .where(UploadChunk.upload_id == upload.id)
                .order_by(UploadChunk.seq)
            ).all()
            tail_at = None
            if upload.tail_blob:
                found = s.execute(
                    select(*_PLACE).where(
                        Chunk.account_id == upload.account_id, Chunk.blob_id == upload.tail_blob
                    )
                ).first()
                tail_at = content.placement(*found) if found else None
        chunks = [content.StagedChunk(str(b), int(n)) for b, n, *_ in rows]
        sha = hashlib.sha256()
        for chunk, (_, _, pack_id, offset, stored_size) in zip(chunks, rows, strict=True):
            sha.update(vault.read(chunk.blob_id, content.placement(pack_id, offset, stored_size)))
        tail = vault.read(upload.tail_blob, tail_at) if upload.tail_blob else b""
        sha.update(tail)
        return cls(db, vault, clock, upload, chunks, tail, sha)

    @property
    def position(self) -> int:
        """Bytes received so far, the current request included."""
        return self.offset + self._received

    def write(self, data: bytes | bytearray) -> None:
        """Take the next bytes of the current request.  Raises PayloadTooLarge past the length."""
        if self.position + len(data) > self.length:
            self.broken = True
            raise PayloadTooLarge("more bytes than the declared Upload-Length")
        if len(self.head) < SNIFF_SIZE:
            self.head += data[: SNIFF_SIZE - len(self.head)]
        self._received += len(data)
        self._feed(data, hash_it=True)

    def _feed(self, data: bytes | bytearray, *, hash_it: bool) -> None:
        if hash_it:
            self._sha.update(data)
        for chunk in self._chunker.feed(data):
            self._pending.append(chunk.data)
            self._pending_bytes += len(chunk.data)
        if self._pending_bytes >= content.STAGE_BYTES:
            self._store_pending()

    def _store_pending(self, tail: bytes = b"") -> str | None:
        """Store the pending chunks, and ``tail`` in the same batch; return the tail's id."""
        pieces, self._pending, self._pending_bytes = self._pending, [], 0
        if tail:
            pieces.append(tail)
        if not pieces:
            return None
        staged = content.put_chunks(
            self.db, self.vault, self.account_id, pieces, self.clock.now_ms()
        )
        if tail:
            self._new += staged[:-1]
            return staged[-1].blob_id
        self._new += staged
        return None

    def _cut_rest(self) -> None:
        """All bytes are in: the chunker's last cuts become pending chunks; nothing is left
        over for a tail."""
        if not self._cut_all:
            self._pending += [chunk.data for chunk in self._chunker.finish()]
            self._cut_all = True

    def checkpoint(self) -> int:
        """Make the current request's bytes durable; return the new offset.

        Raises OffsetMismatch if another process moved the upload meanwhile.
        """
        if self.position == self.length:
            # The last request: its last chunks are cut now rather than kept as a tail blob
            # that finishing would store again and then delete.
            self._cut_rest()
        tail_id = self._store_pending(self._chunker.pending_bytes())
        new_offset = self.position
        now = self.clock.now_ms()
        with self.db.write() as s:
            moved = s.execute(
                update(Upload)
                .where(Upload.id == self.upload_pk, Upload.offset == self.offset)
                .values(
                    offset=new_offset, tail_blob=tail_id, head=self.head, expires_at=now + EXPIRY_MS
                )
            )
            if not moved.rowcount:  # type: ignore[attr-defined]
                self.broken = True
                raise OffsetMismatch("another request changed this upload; ask for its offset")
            if self._new:
                s.execute(
                    insert(UploadChunk),
                    [
                        {
                            "upload_id": self.upload_pk,
                            "seq": len(self.chunks) + i,
                            "account_id": self.account_id,
                            "blob_id": c.blob_id,
                            "size": c.size,
                        }
                        for i, c in enumerate(self._new)
                    ],
                )
        self.chunks += self._new
        self._new = []
        self.offset, self._received = new_offset, 0
        superseded, self.tail_blob = self.tail_blob, tail_id
        if superseded and superseded != tail_id:
            drop_tail(self.db, self.vault, self.account_id, superseded)
        return new_offset

    def finish(self) -> content.Staged:
        """All bytes are in: cut the last chunks and return the staged content."""
        if self.offset != self.length or self._received:
            raise Conflict("the upload is not complete")
        self._cut_rest()
        self._store_pending()
        return content.Staged(self._sha.digest(), self.length, self.chunks + self._new)


_PLACE = (Chunk.pack_id, Chunk.pack_offset, Chunk.stored_size)


def drop_tail(db: Database, vault: Vault, account_id: int, blob_id: str) -> None:
    """Forget a tail blob its upload no longer needs, unless something else uses the same bytes
    (content is addressed by its bytes: a tail may equal a real chunk).  A tail of its own is
    deleted; one in a pack goes with the pack (``content/reclaim.py``)."""
    with db.write() as s:
        usage.lock_account(s, account_id)
        used = s.scalar(
            select(ContentChunk.content_id)
            .where(ContentChunk.account_id == account_id, ContentChunk.blob_id == blob_id)
            .limit(1)
        )
        used = used or s.scalar(
            select(UploadChunk.upload_id)
            .where(UploadChunk.account_id == account_id, UploadChunk.blob_id == blob_id)
            .limit(1)
        )
        used = used or s.scalar(
            select(Upload.id)
            .where(Upload.account_id == account_id, Upload.tail_blob == blob_id)
            .limit(1)
        )
        if used is None:
            packed = s.scalar(
                delete(Chunk)
                .where(Chunk.account_id == account_id, Chunk.blob_id == blob_id)
                .returning(Chunk.pack_id)
            )
            if packed is None:
                vault.delete(blob_id)


def mark_finished(
    session: Session,
    upload_pk: int,
    file_id: int | None,
    now: int,
    content_id: int | None = None,
    *,
    checkpointed: bool = True,
) -> None:
    """Record the upload's file and content; forget its staged chunks (``checkpointed``: it
    has some; an upload finished by the request that created it has none)."""
    values: dict[str, object] = {
        "finished_at": now,
        "file_id": file_id,
        "offset": Upload.length,
        "tail_blob": None,
    }
    if content_id is not None:
        values["content_id"] = content_id
    session.execute(update(Upload).where(Upload.id == upload_pk).values(**values))
    if checkpointed:
        session.execute(delete(UploadChunk).where(UploadChunk.upload_id == upload_pk))


def complete(
    db: Database, appender: Appender, clock: Clock, *, keep_versions: int
) -> tuple[files.FileView | None, int]:
    """Turn a complete upload into a file (or, for ``purpose=import``, stored content only).

    Returns the file (None for imports) and the content id.  Raises QuotaExceeded when the file
    no longer fits (the upload stays, complete, until it expires).
    """
    staged = appender.finish()
    now = clock.now_ms()
    with db.write() as s:
        usage.lock_account(s, appender.account_id)
        upload = s.get(Upload, appender.upload_pk)
        if upload is None:
            raise NotFound("no such upload")
        result, content_id = finish(
            s, upload, staged, appender.head, now=now, keep_versions=keep_versions
        )
    if appender.tail_blob:
        drop_tail(db, appender.vault, appender.account_id, appender.tail_blob)
    return result, content_id


def finish(
    session: Session,
    upload: Upload,
    staged: content.Staged,
    head: bytes,
    *,
    now: int,
    keep_versions: int,
    checkpointed: bool = True,
) -> tuple[files.FileView | None, int]:
    """Inside the caller's transaction (account locked): commit the upload's staged content,
    store its file (none for ``purpose=import``) and mark it finished (see
    :func:`mark_finished` for ``checkpointed``).  QuotaExceeded."""
    meta = dict(upload.meta or {})
    content_id = content.commit(session, upload.account_id, staged, now)
    result: files.FileView | None = None
    if meta.get("purpose") not in CONTENT_ONLY:
        folder = split_path(meta.get("folder", ""))
        mtime = meta.get("mtime", "")
        modified = int(float(mtime) * 1000) if mtime.replace(".", "", 1).isdigit() else now
        data = files.NewBytes(content_id, staged.size, staged.sha256, head)
        result, _ = files.store(
            session,
            upload.account_id,
            folder=folder,
            name=meta["filename"],
            data=data,
            modified_at=modified,
            now=now,
            keep_versions=keep_versions,
        )
    file_id = result.id if result else None
    mark_finished(session, upload.id, file_id, now, content_id, checkpointed=checkpointed)
    return result, content_id
