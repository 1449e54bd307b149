from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import inspect

from strongroom.blobs.keys import MasterKeyError, generate, write_key_file
from strongroom.runtime import open_runtime
from tests.conftest import make_settings


def test_first_start_creates_folder_database_and_a_private_master_key(tmp_path, db_url):
    data = tmp_path / "fresh" / "data"
    rt = open_runtime(make_settings(data, db_url))
    try:
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        key = data / "master.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        lines = key.read_text().split()
        assert lines[0] == "strongroom-master-key-v1" and len(bytes.fromhex(lines[1])) == 32
        tables = inspect(rt.db.engine).get_table_names()
        assert {"accounts", "devices", "web_sessions", "alembic_version"} <= set(tables)
    finally:
        rt.close()
    open_runtime(make_settings(data, db_url)).close()  # and it starts again


def test_a_missing_master_key_is_a_clear_startup_error(tmp_path, db_url):
    settings = make_settings(tmp_path / "data", db_url)
    open_runtime(settings).close()
    settings.key_file.unlink()
    with pytest.raises(MasterKeyError, match="missing"):
        open_runtime(settings)
    assert not settings.key_file.exists()  # no new key was made to paper over it


def test_a_wrong_master_key_is_a_clear_startup_error(tmp_path, db_url):
    settings = make_settings(tmp_path / "data", db_url)
    open_runtime(settings).close()
    settings.key_file.unlink()
    write_key_file(settings.key_file, generate())
    with pytest.raises(MasterKeyError, match="wrong key file"):
        open_runtime(settings)


def test_a_master_key_readable_by_others_is_refused(tmp_path, db_url):
    settings = make_settings(tmp_path / "data", db_url)
    open_runtime(settings).close()
    os.chmod(settings.key_file, 0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        open_runtime(settings)


def test_key_file_elsewhere(tmp_path, db_url):
    key = tmp_path / "secrets" / "strongroom.key"
    settings = make_settings(tmp_path / "data", db_url, master_key_file=key)
    open_runtime(settings).close()
    assert key.exists() and not (tmp_path / "data" / "master.key").exists()
