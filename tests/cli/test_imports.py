"""``strongroom import``, run as the real command, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from strongroom.accounts.models import Account
from strongroom.messages.models import Call, Message, MessagePart
from strongroom.runtime import open_runtime
from tests.cli.helpers import cli_env, run_cli
from tests.conftest import make_settings
from tests.factories import make_user, vault_user
from tests.formats.backup_fixtures import BACKUP_PASSWORD, message_backup
from tests.formats.builders import PNG, call, calls, mms, part, sms, smses, write

T0 = 1_700_000_000_000
OWNER = "+15550100099"
COUNTS = ("imported", "duplicates", "skipped", "problems")


@pytest.fixture
def install(tmp_path, db_url):
    """An installation with alice (messages on, her own number known) and bob (messages off);
    the command's environment."""
    rt = open_runtime(make_settings(tmp_path / "data", db_url))
    try:
        vault_user(rt, "alice", phone_numbers=[OWNER])
        make_user(rt, "bob")
    finally:
        rt.close()
    return cli_env(tmp_path / "data", db_url)


def stored(env: dict[str, str], user: str = "alice") -> dict[str, object]:
    """What the vault holds for ``user``: message bodies, calls, pictures, messages switch."""
    rt = open_runtime(make_settings(Path(env["STRONGROOM_DATA"]), env["STRONGROOM_DATABASE_URL"]))
    try:
        with rt.db.read() as s:
            account = s.scalar(select(Account).where(Account.username == user))
            assert account is not None
            owned = Message.account_id == account.id
            return {
                "bodies": sorted(s.scalars(select(Message.body).where(owned))),
                "calls": s.scalar(select(func.count(Call.id)).where(Call.account_id == account.id)),
                "pictures": s.scalar(
                    select(func.count(MessagePart.id)).where(
                        MessagePart.account_id == account.id,
                        MessagePart.content_type.startswith("image/"),
                    )
                ),
                "messages_enabled": account.messages_enabled,
            }
    finally:
        rt.close()


def sbr_files(folder: Path) -> list[str]:
    """An SMS Backup & Restore pair: three SMS and an MMS with a picture, and two calls."""
    picture = base64.b64encode(PNG).decode()
    texts = [
        sms(body=f"message {i}", date=str(T0 + i * 1000), type=str(1 + i % 2)) for i in range(3)
    ]
    with_picture = mms(
        [part(ct="image/png", name="cat.png", text="null", data=picture), part(text="a cat")],
        [("+15550100001", 137), (OWNER, 151)],
        date=str(T0 + 9000),
    )
    messages = write(folder / "sms-20240131.xml", smses(*texts, with_picture))
    call_log = write(
        folder / "calls-20240131.xml",
        calls(
            call(number="+15550100001", date=str(T0), type="1", duration="61"),
            call(number="+15550100002", date=str(T0 + 60_000), type="3", duration="0"),
        ),
    )
    return [str(messages), str(call_log)]


def expect_clean_failure(r, *names: str) -> None:
    """A refused import: non-zero exit, one error line naming what failed, no traceback."""
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert "strongroom: error:" in r.stderr
    for name in names:
        assert name in r.stderr


def test_import_prints_the_counts_and_stores_messages_and_calls(install, tmp_path):
    r = run_cli("import", *sbr_files(tmp_path), "--user", "alice", env=install)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "imported 6, duplicates 0, skipped 0, problems 0"
    assert "(4 messages, 2 calls, 2 attachment parts, 0 reactions read)" in r.stdout
    assert stored(install) == {
        "bodies": ["a cat", "message 0", "message 1", "message 2"],
        "calls": 2,
        "pictures": 1,
        "messages_enabled": True,
    }


def test_json_holds_one_object_and_a_second_run_finds_only_duplicates(install, tmp_path):
    files = sbr_files(tmp_path)
    first = run_cli("import", *files, "--user", "alice", "--json", env=install)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)  # the whole of stdout: one JSON document, nothing else
    assert isinstance(report, dict)
    assert {k: report[k] for k in COUNTS} == {
        "imported": 6,
        "duplicates": 0,
        "skipped": 0,
        "problems": 0,
    }
    assert (report["messages"], report["calls"], report["failed"]) == (4, 2, [])
    assert report["files"] == ["sms-20240131.xml", "calls-20240131.xml"]

    again = run_cli("import", *files, "--user", "alice", "--json", env=install)
    assert again.returncode == 0, again.stderr
    assert {k: json.loads(again.stdout)[k] for k in COUNTS} == {
        "imported": 0,
        "duplicates": 6,
        "skipped": 0,
        "problems": 0,
    }
    stats = run_cli("stats", "--user", "alice", "--json", env=install)
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    assert (figures["messages"], figures["calls"], figures["conversations"]) == (4, 2, 1)
    assert figures["attachments"] == 1


def test_an_import_into_an_account_with_messages_off_turns_them_on(install, tmp_path):
    [messages, _] = sbr_files(tmp_path)
    r = run_cli("import", messages, "--user", "bob", "--json", env=install)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["turned_on"] is True and report["imported"] == 4
    assert stored(install, "bob")["messages_enabled"] is True
    assert stored(install, "alice")["bodies"] == []


def encrypted_backup(tmp_path: Path) -> Path:
    """A Finder/iTunes backup folder, encrypted with BACKUP_PASSWORD: two messages, a picture."""
    return message_backup(tmp_path / "iPhone backup").finish()


def test_an_encrypted_iphone_backup_imports_with_its_password_from_stdin(install, tmp_path):
    folder = str(encrypted_backup(tmp_path))
    args = ("import", folder, "--user", "alice", "--password-stdin", "--json")
    r = run_cli(*args, env=install, stdin=BACKUP_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert (report["imported"], report["parts"], report["failed"]) == (2, 1, [])
    assert stored(install)["bodies"] == ["look", "see you at 8"]
    assert stored(install)["pictures"] == 1


def test_a_wrong_or_missing_backup_password_is_refused_and_stores_nothing(install, tmp_path):
    folder = str(encrypted_backup(tmp_path))
    wrong = run_cli(
        "import", folder, "--user", "alice", "--password-stdin", env=install, stdin="guess\n"
    )
    expect_clean_failure(wrong, "iPhone backup", "wrong password")
    assert wrong.returncode == 2
    missing = run_cli("import", folder, "--user", "alice", env=install)
    expect_clean_failure(missing, "iPhone backup", "give its password")
    assert stored(install) == {
        "bodies": [],
        "calls": 0,
        "pictures": 0,
        "messages_enabled": True,
    }


@pytest.mark.parametrize("format_name", ["auto", "sbr-xml"])
def test_random_bytes_named_xml_are_refused_naming_the_file(install, tmp_path, format_name):
    [messages, _] = sbr_files(tmp_path)
    assert run_cli("import", messages, "--user", "alice", env=install).returncode == 0
    before = stored(install)
    noise = tmp_path / "sms-noise.xml"
    noise.write_bytes(hashlib.sha512(b"noise").digest() * 64)
    r = run_cli("import", str(noise), "--user", "alice", "--format", format_name, env=install)
    expect_clean_failure(r, "sms-noise.xml")
    assert r.returncode == 2
    assert stored(install) == before


def test_with_json_a_file_that_cannot_be_read_is_named_on_stderr_too(install, tmp_path):
    noise = tmp_path / "sms-noise.xml"
    noise.write_bytes(hashlib.sha512(b"noise").digest() * 64)
    args = ("import", str(noise), "--user", "alice", "--format", "sbr-xml", "--json")
    r = run_cli(*args, env=install)
    expect_clean_failure(r, "sms-noise.xml")
    assert [f["file"] for f in json.loads(r.stdout)["failed"]] == ["sms-noise.xml"]


def test_an_unknown_user_is_a_clear_error(install, tmp_path):
    [messages, _] = sbr_files(tmp_path)
    r = run_cli("import", messages, "--user", "nobody", env=install)
    expect_clean_failure(r)
    assert r.returncode == 4
    assert r.stderr == "strongroom: error: no account 'nobody'\n"
    assert r.stdout == ""


def test_an_unknown_format_name_is_refused_before_anything_is_read(install, tmp_path):
    [messages, _] = sbr_files(tmp_path)
    r = run_cli("import", messages, "--user", "alice", "--format", "whatsapp", env=install)
    expect_clean_failure(r, "whatsapp", "sbr-xml")
    assert r.returncode == 2
    assert stored(install)["bodies"] == []
