"""The master key file and the keyring that wraps every account's data key.

Envelope encryption: each account has a random 256-bit data key; only its wrapped form is stored
(AES-256-GCM under the master key, with the account's key id as associated data, so a wrapped key
cannot be moved to another account).  Rotating the master key rewraps the data keys, never the data.

The key file is text: a header line and 64 hex digits, mode 0600.  During a rotation a second file,
``<key file>.next``, holds the new key; the keyring loads both and picks by key id, so a crash at
any point of a rotation leaves every data key readable (its master key is in one of the files).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.errors import ServiceUnavailable

HEADER = "strongroom-master-key-v1"
_WRAP_AAD = b"strongroom/wrap/v1/"
_MAX_FILE = 4096  # a key file is 90 bytes; never read a huge file into memory


class MasterKeyError(ServiceUnavailable):
    """The master key file is missing, unreadable, too open, malformed or not the right key."""

    slug = "master-key"
    title = "Master key problem"


@dataclass(frozen=True)
class MasterKey:
    """A 256-bit key; ``key_id`` names it without revealing it."""

    secret: bytes

    @property
    def key_id(self) -> str:
        return hmac.new(self.secret, b"strongroom master key id", hashlib.sha256).hexdigest()[:16]

    def wrap(self, data_key: bytes, context: str) -> bytes:
        """Encrypt ``data_key`` for storage; ``context`` (e.g. an account key id) is bound to it."""
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self.secret).encrypt(nonce, data_key, _WRAP_AAD + context.encode())

    def unwrap(self, wrapped: bytes, context: str) -> bytes:
        """Decrypt a wrapped key.  Raises MasterKeyError when it was not wrapped by this key."""
        try:
            return AESGCM(self.secret).decrypt(
                wrapped[:12], wrapped[12:], _WRAP_AAD + context.encode()
            )
        except (InvalidTag, ValueError):
            raise MasterKeyError(
                f"a stored data key ({context}) does not open with master key {self.key_id}"
            ) from None


def generate() -> MasterKey:
    return MasterKey(secrets.token_bytes(32))


def write_key_file(path: Path, key: MasterKey) -> None:
    """Create ``path`` holding ``key``, readable only by its owner; never overwrites a file.

    Raises MasterKeyError if the file already exists or cannot be written.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(f"{HEADER}\n{key.secret.hex()}\n")
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, path)  # atomic, and refuses to replace an existing key
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(path.parent)
    except FileExistsError:
        raise MasterKeyError(f"refusing to overwrite the existing key file {path}") from None
    except OSError as e:
        raise MasterKeyError(f"cannot write master key file {path}: {e}") from None


def read_key_file(path: Path) -> MasterKey:
    """Load a key file.  Raises MasterKeyError if missing, readable by others, or malformed."""
    try:
        with path.open("rb") as f:
            mode = os.fstat(f.fileno()).st_mode  # of the file read, not of a path swapped since
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise MasterKeyError(
                    f"master key file {path} is open to other users "
                    f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
                )
            raw = f.read(_MAX_FILE + 1)
    except FileNotFoundError:
        raise MasterKeyError(f"master key file {path} does not exist") from None
    except OSError as e:
        raise MasterKeyError(f"cannot read master key file {path}: {e}") from None
    try:
        lines = raw.decode("ascii").split()
        if len(raw) > _MAX_FILE or len(lines) != 2 or lines[0] != HEADER or len(lines[1]) != 64:
            raise ValueError("not a key file")
        return MasterKey(bytes.fromhex(lines[1]))
    except ValueError:  # UnicodeDecodeError is one too
        raise MasterKeyError(f"{path} is not a Strongroom master key file") from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Keyring:
    """The master key in use and, during a rotation, the one replacing it.

    ``path`` is the key file; ``<path>.next`` is the incoming key while a rotation runs.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.next_path = path.with_name(path.name + ".next")
        self.keys: dict[str, MasterKey] = {}
        self.current: MasterKey | None = None
        self.incoming: MasterKey | None = None

    def load(self, *, create: bool) -> None:
        """Read the key files; with ``create``, make a new key when there is none at all.

        Raises MasterKeyError when the key file is missing (and ``create`` is false) or bad.
        """
        if create and not self.path.exists() and not self.next_path.exists():
            try:
                write_key_file(self.path, generate())
            except MasterKeyError:
                if not self.path.exists():
                    raise
                # Race: another process created the key at the same moment; use that one.
        self.current = read_key_file(self.path)
        self.incoming = read_key_file(self.next_path) if self.next_path.exists() else None
        self.keys = {self.current.key_id: self.current}
        if self.incoming is not None:
            self.keys[self.incoming.key_id] = self.incoming

    def get(self, key_id: str) -> MasterKey:
        """The key with that id, re-reading the files once if another process rotated keys.

        Raises MasterKeyError if no key file holds it.
        """
        if key_id not in self.keys:
            self.load(create=False)
        try:
            return self.keys[key_id]
        except KeyError:
            raise MasterKeyError(
                f"data was encrypted under master key {key_id}, which is not in {self.path}"
            ) from None

    def writer(self) -> MasterKey:
        """The key new data keys are wrapped with: the incoming key during a rotation."""
        key = self.incoming or self.current
        if key is None:
            raise MasterKeyError(f"no master key loaded from {self.path}")
        return key

    def begin_rotation(self) -> MasterKey:
        """Create ``<path>.next`` (or reuse it, resuming a crashed rotation) and return its key.

        Raises MasterKeyError.
        """
        if not self.next_path.exists():
            try:
                write_key_file(self.next_path, generate())
            except MasterKeyError:
                if not self.next_path.exists():
                    raise
                # Race: another process began the same rotation; use its key.
        self.load(create=False)
        if self.incoming is None:
            raise MasterKeyError(f"{self.next_path} vanished while a rotation began")
        return self.incoming

    def finish_rotation(self) -> MasterKey:
        """Make the incoming key the key file; the old key file is replaced.

        Call only once no stored data key is wrapped by the old key.  Raises MasterKeyError
        when no rotation was begun.
        """
        try:
            os.replace(self.next_path, self.path)
        except FileNotFoundError:
            raise MasterKeyError(
                f"no rotation to finish: {self.next_path} does not exist"
            ) from None
        _fsync_dir(self.path.parent)
        self.load(create=False)
        assert self.current is not None  # load sets it or raises
        return self.current
