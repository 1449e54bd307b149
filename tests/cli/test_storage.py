from __future__ import annotations

import os

from strongroom.accounts import keys
from strongroom.blobs.local import LocalBlobStore
from strongroom.runtime import open_runtime
from tests.cli.helpers import cli_env, run_cli
from tests.conftest import make_settings
from tests.factories import make_user


def _open(tmp_path, db_url):
    """A new installation with one user: its settings, runtime, account id and vault."""
    settings = make_settings(tmp_path / "data", db_url)
    rt = open_runtime(settings)
    account = make_user(rt)
    with rt.db.read() as s:
        vault = keys.vault_for(s, rt.store, rt.keyring, account)
    return settings, rt, account, vault


def _setup(tmp_path, db_url):
    settings, rt, _, vault = _open(tmp_path, db_url)
    names = [vault.name_of(vault.put(bytes([i]) * (1500 * 1024)).blob_id) for i in range(3)]
    rt.close()
    return settings, names


def test_verify_passes_on_a_healthy_store(tmp_path, db_url):
    settings, names = _setup(tmp_path, db_url)
    r = run_cli("verify", "--read-data", env=cli_env(settings.data, db_url))
    assert r.returncode == 0, r.stderr
    assert "3 blobs" in r.stdout and "0 missing, 0 corrupt" in r.stdout


def test_verify_names_corrupt_and_truncated_blobs_and_exits_non_zero(tmp_path, db_url):
    settings, names = _setup(tmp_path, db_url)
    store = LocalBlobStore(tmp_path / "data" / "blobs")
    flipped = store.path_of(names[0])
    raw = bytearray(flipped.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    flipped.write_bytes(bytes(raw))
    cut = store.path_of(names[1])
    cut.write_bytes(cut.read_bytes()[: 1024 * 1024 + 36])
    r = run_cli("verify", "--read-data", env=cli_env(settings.data, db_url))
    assert r.returncode == 1
    assert f"CORRUPT  {names[0]}" in r.stderr and f"CORRUPT  {names[1]}" in r.stderr
    assert names[2] not in r.stderr
    assert "Traceback" not in r.stderr


def test_keys_rotate_on_the_command_line(tmp_path, db_url):
    settings, names = _setup(tmp_path, db_url)
    before = settings.key_file.read_text()
    env = cli_env(settings.data, db_url)
    r = run_cli("keys", "rotate", env=env)
    assert r.returncode == 0, r.stderr
    assert "1 data keys rewrapped" in r.stdout
    assert settings.key_file.read_text() != before
    assert run_cli("verify", "--read-data", env=env).returncode == 0


def test_cancel_reactivate_and_set_quota(tmp_path, db_url):
    settings, _ = _setup(tmp_path, db_url)
    env = cli_env(settings.data, db_url)
    r = run_cli("user", "cancel", "alice", env=env)
    assert r.returncode == 0 and "kept until" in r.stdout, r.stderr
    assert run_cli("user", "cancel", "alice", env=env).returncode == 5
    r = run_cli("user", "reactivate", "alice", env=env)
    assert r.returncode == 0 and "reactivated alice" in r.stdout
    r = run_cli("user", "set-quota", "alice", "2TiB", env=env)
    assert r.returncode == 0 and "2.2 TB" in r.stdout
    r = run_cli("user", "set-quota", "alice", "lots", env=env)
    assert r.returncode == 2 and "not a size" in r.stderr
    assert run_cli("user", "cancel", "nobody", env=env).returncode == 4


def test_verify_reads_every_chunk_of_a_pack_and_names_the_damaged_pack(tmp_path, db_url):
    from strongroom.content import store as content

    settings, rt, account, vault = _open(tmp_path, db_url)
    staged = content.stage_many(
        rt.db, vault, account, rt.clock, [bytes([i]) * 40_000 + os.urandom(9) for i in range(5)]
    )
    with rt.db.write() as s:
        for one in staged:
            content.commit(s, account, one, rt.clock.now_ms())
        chunks = content.chunk_list(s, content.find(s, account, staged[3].sha256, 40_009) or 0)
    rt.close()
    at = chunks[0].at
    assert at is not None
    pack = vault.name_of(at.pack_id)
    env = cli_env(settings.data, db_url)
    r = run_cli("verify", "--read-data", env=env)
    assert r.returncode == 0, r.stderr
    assert "1 blobs" in r.stdout and "0 missing, 0 corrupt" in r.stdout

    path = LocalBlobStore(tmp_path / "data" / "blobs").path_of(pack)
    raw = bytearray(path.read_bytes())
    raw[at.offset + at.stored_size - 20] ^= 0x01  # inside the 4th content's chunk
    path.write_bytes(bytes(raw))
    r = run_cli("verify", "--read-data", env=env)
    assert r.returncode == 1 and f"CORRUPT  {pack}" in r.stderr, r.stderr
    assert run_cli("verify", env=env).returncode == 0  # without --read-data: sizes only
    path.unlink()
    r = run_cli("verify", env=env)
    assert r.returncode == 1 and pack in r.stderr and "Traceback" not in r.stderr
