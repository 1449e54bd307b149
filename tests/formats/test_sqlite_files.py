from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from strongroom.formats.base import BadInput
from strongroom.formats.sqlite_files import UnsafeDatabase, called_functions, open_untrusted
from tests.formats.apple_fixtures import MessagesDb


def make_db(path: Path, *statements: str) -> Path:
    conn = sqlite3.connect(path)  # noqa: TID251 - building an uploaded (foreign) file
    conn.execute("CREATE TABLE message (ROWID INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO message (text) VALUES ('hello')")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path


def test_a_real_messages_schema_with_apples_own_triggers_opens(tmp_path: Path) -> None:
    db = MessagesDb(tmp_path / "sms.db")
    db.message(None, text="x")
    db.close()
    with open_untrusted(db.path) as conn:
        assert conn.execute("SELECT text FROM message").fetchall() == [("x",)]


@pytest.mark.parametrize(
    ("statement", "culprit"),
    [
        ("CREATE VIEW v AS SELECT randomblob(1000000000) AS x", "view 'v' calls the function"),
        (
            "CREATE TRIGGER t AFTER INSERT ON message BEGIN SELECT load_extension('x'); END",
            "trigger 't' calls the function load_extension",
        ),
        (
            'CREATE TRIGGER "odd name" AFTER UPDATE ON message BEGIN'
            " SELECT fts3_tokenizer('simple', x'00'); END",
            "fts3_tokenizer",
        ),
        ("CREATE VIEW w AS SELECT text FROM message WHERE readfile('/etc/passwd')", "readfile"),
    ],
)
def test_views_and_triggers_calling_functions_are_refused(
    tmp_path: Path, statement: str, culprit: str
) -> None:
    path = make_db(tmp_path / "evil.db", statement)
    with pytest.raises(UnsafeDatabase, match=culprit) as info:
        with open_untrusted(path):
            pass
    assert str(info.value).startswith("evil.db: ")


def test_generated_columns_are_refused(tmp_path: Path) -> None:
    path = make_db(tmp_path / "gen.db", "CREATE TABLE g (a TEXT, b TEXT AS (upper(a)) VIRTUAL)")
    with pytest.raises(UnsafeDatabase, match="generated column 'b'"):
        with open_untrusted(path):
            pass


def test_a_file_that_is_not_sqlite_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    path.write_bytes(b"PK\x03\x04 a zip, not a database" * 100)
    with pytest.raises(BadInput, match=r"chat\.db byte 0: not an SQLite database"):
        with open_untrusted(path):
            pass


def test_a_damaged_file_is_bad_input(tmp_path: Path) -> None:
    path = make_db(tmp_path / "damaged.db", "CREATE INDEX i ON message(text)")
    conn = sqlite3.connect(path)  # noqa: TID251
    conn.executemany(
        "INSERT INTO message (text) VALUES (?)", [(f"row {i}" * 20,) for i in range(500)]
    )
    conn.commit()
    conn.close()
    raw = bytearray(path.read_bytes())
    raw[4096 * 2 : 4096 * 2 + 600] = b"\xff" * 600  # overwrite part of the third page
    path.write_bytes(bytes(raw))
    with pytest.raises(BadInput, match=r"damaged\.db: "):
        with open_untrusted(path) as conn:
            conn.execute("SELECT count(*) FROM message").fetchall()


def test_a_truncated_file_is_bad_input(tmp_path: Path) -> None:
    path = make_db(tmp_path / "cut.db")
    path.write_bytes(path.read_bytes()[:700])
    with pytest.raises(BadInput, match=r"cut\.db"):
        with open_untrusted(path):
            pass


def test_the_connection_is_read_only_and_leaves_nothing_beside_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    path = make_db(folder / "sms.db")
    before = path.read_bytes()
    with open_untrusted(path) as conn:
        with pytest.raises(sqlite3.OperationalError):
            conn.execute("DELETE FROM message")
    assert path.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["sms.db"]


def test_private_copies_live_in_scratch_and_are_removed(tmp_path: Path) -> None:
    path = make_db(tmp_path / "chat.db")
    (tmp_path / "chat.db-wal").write_bytes(b"")  # an empty WAL needs no copy
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with open_untrusted(path, scratch=scratch) as conn:
        assert conn.execute("SELECT text FROM message").fetchall() == [("hello",)]
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("sql", "calls"),
    [
        ("INSERT INTO kvtable (key, value) VALUES ('a', NEW.date)", []),
        ("SELECT coalesce((SELECT value FROM t), 0) WHERE x IN (SELECT 1)", ["coalesce"]),
        ("SELECT 'evil(' || \"quoted(\" FROM t -- comment load_extension(\n", []),
        ("SELECT Upper (x), my_func(1) FROM t", ["upper", "my_func"]),
        (
            "CREATE TRIGGER t AFTER UPDATE OF date ON message BEGIN SELECT RAISE(ABORT, 'no'); END",
            [],
        ),
    ],
)
def test_called_functions_reads_names_outside_literals(sql: str, calls: list[str]) -> None:
    assert called_functions(sql) == calls
