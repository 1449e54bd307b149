"""Reader of iPhone backup folders made by Finder or iTunes (format ``ios-backup``).

The messages are the backup's ``sms.db`` (``HomeDomain``, ``Library/SMS/sms.db``, with its
``-wal`` when the backup has one) read by :mod:`strongroom.formats.messages_db`; attachments are
``MediaDomain`` files (``Library/SMS/Attachments/...``).  Both are found through ``Manifest.db``
(see :mod:`strongroom.formats.backup_files`), never by guessing paths.  An attachment the manifest
does not list, or whose file is gone, is a Problem; the import goes on.

Encrypted backups need ``options.password``.  Their ``sms.db`` and ``Manifest.db`` are decrypted
into a private folder in ``options.scratch`` that is removed when reading ends; each decrypted
attachment is a separate file there owned by its part (``FileContent(owned=True)``), freed by the
part's ``discard()``.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

from strongroom.formats.attachment_paths import AttachmentSource, library_relative
from strongroom.formats.backup_files import (
    BackupFiles,
    EncryptedBackupFiles,
    file_id,
    load_manifest_plist,
)
from strongroom.formats.base import BadInput, ReadOptions
from strongroom.formats.messages_db import MessagesDbReader
from strongroom.formats.sqlite_files import SQLITE_ERRORS, open_untrusted
from strongroom.messages.records import FileContent, PartContent, Record

HOME = "HomeDomain"
MEDIA = "MediaDomain"
SMS_DB = "Library/SMS/sms.db"


class IosBackupReader:
    name = "ios-backup"

    def sniff(self, path: Path) -> bool:
        return (
            path.is_dir()
            and (path / "Manifest.db").is_file()
            and (path / "Manifest.plist").is_file()
        )

    def read(self, path: Path, options: ReadOptions) -> Iterator[Record]:
        if not self.sniff(path):
            raise BadInput(f"{path.name}: not an iPhone backup (no Manifest.db and Manifest.plist)")
        plist = load_manifest_plist(path)
        files = (
            EncryptedBackupFiles(path, plist, options.password)
            if plist.get("IsEncrypted")
            else BackupFiles(path)
        )
        with ExitStack() as stack:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=options.scratch)))
            manifest_path = files.manifest_db(work)
            label = f"{path.name}/Manifest.db"
            manifest = stack.enter_context(open_untrusted(manifest_path, scratch=work, label=label))
            lookup = Manifest(manifest, files, label)
            sms_db = self._sms_db(lookup, work)
            spool = options.scratch or Path(tempfile.gettempdir())
            reader = MessagesDbReader(
                attachments=lookup.attachments(spool), source=self.name, label=f"{path.name}/sms.db"
            )
            yield from reader.read(sms_db, options)

    def _sms_db(self, manifest: Manifest, work: Path) -> Path:
        """``sms.db`` (and its ``-wal``) as readable files named so in ``work``."""
        found = manifest.open_file(HOME, SMS_DB, work)
        if found is None:
            raise BadInput(f"{manifest.label}: the backup holds no messages ({SMS_DB})")
        target = work / "sms.db"
        _place(found, target, manifest.files.copies)
        wal = manifest.open_file(HOME, SMS_DB + "-wal", work)
        if wal is not None:
            _place(wal, work / "sms.db-wal", manifest.files.copies)
        return target


def _place(found: Path, target: Path, owned: bool) -> None:
    """Put ``found`` at ``target``: move a decrypted copy, link to a file in the backup."""
    if owned:
        found.replace(target)
    else:
        target.symlink_to(found)


class Manifest:
    """Look-ups in a backup's ``Manifest.db``."""

    def __init__(self, conn: sqlite3.Connection, files: BackupFiles, label: str) -> None:
        self.conn = conn
        self.files = files
        self.label = label
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
        if "Files" not in tables:
            raise BadInput(f"{label}: no Files table (a backup older than iOS 10?)")

    def find(self, domain: str, relative_path: str) -> tuple[str, bytes | None] | None:
        """The file id and ``MBFile`` plist of a regular file, or None if not listed."""
        query = "SELECT fileID, file FROM Files WHERE {} AND domain = ? AND relativePath = ?"
        args = (domain, relative_path)
        try:
            row = self.conn.execute(
                query.format("fileID = ? AND flags = 1"), (file_id(domain, relative_path), *args)
            ).fetchone()
            if row is None:  # listed under another id: still the manifest's word, not a guess
                row = self.conn.execute(query.format("flags = 1"), args).fetchone()
        except SQLITE_ERRORS as e:
            raise BadInput(f"{self.label}: cannot be read ({e})") from e
        if row is None or not isinstance(row[0], str):
            return None
        return row[0], row[1] if isinstance(row[1], bytes) else None

    def open_file(self, domain: str, relative_path: str, into: Path) -> Path | None:
        found = self.find(domain, relative_path)
        if found is None:
            return None
        return self.files.open_file(found[0], found[1], into)

    def attachments(self, spool: Path) -> AttachmentSource:
        """Attachments of the backup's ``sms.db``: ``~/Library/SMS/Attachments/x`` through the
        manifest's ``MediaDomain`` entry for ``Library/SMS/Attachments/x``."""

        def resolve(stored: str) -> PartContent | None:
            relative = library_relative(stored)
            path = self.open_file(MEDIA, relative, spool)
            if path is None:
                return None
            return FileContent(path, owned=self.files.copies)

        return resolve
