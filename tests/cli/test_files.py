"""`strongroom files` and `strongroom share` as a user runs them, against a real server."""

from __future__ import annotations

import json
import os

import httpx

from tests.cli.helpers import cli_env, run_cli
from tests.factories import PASSWORD, make_user


def _env(tmp_path, db_url, server):
    env = cli_env(
        tmp_path / "clientdata",
        db_url,
        STRONGROOM_CLIENT_DIR=str(tmp_path / "client"),
        STRONGROOM_SERVER=server.url,
    )
    env.pop("PYTHONWARNINGS")
    return env


def test_put_ls_get_and_a_second_run_sends_nothing(runtime, server, tmp_path, db_url):
    make_user(runtime)
    env = _env(tmp_path, db_url, server)
    src = tmp_path / "Pictures"
    (src / "2024").mkdir(parents=True)
    data = {"a.jpg": os.urandom(300_000), "2024/b.jpg": os.urandom(1_500_000), "c.txt": b"hi"}
    for name, content in data.items():
        (src / name).write_bytes(content)
    (src / "dup.jpg").write_bytes(data["a.jpg"])
    r = run_cli(
        "files",
        "put",
        str(src),
        "--user",
        "alice",
        "--folder",
        "Backup",
        "--password-stdin",
        "--json",
        env=env,
        stdin=PASSWORD + "\n",
    )
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout)
    assert first["files"] == 4 and first["failed"] == []
    assert first["uploaded"] + first["by_hash"] == 4
    r = run_cli(
        "files", "put", str(src), "--user", "alice", "--folder", "Backup", "--json", env=env
    )
    second = json.loads(r.stdout)
    assert second["unchanged"] == 4 and second["sent_bytes"] == 0
    r = run_cli("files", "ls", "Backup/Pictures/2024", "--user", "alice", "--json", env=env)
    assert [f["name"] for f in json.loads(r.stdout)["files"]] == ["b.jpg"]
    out = tmp_path / "restored.jpg"
    r = run_cli(
        "files", "get", "Backup/Pictures/2024/b.jpg", "--user", "alice", "--out", str(out), env=env
    )
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == data["2024/b.jpg"]
    r = run_cli("share", "create", "--user", "alice", "--folder", "Backup/Pictures", env=env)
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip()
    page = httpx.get(url)
    assert page.status_code == 200 and "b.jpg" in page.text


def test_wrong_password_and_missing_files_are_one_line_errors(runtime, server, tmp_path, db_url):
    make_user(runtime)
    env = _env(tmp_path, db_url, server)
    (tmp_path / "x.txt").write_text("x")
    r = run_cli(
        "files",
        "put",
        str(tmp_path / "x.txt"),
        "--user",
        "alice",
        "--password-stdin",
        env=env,
        stdin="not the password\n",
    )
    assert r.returncode != 0 and "Traceback" not in r.stderr and "password" in r.stderr.lower()
    r = run_cli("files", "put", str(tmp_path / "nope"), "--user", "alice", env=env)
    assert r.returncode == 2 and "no such file" in r.stderr
    r = run_cli(
        "files",
        "get",
        "Nope/none.txt",
        "--user",
        "alice",
        "--password-stdin",
        "--out",
        str(tmp_path / "o"),
        env=env,
        stdin=PASSWORD + "\n",
    )
    assert r.returncode == 4 and "no folder" in r.stderr
    # An answer of the server's own (here 404 for an id no file has) is one line too, with the
    # exit code of its kind
    r = run_cli(
        "files", "get", "99999999", "--user", "alice", "--out", str(tmp_path / "o"), env=env
    )
    assert r.returncode == 4, r.stderr
    assert "server answered 404" in r.stderr and "Traceback" not in r.stderr
