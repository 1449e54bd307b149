from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.config import load_settings
from strongroom.errors import InvalidInput


def test_defaults_derive_from_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.data == Path("data")
    assert s.database_url == "sqlite:///data/strongroom.db"
    assert s.blobs == f"file://{tmp_path / 'data' / 'blobs'}"
    assert s.key_file == Path("data/master.key")
    assert (s.host, s.port) == ("127.0.0.1", 8750)
    assert s.open_signup is True


def test_environment_beats_the_toml_file_and_flags_beat_both(monkeypatch, tmp_path):
    toml = tmp_path / "strongroom.toml"
    toml.write_text('port = 9000\nhost = "0.0.0.0"\ndefault_region = "GB"\n')
    monkeypatch.setenv("STRONGROOM_CONFIG", str(toml))
    monkeypatch.setenv("STRONGROOM_PORT", "9100")
    s = load_settings()
    assert (s.host, s.port, s.default_region) == ("0.0.0.0", 9100, "GB")
    assert load_settings(port=9200).port == 9200


def test_s3_blobs_and_postgres_url_from_environment(monkeypatch):
    monkeypatch.setenv("STRONGROOM_BLOBS", "s3://vault/prod")
    monkeypatch.setenv("STRONGROOM_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("STRONGROOM_DATABASE_URL", "postgresql://sr@db/strongroom")
    s = load_settings()
    assert s.blobs == "s3://vault/prod" and s.s3_endpoint_url == "http://127.0.0.1:9000"
    assert s.database_url == "postgresql://sr@db/strongroom"


@pytest.mark.parametrize(
    ("content", "message"),
    [("port = ", "not valid TOML"), ("colour = 'red'", "unknown setting"), ("port = -1", "port")],
)
def test_bad_config_files_give_clear_errors(monkeypatch, tmp_path, content, message):
    toml = tmp_path / "bad.toml"
    toml.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        load_settings(config=toml)


def test_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        load_settings(config=tmp_path / "nope.toml")


def test_settings_are_frozen():
    s = load_settings()
    with pytest.raises(Exception, match="frozen"):
        s.port = 1  # type: ignore[misc]
