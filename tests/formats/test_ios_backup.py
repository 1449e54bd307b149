from __future__ import annotations

import plistlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iphone_backup_decrypt import EncryptedBackup

from strongroom.formats.backup_files import WrongBackupPassword, load_manifest_plist
from strongroom.formats.base import BadInput, ReadOptions
from strongroom.formats.ios_backup import IosBackupReader
from strongroom.messages.records import FileContent, MessageRecord, Problem, Record
from tests.formats.apple_fixtures import MessagesDb
from tests.formats.backup_fixtures import (
    BACKUP_PASSWORD,
    PICTURE,
    Backup,
    file_id,
    message_backup,
    sms_db,
)

PASSWORD = BACKUP_PASSWORD


def backup(tmp_path: Path, password: str | None = None, *, picture: bool = True) -> Backup:
    made = message_backup(tmp_path / "backup", password, picture=picture)
    made.add("HomeDomain", "Library/Preferences/other.plist", b"noise")
    return made


def read(folder: Path, password: str | None = None, scratch: Path | None = None) -> list[Record]:
    options = ReadOptions(password=password, scratch=scratch)
    return list(IosBackupReader().read(folder, options))


def messages(records: list[Record]) -> list[MessageRecord]:
    return [r for r in records if isinstance(r, MessageRecord)]


def problems(records: list[Record]) -> list[str]:
    return [r.message for r in records if isinstance(r, Problem)]


def test_plain_backup_gives_messages_and_attachments_through_the_manifest(tmp_path: Path) -> None:
    folder = backup(tmp_path).finish()
    records = read(folder)
    text, picture = messages(records)
    assert text.body == "see you at 8" and text.source == "ios-backup"
    assert picture.body == "look"
    (part,) = picture.parts
    assert (part.content.read(), part.content_type, part.filename) == (
        b"\xff\xd8 a jpeg",
        "image/jpeg",
        "IMG_0001.JPG",
    )
    assert isinstance(part.content, FileContent) and not part.content.owned
    assert problems(records) == []


def test_encrypted_backup_with_the_right_password(tmp_path: Path) -> None:
    folder = backup(tmp_path, PASSWORD).finish()
    assert not (folder / "Manifest.db").read_bytes().startswith(b"SQLite format 3")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    records = read(folder, PASSWORD, scratch)
    text, picture = messages(records)
    assert text.body == "see you at 8"
    (part,) = picture.parts
    assert part.content.read() == b"\xff\xd8 a jpeg"
    assert isinstance(part.content, FileContent) and part.content.owned
    part.content.discard()
    assert list(scratch.iterdir()) == []  # decrypted manifest and sms.db are gone too


def test_the_encrypted_fixture_is_what_iphone_backup_decrypt_reads(tmp_path: Path) -> None:
    folder = backup(tmp_path, PASSWORD).finish()
    library = EncryptedBackup(backup_directory=str(folder), passphrase=PASSWORD)
    picture = library.extract_file_as_bytes(PICTURE, domain_like="MediaDomain")
    assert picture == b"\xff\xd8 a jpeg"
    assert library.extract_file_as_bytes("Library/SMS/sms.db") == (tmp_path / "sms.db").read_bytes()


def test_absurd_key_derivation_counts_are_refused_before_deriving(tmp_path: Path) -> None:
    made = backup(tmp_path, PASSWORD)
    assert made.keybag is not None
    made.keybag.claimed_dpic = 2_000_000_000  # would take hours of PBKDF2
    folder = made.finish()
    with pytest.raises(BadInput, match=r"Manifest\.plist: .*DPIC"):
        read(folder, PASSWORD)


@pytest.mark.parametrize(("password", "said"), [("wrong", "wrong password"), (None, "give")])
def test_encrypted_backup_without_the_right_password_is_refused(
    tmp_path: Path, password: str | None, said: str
) -> None:
    folder = backup(tmp_path, PASSWORD).finish()
    with pytest.raises(WrongBackupPassword, match=said) as info:
        read(folder, password)
    assert "backup" in str(info.value)


@pytest.mark.parametrize("password", [None, PASSWORD])
def test_missing_attachment_files_are_problems(tmp_path: Path, password: str | None) -> None:
    made = backup(tmp_path, password, picture=False)
    made.list_only("MediaDomain", PICTURE)  # listed, but its file was never copied
    records = read(made.finish(), password)
    assert [m.body for m in messages(records)] == ["see you at 8", "look"]
    assert messages(records)[1].parts == []
    assert any("attachment file missing" in p for p in problems(records))


def test_attachment_not_in_the_manifest_is_a_problem_not_a_guess(tmp_path: Path) -> None:
    made = backup(tmp_path, picture=False)
    folder = made.finish()
    # The file is where a guess would look, but the manifest does not list it.
    fid = file_id("MediaDomain", PICTURE)
    guessed = folder / fid[:2] / fid
    guessed.parent.mkdir(exist_ok=True)
    guessed.write_bytes(b"guess")
    records = read(folder)
    assert messages(records)[1].parts == []
    assert any("IMG_0001.JPG" in p for p in problems(records))


def test_manifest_names_leaving_the_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret"
    outside.write_bytes(b"not yours")
    made = backup(tmp_path, picture=False)
    made.add("MediaDomain", PICTURE, b"ignored", fid="../secret")
    records = read(made.finish())
    assert messages(records)[1].parts == []
    assert any("file id '../secret' refused" in p for p in problems(records))


def test_traversal_in_an_attachment_path_is_refused(tmp_path: Path) -> None:
    db = MessagesDb(tmp_path / "sms.db")
    row = db.message(db.chat([db.handle("+15550100001")]), text="\ufffc", handle_id=1)
    db.attachment(row, "~/Library/SMS/Attachments/../../../Manifest.plist", "text/plain")
    db.close()
    made = Backup(tmp_path / "backup")
    made.add_file("HomeDomain", "Library/SMS/sms.db", db.path)
    records = read(made.finish())
    assert any("contains '..'" in p for p in problems(records))


def test_backup_without_messages_is_bad_input(tmp_path: Path) -> None:
    made = Backup(tmp_path / "backup")
    made.add("HomeDomain", "Library/Preferences/x.plist", b"x")
    with pytest.raises(BadInput, match=r"backup/Manifest\.db: the backup holds no messages"):
        read(made.finish())


def test_rows_in_the_backups_sms_db_wal_are_read(tmp_path: Path) -> None:
    path = sms_db(tmp_path)
    live = sqlite3.connect(path, isolation_level=None)  # noqa: TID251 - a foreign file
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("PRAGMA wal_autocheckpoint=0")
    live.execute("INSERT INTO message (guid, text, handle_id, date) VALUES ('W', 'late', 1, 1)")
    made = Backup(tmp_path / "backup")
    made.add_file("HomeDomain", "Library/SMS/sms.db", path)
    made.add_file("HomeDomain", "Library/SMS/sms.db-wal", path.with_name("sms.db-wal"))
    live.close()
    assert [m.body for m in messages(read(made.finish()))][-1] == "late"


def test_sniff_and_refusal_of_other_folders(tmp_path: Path) -> None:
    folder = backup(tmp_path).finish()
    assert IosBackupReader().sniff(folder)
    other = tmp_path / "photos"
    other.mkdir()
    assert not IosBackupReader().sniff(other)
    with pytest.raises(BadInput, match="not an iPhone backup"):
        read(other)


def test_a_damaged_manifest_plist_is_bad_input(tmp_path: Path) -> None:
    folder = backup(tmp_path).finish()
    (folder / "Manifest.plist").write_bytes(b"bplist00 broken")
    with pytest.raises(BadInput, match=r"Manifest\.plist"):
        read(folder)


def test_the_users_backup_folder_is_not_changed(tmp_path: Path) -> None:
    folder = backup(tmp_path, PASSWORD).finish()
    pristine = tmp_path / "pristine"
    shutil.copytree(folder, pristine)
    read(folder, PASSWORD)
    names = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert names == sorted(p.relative_to(pristine) for p in pristine.rglob("*"))
    for name in names:
        if (folder / name).is_file():
            assert (folder / name).read_bytes() == (pristine / name).read_bytes()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_damaged_manifests_give_records_or_bad_input(tmp_path: Path, data: st.DataObject) -> None:
    pristine = tmp_path / "pristine"
    if not pristine.exists():
        backup(tmp_path).finish().rename(pristine)
    folder = tmp_path / "fuzzed"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(pristine, folder)
    victim = folder / data.draw(st.sampled_from(["Manifest.db", "Manifest.plist"]))
    raw = bytearray(victim.read_bytes())
    for _ in range(data.draw(st.integers(1, 12))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    victim.write_bytes(bytes(raw[: data.draw(st.integers(len(raw) // 2, len(raw)))]))
    try:
        records = read(folder)
    except BadInput as e:
        assert "fuzzed" in str(e) or "sms.db" in str(e)
    else:
        assert all(isinstance(r, Record.__args__) for r in records)  # type: ignore[attr-defined]


def test_a_damaged_xml_manifest_plist_is_bad_input(tmp_path: Path) -> None:
    raw = bytearray(plistlib.dumps({"IsEncrypted": False}, fmt=plistlib.FMT_XML))
    raw[8] = 0  # not well-formed: the XML parser's own error, which plistlib lets through
    (tmp_path / "Manifest.plist").write_bytes(raw)
    with pytest.raises(BadInput, match="Manifest.plist: not a readable property list"):
        load_manifest_plist(tmp_path)
