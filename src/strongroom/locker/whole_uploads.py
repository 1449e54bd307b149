"""An upload whose bytes all come with the request that creates it (tus creation-with-upload
with ``Content-Length`` equal to ``Upload-Length``): stored in one transaction at the end.

The resumable path records every request's chunks against the upload (``upload_chunks``) so
that a client can continue after an interruption.  A client learns an upload's address only
from the answer to the creating request, so when that request breaks off, nobody can continue
the upload: its checkpoint was never used.  Here the bytes are chunked, hashed, encrypted and
stored as they arrive (:class:`~strongroom.content.store.Stager`, durable before the database
records them), and once the last byte is in, one transaction creates the upload already
finished, with its content and file.  That is one write transaction per file instead of four,
and no ``upload_chunks`` rows written and deleted again.  An interrupted request leaves only
chunks that nothing uses, reclaimed like any others.
"""

from __future__ import annotations

from strongroom.accounts import usage
from strongroom.blobs import Vault
from strongroom.clock import Clock
from strongroom.content import store as content
from strongroom.db import Database
from strongroom.errors import Conflict, PayloadTooLarge
from strongroom.locker import files, uploads
from strongroom.locker.categories import SNIFF_SIZE


class WholeUpload:
    """Takes the body of a creating request, then creates the upload finished.

    Raises at construction what :func:`uploads.create` would (QuotaExceeded, PayloadTooLarge,
    InvalidInput, BadPath), so a refused upload reads no byte.  Not thread-safe: one request.
    """

    def __init__(
        self,
        db: Database,
        vault: Vault,
        clock: Clock,
        account_id: int,
        *,
        length: int,
        meta: dict[str, str],
    ) -> None:
        uploads.check(length, meta)
        with db.read() as s:
            usage.reserve(s, account_id, length)  # checked again when the file is stored
        self.db, self.clock, self.account_id = db, clock, account_id
        self.length, self.meta = length, meta
        self.head = b""
        self.received = 0
        self._stager = content.Stager(db, vault, account_id, clock)

    def write(self, data: bytes | bytearray) -> None:
        """The next bytes of the body.  Raises PayloadTooLarge past ``Upload-Length``."""
        if self.received + len(data) > self.length:
            raise PayloadTooLarge("more bytes than the declared Upload-Length")
        if len(self.head) < SNIFF_SIZE:
            self.head += data[: SNIFF_SIZE - len(self.head)]
        self.received += len(data)
        self._stager.write(data)

    def finish(self, *, keep_versions: int) -> tuple[uploads.UploadView, files.FileView | None]:
        """Store the last chunks, then create the upload finished with its file (None for a
        ``purpose`` that stores content only).  Conflict if bytes are missing; QuotaExceeded."""
        if self.received != self.length:
            raise Conflict("the upload is not complete")
        staged = self._stager.finish()
        now = self.clock.now_ms()
        with self.db.write() as s:
            usage.lock_account(s, self.account_id)
            upload = uploads.create_row(
                s, self.account_id, length=self.length, meta=self.meta, now=now
            )
            made, _ = uploads.finish(
                s,
                upload,
                staged,
                self.head,
                now=now,
                keep_versions=keep_versions,
                checkpointed=False,
            )
            view = uploads.UploadView(
                upload.public_id,
                self.length,
                self.length,
                dict(self.meta),
                upload.expires_at,
                made.id if made else None,
            )
        return view, made
