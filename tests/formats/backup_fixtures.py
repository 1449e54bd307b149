"""Builders of iPhone backup folders (Finder/iTunes layout), plain and encrypted.

The encrypting side is written here from the documented format, independently of the decrypting
library the reader uses: a ``BackupKeyBag`` (tag-length-value records) whose protection-class
keys are wrapped (RFC 3394 AES key wrap) with the key derived from the password by PBKDF2-SHA256
(``DPSL``/``DPIC``) then PBKDF2-SHA1 (``SALT``/``ITER``), as iOS 10.2+ does; a ``ManifestKey``
(class number, little-endian, then the wrapped key); ``Manifest.db`` and every file encrypted
with AES-256-CBC, zero IV, PKCS#7 padding; per-file keys in the ``EncryptionKey`` of each row's
NSKeyedArchiver ``MBFile`` plist.  Iteration counts are tiny so tests run fast.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import sqlite3
import struct
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

MANIFEST_SCHEMA = """
CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER,
    file BLOB);
CREATE INDEX FilesDomainIdx ON Files(domain);
CREATE INDEX FilesRelativePathIdx ON Files(relativePath);
CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);
"""
CLASSES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
FILE_CLASS = 3
MANIFEST_CLASS = 4


def file_id(domain: str, relative_path: str) -> str:
    return hashlib.sha1(f"{domain}-{relative_path}".encode()).hexdigest()


def aes_cbc(key: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(b"\x00" * 16)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def tlv(tag: bytes, value: bytes | int) -> bytes:
    data = struct.pack(">L", value) if isinstance(value, int) else value
    return tag + struct.pack(">L", len(data)) + data


@dataclass
class KeyBag:
    password: str
    iterations: int = 3
    claimed_dpic: int | None = None
    """A DPIC to write instead of the one used (to test refusal of absurd counts)."""
    salt: bytes = field(default_factory=lambda: os.urandom(20))
    dpsl: bytes = field(default_factory=lambda: os.urandom(20))
    class_keys: dict[int, bytes] = field(
        default_factory=lambda: {c: os.urandom(32) for c in CLASSES}
    )

    def passphrase_key(self) -> bytes:
        first = hashlib.pbkdf2_hmac("sha256", self.password.encode(), self.dpsl, self.iterations)
        return hashlib.pbkdf2_hmac("sha1", first, self.salt, self.iterations, 32)

    def blob(self) -> bytes:
        wrap_key = self.passphrase_key()
        out = [
            tlv(b"VERS", 4),
            tlv(b"TYPE", 1),
            tlv(b"UUID", os.urandom(16)),
            tlv(b"HMCK", os.urandom(40)),
            tlv(b"WRAP", 0),
            tlv(b"SALT", self.salt),
            tlv(b"ITER", self.iterations),
            tlv(b"DPWT", 1),
            tlv(b"DPIC", self.claimed_dpic or self.iterations),
            tlv(b"DPSL", self.dpsl),
        ]
        for number, key in self.class_keys.items():
            out += [
                tlv(b"UUID", os.urandom(16)),
                tlv(b"CLAS", number),
                tlv(b"WRAP", 2),
                tlv(b"KTYP", 0),
                tlv(b"WPKY", aes_key_wrap(wrap_key, key)),
            ]
        return b"".join(out)

    def wrap(self, protection_class: int, key: bytes) -> bytes:
        return aes_key_wrap(self.class_keys[protection_class], key)


def mbfile(relative_path: str, size: int, wrapped_key: bytes | None) -> bytes:
    """The NSKeyedArchiver ``MBFile`` plist of a Files row."""
    uid = plistlib.UID
    record: dict[str, object] = {
        "$class": uid(3),
        "RelativePath": uid(2),
        "Size": size,
        "ProtectionClass": FILE_CLASS,
        "Mode": 0o100644,
        "Birth": 1_700_000_000,
        "LastModified": 1_700_000_000,
        "LastStatusChange": 1_700_000_000,
        "InodeNumber": 1,
        "UserID": 501,
        "GroupID": 501,
        "Flags": 0,
    }
    objects: list[object] = ["$null", record, relative_path]
    objects.append({"$classname": "MBFile", "$classes": ["MBFile", "NSObject"]})
    if wrapped_key is not None:
        record["EncryptionKey"] = uid(4)
        objects.append({"NS.data": struct.pack("<l", FILE_CLASS) + wrapped_key, "$class": uid(5)})
        objects.append({"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData"]})
    archive = {
        "$version": 100000,
        "$archiver": "NSKeyedArchiver",
        "$top": {"root": uid(1)},
        "$objects": objects,
    }
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


class Backup:
    """A backup folder under construction: add files, then :meth:`finish`."""

    def __init__(self, folder: Path, password: str | None = None) -> None:
        self.folder = folder
        folder.mkdir(parents=True)
        self.keybag = KeyBag(password) if password else None
        self.rows: list[tuple[str, str, str, int, bytes]] = []

    def add(self, domain: str, relative_path: str, data: bytes, *, fid: str | None = None) -> str:
        """Store ``data`` as ``domain``/``relative_path`` (``fid`` overrides the file id)."""
        fid = fid or file_id(domain, relative_path)
        wrapped = None
        size = len(data)
        if self.keybag:
            key = os.urandom(32)
            wrapped = self.keybag.wrap(FILE_CLASS, key)
            data = aes_cbc(key, data)
        stored = self.folder / fid[:2] / fid
        if stored.resolve().is_relative_to(self.folder.resolve()):
            stored.parent.mkdir(exist_ok=True)
            stored.write_bytes(data)
        self.rows.append((fid, domain, relative_path, 1, mbfile(relative_path, size, wrapped)))
        return fid

    def add_file(self, domain: str, relative_path: str, source: Path) -> str:
        return self.add(domain, relative_path, source.read_bytes())

    def list_only(self, domain: str, relative_path: str) -> None:
        """A manifest row whose file is not in the folder."""
        fid = file_id(domain, relative_path)
        self.rows.append((fid, domain, relative_path, 1, mbfile(relative_path, 10, None)))

    def finish(self) -> Path:
        manifest = self.folder / "Manifest.db"
        conn = sqlite3.connect(manifest)  # noqa: TID251 - a foreign file
        conn.executescript(MANIFEST_SCHEMA)
        conn.executemany("INSERT INTO Files VALUES (?, ?, ?, ?, ?)", self.rows)
        conn.commit()
        conn.close()
        plist: dict[str, object] = {
            "IsEncrypted": self.keybag is not None,
            "Version": "10.0",
            "Lockdown": {"ProductVersion": "17.4", "DeviceName": "Test iPhone"},
        }
        if self.keybag:
            manifest_key = os.urandom(32)
            manifest.write_bytes(aes_cbc(manifest_key, manifest.read_bytes()))
            plist["BackupKeyBag"] = self.keybag.blob()
            wrapped = self.keybag.wrap(MANIFEST_CLASS, manifest_key)
            plist["ManifestKey"] = struct.pack("<l", MANIFEST_CLASS) + wrapped
        with (self.folder / "Manifest.plist").open("wb") as f:
            plistlib.dump(plist, f, fmt=plistlib.FMT_BINARY)
        return self.folder


BACKUP_PASSWORD = "hunter2 backup"
PICTURE = "Library/SMS/Attachments/ab/01/AT-1/IMG_0001.JPG"


def sms_db(folder: Path) -> Path:
    """An sms.db with a text message (only in attributedBody) and one with a picture."""
    from tests.formats.apple_fixtures import MessagesDb, attributed_body

    db = MessagesDb(folder / "sms.db")
    chat = db.chat([db.handle("+15550100001")])
    db.message(chat, text=None, attributedBody=attributed_body("see you at 8"), handle_id=1)
    row = db.message(chat, text="\ufffclook", handle_id=1)
    db.attachment(row, f"~/{PICTURE}", "image/jpeg", "IMG_0001.JPG")
    db.close()
    return db.path


def message_backup(
    folder: Path, password: str | None = BACKUP_PASSWORD, *, picture: bool = True
) -> Backup:
    """A backup (call ``finish()``) in ``folder`` holding :func:`sms_db` and its picture."""
    made = Backup(folder, password)
    made.add_file("HomeDomain", "Library/SMS/sms.db", sms_db(folder.parent))
    if picture:
        made.add("MediaDomain", PICTURE, b"\xff\xd8 a jpeg")
    return made
