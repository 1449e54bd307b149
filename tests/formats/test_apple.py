from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.formats import READERS, BadInput, detect
from strongroom.formats.apple import APPLE_READERS
from tests.formats.apple_fixtures import MessagesDb
from tests.formats.backup_fixtures import Backup


def test_apple_readers_are_registered_under_their_names() -> None:
    assert set(APPLE_READERS) == {"ios-backup", "messages-db"}
    assert all(READERS[name] is reader for name, reader in APPLE_READERS.items())
    assert all(reader.name == name for name, reader in APPLE_READERS.items())


def test_detect_tells_a_backup_folder_from_a_messages_database(tmp_path: Path) -> None:
    db = MessagesDb(tmp_path / "chat.db")
    db.close()
    made = Backup(tmp_path / "backup")
    made.add_file("HomeDomain", "Library/SMS/sms.db", db.path)
    assert detect(made.finish()).name == "ios-backup"
    assert detect(db.path).name == "messages-db"


def test_detect_refuses_what_no_reader_knows(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(BadInput, match=r"notes\.txt: not a format"):
        detect(path)
