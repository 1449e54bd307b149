from __future__ import annotations

import json

from tests.cli.helpers import cli_env, run_cli


def test_version():
    r = run_cli("--version", env=cli_env(__import__("pathlib").Path("/nonexistent"), "sqlite://"))
    assert r.returncode == 0 and r.stdout.startswith("strongroom 0.")


def test_user_create_and_list(tmp_path, db_url):
    env = cli_env(tmp_path / "data", db_url)
    r = run_cli("user", "create", "Alice", "--password-stdin", env=env, stdin="long enough pw\n")
    assert r.returncode == 0, r.stderr
    assert "created account alice" in r.stdout
    r = run_cli("user", "list", "--json", env=env)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [u["user"] for u in rows] == ["alice"] and rows[0]["status"] == "active"


def test_errors_are_one_line_and_non_zero_never_a_traceback(tmp_path, db_url):
    env = cli_env(tmp_path / "data", db_url)
    run_cli("user", "create", "bob", "--password-stdin", env=env, stdin="long enough pw\n")
    for args, stdin, expected in [
        (("user", "create", "bob", "--password-stdin"), "long enough pw\n", "taken"),
        (("user", "create", "x", "--password-stdin"), "long enough pw\n", "user ID"),
        (("user", "create", "carol", "--password-stdin"), "short\n", "at least 8"),
    ]:
        r = run_cli(*args, env=env, stdin=stdin)
        assert r.returncode != 0
        assert "Traceback" not in r.stderr
        assert r.stderr.count("\n") == 1 and expected in r.stderr, r.stderr


def test_global_data_option_matches_the_environment_variable(tmp_path, db_url):
    env = cli_env(tmp_path / "ignored", db_url)
    data = tmp_path / "chosen"
    r = run_cli("--data", str(data), "user", "list", env=env)
    assert r.returncode == 0, r.stderr
    assert (data / "master.key").exists() and not (tmp_path / "ignored").exists()


def test_missing_master_key_stops_the_cli_with_one_line(tmp_path, db_url):
    env = cli_env(tmp_path / "data", db_url)
    assert run_cli("user", "list", env=env).returncode == 0
    (tmp_path / "data" / "master.key").unlink()
    r = run_cli("user", "list", env=env)
    assert r.returncode == 8 and "master key" in r.stderr and "Traceback" not in r.stderr
