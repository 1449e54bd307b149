"""The files inside an iPhone backup folder made by Finder or iTunes, plain or encrypted.

A backup folder holds ``Manifest.plist`` (device info, ``IsEncrypted``, and for encrypted backups
the ``BackupKeyBag`` and ``ManifestKey``), ``Manifest.db`` (table ``Files``: ``fileID``,
``domain``, ``relativePath``, ``flags`` (1 = file), ``file``: an NSKeyedArchiver ``MBFile``
plist) and each file's bytes at ``<first two hex digits>/<fileID>``, where ``fileID`` is
SHA-1 of ``domain + "-" + relativePath``.

Encrypted backups (the PyPI package ``iphone-backup-decrypt`` does the cryptography): the
password gives, by PBKDF2-SHA256 (``DPSL``, ``DPIC``) then PBKDF2-SHA1 (``SALT``, ``ITER``), the
key that unwraps (RFC 3394) the protection-class keys of the key bag; ``ManifestKey`` (class,
wrapped key) decrypts ``Manifest.db`` and each file's ``EncryptionKey`` in its ``MBFile``
decrypts the file, all AES-256-CBC with a zero IV.  Decrypted copies go to the scratch folder only.

Names in the manifest are untrusted: a ``fileID`` that is not 40 hex digits, or whose file lies
outside the backup folder, is refused.
"""

from __future__ import annotations

import hashlib
import plistlib
import re
import struct
import tempfile
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from strongroom.formats.base import BadInput

_FILE_ID = re.compile(r"[0-9a-f]{40}")


class WrongBackupPassword(BadInput):
    """An encrypted iPhone backup's password is missing or does not unlock its keys."""

    slug = "wrong-backup-password"
    title = "The backup password is wrong"


class UnsafeBackupName(BadInput):
    """A backup manifest names a file outside the backup folder."""

    slug = "unsafe-backup-name"
    title = "The backup manifest is refused"


def file_id(domain: str, relative_path: str) -> str:
    """The name a backup gives the file ``relative_path`` of ``domain``."""
    return hashlib.sha1(f"{domain}-{relative_path}".encode()).hexdigest()


MAX_MANIFEST_PLIST = 16 * 1024 * 1024
"""Real ``Manifest.plist`` files hold a few kilobytes to a few hundred; anything far larger is
not one, and is refused before parsing."""


def load_manifest_plist(folder: Path) -> dict[str, Any]:
    """``Manifest.plist`` of the backup ``folder``.  Raises BadInput if unreadable."""
    try:
        with (folder / "Manifest.plist").open("rb") as f:
            raw = f.read(MAX_MANIFEST_PLIST + 1)
        if len(raw) > MAX_MANIFEST_PLIST:
            raise BadInput(f"{folder.name}/Manifest.plist: too large for a backup manifest")
        data = plistlib.loads(raw)
    # A damaged binary property list can claim absurd counts and sizes: plistlib then fails
    # with MemoryError, OverflowError or struct errors rather than InvalidFileException.
    except (
        OSError,
        plistlib.InvalidFileException,
        ValueError,
        MemoryError,
        OverflowError,
        RecursionError,
        IndexError,
        KeyError,
        TypeError,
        struct.error,
        ExpatError,  # XML property lists: plistlib lets the parser's own error through
    ) as e:
        raise BadInput(
            f"{folder.name}/Manifest.plist: not a readable property list ({type(e).__name__})"
        ) from None
    if not isinstance(data, dict):
        raise BadInput(f"{folder.name}/Manifest.plist: not a dictionary")
    return data


class BackupFiles:
    """Access to a plain backup's stored files; :class:`EncryptedBackupFiles` decrypts them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = folder.resolve()

    def manifest_db(self, work: Path) -> Path:
        """A path to the readable ``Manifest.db``."""
        return self.folder / "Manifest.db"

    def stored(self, fid: str) -> Path:
        """Where the file ``fid`` lies in the backup.  Raises UnsafeBackupName."""
        if not _FILE_ID.fullmatch(fid):
            raise UnsafeBackupName(f"{self.folder.name}/Manifest.db: file id {fid!r} refused")
        path = (self.root / fid[:2] / fid).resolve()
        if not path.is_relative_to(self.root):
            raise UnsafeBackupName(f"{self.folder.name}: file {fid} leaves the backup folder")
        return path

    def open_file(self, fid: str, mbfile: bytes | None, into: Path) -> Path | None:
        """A readable path to the file ``fid``: the stored file itself (``into`` unused), or
        None if it is missing."""
        path = self.stored(fid)
        return path if path.is_file() else None

    @property
    def copies(self) -> bool:
        """True if :meth:`open_file` writes a new file the caller then owns."""
        return False


class EncryptedBackupFiles(BackupFiles):
    """An encrypted backup, unlocked with its password."""

    def __init__(self, folder: Path, plist: dict[str, Any], password: str | None) -> None:
        super().__init__(folder)
        if not password:
            raise WrongBackupPassword(f"{folder.name}: the backup is encrypted; give its password")
        # Loaded here, not with the module: it brings pycryptodome and cffi, a tenth of a
        # second at the start of every import, in both of its processes.
        from iphone_backup_decrypt import utils as decrypt
        from iphone_backup_decrypt.exceptions import UnsafeBackupError

        try:
            self.keybag = decrypt.BackupKeyBag(plist["BackupKeyBag"])
            unlocked = self.keybag.unlock_with_passphrase(password.encode("utf-8"))
        except UnsafeBackupError as e:
            raise BadInput(f"{folder.name}/Manifest.plist: {e}") from e
        except (KeyError, ValueError, TypeError, struct.error) as e:
            raise BadInput(f"{folder.name}/Manifest.plist: unreadable key bag ({e})") from e
        if not unlocked:
            raise WrongBackupPassword(f"{folder.name}: wrong password for this encrypted backup")
        self.manifest_key = plist.get("ManifestKey")

    def manifest_db(self, work: Path) -> Path:
        key = self.manifest_key
        if not isinstance(key, bytes) or len(key) != 44:
            raise BadInput(f"{self.folder.name}/Manifest.plist: no usable ManifestKey")
        protection_class = struct.unpack("<l", key[:4])[0]
        target = work / "Manifest.db"
        self._decrypt(self.folder / "Manifest.db", protection_class, key[4:], target)
        return target

    def open_file(self, fid: str, mbfile: bytes | None, into: Path) -> Path | None:
        """Decrypt the file ``fid`` (its keys in ``mbfile``) to a new file in ``into``."""
        path = self.stored(fid)
        if not path.is_file():
            return None
        from iphone_backup_decrypt import utils as decrypt

        try:
            info = decrypt.FilePlist(mbfile)
            key = info.encryption_key
            protection_class = info.protection_class
        except Exception as e:  # noqa: BLE001 - any malformed plist is the same bad input
            raise BadInput(f"{self.folder.name}/Manifest.db: file {fid} has no keys ({e})") from e
        if key is None:
            raise BadInput(f"{self.folder.name}/Manifest.db: file {fid} has no EncryptionKey")
        fd, name = tempfile.mkstemp(prefix="backup-", dir=into)
        target = Path(name)
        try:
            with open(fd, "wb"):
                pass
            self._decrypt(path, protection_class, key, target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target

    @property
    def copies(self) -> bool:
        return True

    def _decrypt(self, source: Path, protection_class: int, wrapped: bytes, target: Path) -> None:
        from iphone_backup_decrypt import utils as decrypt

        try:
            key = self.keybag.unwrap_key_for_class(protection_class, wrapped)
            decrypt.aes_decrypt_chunked(in_filename=str(source), key=key, out_filepath=str(target))
        except (ValueError, OSError) as e:
            raise BadInput(f"{self.folder.name}/{source.name}: cannot be decrypted ({e})") from e
