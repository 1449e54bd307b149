"""The master key file, wrapping data keys, and the keyring across a rotation (and a crash)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from strongroom.blobs.keys import (
    HEADER,
    Keyring,
    MasterKey,
    MasterKeyError,
    generate,
    read_key_file,
    write_key_file,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_key_file_is_private_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    key = generate()
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        write_key_file(path, key)
    finally:
        os.umask(old_umask)

    assert mode(path) == 0o600
    assert read_key_file(path) == key
    assert sorted(p.name for p in path.parent.iterdir()) == ["master.key"]


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = generate()
    write_key_file(path, first)

    with pytest.raises(MasterKeyError, match="refusing to overwrite"):
        write_key_file(path, generate())

    assert read_key_file(path) == first
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]


@pytest.mark.parametrize("open_mode", [0o640, 0o604, 0o620, 0o660, 0o644, 0o700 | 0o001])
def test_a_key_file_open_to_others_is_refused(tmp_path: Path, open_mode: int) -> None:
    path = tmp_path / "master.key"
    write_key_file(path, generate())
    path.chmod(open_mode)

    with pytest.raises(MasterKeyError, match="chmod 600"):
        read_key_file(path)


def test_a_missing_key_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="does not exist"):
        read_key_file(tmp_path / "nope.key")


VALID = f"{HEADER}\n{'ab' * 32}\n".encode()
MALFORMED = {
    "empty": b"",
    "no header": f"{'ab' * 32}\n".encode(),
    "wrong header": VALID.replace(b"-v1", b"-v9"),
    "short key": VALID.replace(b"abab\n", b"\n"),
    "not hex": VALID.replace(b"ab\n", b"zz\n"),
    "extra line": VALID + b"more\n",
    "binary": bytes(range(256)),
    "huge": VALID + b" " * 10_000_000 + b"x",
}


@pytest.mark.parametrize("content", MALFORMED)
def test_a_malformed_key_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "master.key"
    path.write_bytes(MALFORMED[content])
    path.chmod(0o600)

    with pytest.raises(MasterKeyError, match="not a Strongroom master key file"):
        read_key_file(path)


def test_a_folder_in_place_of_the_key_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "master.key"
    folder.mkdir(mode=0o700)

    with pytest.raises(MasterKeyError):
        read_key_file(folder)


def test_the_valid_form_reads(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_bytes(VALID)
    path.chmod(0o600)

    assert read_key_file(path) == MasterKey(bytes.fromhex("ab" * 32))


def test_wrapped_keys_open_only_with_the_same_key_and_context() -> None:
    master, other = generate(), generate()
    data_key = os.urandom(32)

    wrapped = master.wrap(data_key, "account-1")

    assert master.unwrap(wrapped, "account-1") == data_key
    assert data_key not in wrapped
    assert master.wrap(data_key, "account-1") != wrapped  # a fresh nonce each time
    for bad in [
        lambda: master.unwrap(wrapped, "account-2"),
        lambda: other.unwrap(wrapped, "account-1"),
        lambda: master.unwrap(wrapped[:-1], "account-1"),
        lambda: master.unwrap(wrapped[:5], "account-1"),
        lambda: master.unwrap(bytes([wrapped[0] ^ 1]) + wrapped[1:], "account-1"),
    ]:
        with pytest.raises(MasterKeyError):
            bad()


def test_key_ids_name_keys_without_revealing_them() -> None:
    a, b = generate(), generate()

    assert a.key_id == MasterKey(a.secret).key_id
    assert a.key_id != b.key_id
    assert a.secret.hex()[:16] != a.key_id


def test_keyring_creates_a_key_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    with pytest.raises(MasterKeyError, match="does not exist"):
        Keyring(path).load(create=False)

    ring = Keyring(path)
    ring.load(create=True)

    assert ring.current == read_key_file(path)
    assert ring.writer() == ring.current and ring.incoming is None
    again = Keyring(path)
    again.load(create=True)
    assert again.current == ring.current


def test_rotation_moves_to_a_new_key_and_retires_the_old(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "master.key")
    ring.load(create=True)
    old = ring.current
    assert old is not None
    wrapped = old.wrap(b"k" * 32, "acct")

    new = ring.begin_rotation()

    assert mode(ring.next_path) == 0o600
    assert new != old and ring.writer() == new
    assert ring.get(old.key_id) == old and ring.get(new.key_id) == new
    rewrapped = new.wrap(ring.get(old.key_id).unwrap(wrapped, "acct"), "acct")

    assert ring.finish_rotation() == new

    assert read_key_file(ring.path) == new and not ring.next_path.exists()
    assert ring.get(new.key_id).unwrap(rewrapped, "acct") == b"k" * 32
    with pytest.raises(MasterKeyError, match="not in"):
        ring.get(old.key_id)


def test_a_rotation_resumes_after_a_crash_with_the_same_incoming_key(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    before = Keyring(path)
    before.load(create=True)
    incoming = before.begin_rotation()
    # The process dies here, with <key>.next written and nothing finished.

    after = Keyring(path)
    after.load(create=False)

    assert after.current == before.current and after.incoming == incoming
    assert after.writer() == incoming
    assert after.begin_rotation() == incoming  # resumed, not restarted with another key
    assert after.finish_rotation() == incoming


def test_a_keyring_finds_a_key_another_process_rotated_to(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    stale = Keyring(path)
    stale.load(create=True)
    rotator = Keyring(path)
    rotator.load(create=False)
    new = rotator.begin_rotation()
    rotator.finish_rotation()

    assert stale.get(new.key_id) == new


def test_finishing_a_rotation_that_never_began_is_refused(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "master.key")
    ring.load(create=True)
    current = ring.current

    with pytest.raises(MasterKeyError, match="no rotation to finish"):
        ring.finish_rotation()

    assert read_key_file(ring.path) == current
