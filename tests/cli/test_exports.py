"""``strongroom export`` and ``strongroom stats``, run as the real command."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from strongroom.formats.sbr_xml import SbrXmlReader
from strongroom.messages.models import Conversation
from strongroom.messages.records import InlineContent, MessageRecord, PartRecord
from strongroom.runtime import open_runtime
from tests.cli.helpers import cli_env, run_cli
from tests.conftest import make_settings
from tests.factories import store_call, store_records, vault_user
from tests.formats.builders import PNG, essence, read_all

ALICE, BOB = "+15550100001", "+15550100002"
T0 = 1_706_700_000_000  # 2024-01-31T11:20:00Z


def kept(record: MessageRecord):
    """What an SBR round trip keeps of a message from elsewhere (the format adds a text part
    carrying an MMS body)."""
    return essence(record)[:-1] + ([p for p in essence(record)[-1] if p[0] != "text/plain"],)


def records() -> list[MessageRecord]:
    return [
        MessageRecord("sms", "in", T0 - 86_400_000, "yesterday", ALICE, [ALICE], read=False),
        MessageRecord("sms", "out", T0, "today", None, [ALICE], status="sent"),
        MessageRecord(
            "mms",
            "in",
            T0 + 86_400_000,
            "tomorrow, with a picture",
            BOB,
            [BOB],
            parts=[PartRecord("image/png", InlineContent(PNG), "pic.png")],
        ),
    ]


@pytest.fixture
def filled(tmp_path, db_url):
    """An installation where alice has three messages and a call, and bob one message."""
    rt = open_runtime(make_settings(tmp_path / "data", db_url))
    try:
        alice = vault_user(rt, "alice")
        store_records(rt, alice, records())
        store_call(rt, alice, ALICE, T0 + 5000, duration_s=42)
        bob = vault_user(rt, "bob")
        store_records(rt, bob, [MessageRecord("sms", "in", T0, "bob's", ALICE, [ALICE])])
        with rt.db.read() as s:
            ids = {
                owner: s.scalar(select(Conversation.id).where(Conversation.account_id == owner))
                for owner in (alice, bob)
            }
    finally:
        rt.close()
    return cli_env(tmp_path / "data", db_url), ids[bob]


def test_sbr_xml_export_reads_back_as_the_same_messages_and_calls(filled, tmp_path):
    env, _ = filled
    out = tmp_path / "sms-backup.xml"
    r = run_cli("export", "--user", "alice", "--format", "sbr-xml", "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr
    calls = tmp_path / "calls-backup.xml"
    assert r.stdout.strip() == f"exported 3 messages and 1 calls to {out} and {calls}"
    again = read_all(SbrXmlReader(), out)
    assert sorted(map(kept, again.messages)) == sorted(map(kept, records()))
    [call] = read_all(SbrXmlReader(), calls).calls
    assert (call.number, call.duration_s, call.date_ms) == (ALICE, 42, T0 + 5000)


def test_html_export_is_a_folder(filled, tmp_path):
    env, _ = filled
    out = tmp_path / "pages"
    r = run_cli("export", "--user", "alice", "--format", "html", "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr
    assert (out / "index.html").is_file() and (out / "calls.html").is_file()
    assert [p.read_bytes() for p in (out / "attachments").rglob("*.png")] == [PNG]


def test_date_range_and_conversation_filters(filled, tmp_path):
    env, bobs_conversation = filled
    out = tmp_path / "range.json"
    r = run_cli(
        "export", "--user", "alice", "--format", "json", "--out", str(out),
        "--since", "2024-01-31", "--until", "2024-01-31", env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_bytes())
    assert [m["body"] for m in doc["messages"]] == ["today"]
    assert [c["duration_s"] for c in doc["calls"]] == [42]
    mine = tmp_path / "bob.txt"
    r = run_cli(
        "export", "--user", "bob", "--format", "txt", "--out", str(mine),
        "--conversation", str(bobs_conversation), env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "bob's" in mine.read_text() and "today" not in mine.read_text()


def test_stats_as_json_and_as_a_table(filled):
    env, _ = filled
    r = run_cli("stats", "--user", "alice", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "messages": 3,
        "conversations": 2,
        "attachments": 1,
        "calls": 1,
        "files": 0,
        "bytes_used": len(PNG),
        "quota_bytes": 50 * 1000**3,
    }
    r = run_cli("stats", "--user", "alice", env=env)
    assert r.returncode == 0 and "messages" in r.stdout and "50.0 GB" in r.stdout, r.stdout


def test_errors_are_one_line_and_non_zero(filled, tmp_path):
    env, bobs_conversation = filled
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    out = str(tmp_path / "x.txt")
    for args, expected in [
        (("--user", "nobody", "--format", "txt", "--out", out), "no account 'nobody'"),
        (("--user", "alice", "--format", "pdf", "--out", out), "no export format 'pdf'"),
        (("--user", "alice", "--format", "txt", "--out", out, "--since", "May"), "--since: 'May'"),
        (
            (
                "--user",
                "alice",
                "--format",
                "txt",
                "--out",
                out,
                "--conversation",
                str(bobs_conversation),
            ),
            "no such conversation",
        ),
        (
            ("--user", "alice", "--format", "txt", "--out", out, "--conversation", "x1"),
            "no conversation",
        ),
        (
            ("--user", "alice", "--format", "html", "--out", str(tmp_path / "full")),
            "not an empty folder",
        ),
        (
            ("--user", "alice", "--format", "csv", "--out", str(tmp_path / "no" / "x.csv")),
            "cannot write",
        ),
    ]:
        r = run_cli("export", *args, env=env)
        assert r.returncode != 0, args
        assert "Traceback" not in r.stderr
        assert r.stderr.count("\n") == 1 and expected in r.stderr, r.stderr
    assert not (tmp_path / "x.txt").exists()
    r = run_cli("stats", "--user", "nobody", env=env)
    assert r.returncode == 4 and r.stderr.count("\n") == 1


def test_the_commands_name_every_export_format_without_importing_them() -> None:
    from strongroom.cli.exports import FORMAT_NAMES
    from strongroom.formats.exports import FORMATS

    assert list(FORMAT_NAMES) == list(FORMATS)


def test_the_command_line_starts_without_the_server_side() -> None:
    import subprocess
    import sys

    code = (
        "import sys, strongroom.cli; "
        "print(sorted(m for m in ('sqlalchemy', 'fastapi', 'lxml', 'strongroom.runtime') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # a backup run pays only for what it uses
