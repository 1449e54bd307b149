"""Opening an uploaded SQLite file (``sms.db``, ``chat.db``, ``Manifest.db``) as untrusted input.

An SQLite file is a program as much as data: its schema can hold views, triggers, generated
columns and defaults that call functions when the file is read or written.  So an uploaded file
is opened

* read-only, and ``immutable=1`` only on a file nobody else can be writing: the caller's file when
  it has no ``-wal`` sidecar, or our private copy in scratch (a ``-wal`` sidecar is copied along
  and checkpointed into the copy, so its rows are seen and the user's file is never touched);
* with ``PRAGMA trusted_schema=OFF`` (functions with side effects are refused inside the schema),
  ``query_only``, a cap on the size of one value, and no extension loading (Python's ``sqlite3``
  here is built without it; :func:`open_untrusted` also turns it off where it exists);
* after ``PRAGMA quick_check`` passes (structure, pages, indexes; O(N), unlike the full
  ``integrity_check``, which also cross-checks every index entry);
* only if no view or trigger calls a function outside :data:`SAFE_FUNCTIONS`, and no table has a
  generated column.

Every failure is a :class:`~strongroom.formats.base.BadInput` naming the file.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import quote

from strongroom.formats.base import BadInput

MAGIC = b"SQLite format 3\x00"
SQLITE_ERRORS = (sqlite3.DatabaseError, UnicodeDecodeError)
"""What reading a damaged file raises: SQLite's errors, and a decode error when its error message
or a pragma's answer quotes the damaged bytes."""
MAX_VALUE_BYTES = 64 * 1024 * 1024
"""The largest single text or blob a reader may fetch; larger ones are an error, not a crash."""

SAFE_FUNCTIONS = frozenset(
    {
        # Built-ins without side effects, as Apple's own triggers use them.
        "abs", "coalesce", "count", "group_concat", "ifnull", "iif", "instr", "length", "lower",
        "ltrim", "max", "min", "nullif", "replace", "round", "rtrim", "substr", "substring",
        "sum", "total", "trim", "typeof", "upper",
        # Apple's callbacks in sms.db/chat.db triggers (attachment clean-up on delete).  They exist
        # only inside Messages, are never registered here, and triggers never fire on a
        # read-only connection; refusing them would refuse every real Messages database.
        "after_delete_message_plugin", "before_delete_attachment_path",
        "delete_attachment_path", "verify_chat",
    }
)  # fmt: skip

# Words that may stand before "(" in a view or trigger without being a function call.
_NOT_CALLS = frozenset(
    "and as begin by case cast check conflict do else end exists filter from in into is join key "
    "not of on or over primary raise references returning select set table then union unique "
    "using values when where window with".split()
)
_AFTER_NAME = frozenset({"into", "table", "references", "of", "on", "update", "index", "view"})
_LITERALS = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.S)
_QUOTED_NAMES = re.compile(r'"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]')
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_$]*)\s*\(")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


class UnsafeDatabase(BadInput):
    """An uploaded SQLite file's schema runs code when read (functions in views or triggers)."""

    slug = "unsafe-database"
    title = "The database file is refused"


@contextmanager
def open_untrusted(
    path: Path, *, scratch: Path | None = None, label: str | None = None
) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the uploaded SQLite file ``path``, checked as described above.

    Raises BadInput (naming the file as ``label``, by default its name) if the file is not
    SQLite or is damaged, or UnsafeDatabase if its schema is refused.  The connection (and any
    private copy in ``scratch``) is gone after the block.
    """
    name = label or path.name
    _check_magic(path, name)
    sidecars = logs_beside(path)
    with tempfile.TemporaryDirectory(prefix="sqlite-", dir=scratch) as private:
        target = _private_copy(path, sidecars, Path(private), name) if sidecars else path
        conn = _connect(target, name)
        with closing(conn):
            try:
                _check_integrity(conn, name)
                check_schema(conn, name)
            except SQLITE_ERRORS as e:
                raise BadInput(f"{name}: not a readable SQLite database ({e})") from e
            yield conn


def logs_beside(path: Path) -> list[Path]:
    """The database's write-ahead log or rollback journal, when there is one with something in
    it: then it is read from a private copy (:func:`open_untrusted`)."""
    logs = [path.with_name(path.name + suffix) for suffix in ("-wal", "-journal")]
    return [log for log in logs if log.is_file() and log.stat().st_size > 0]


def table_names(path: Path) -> set[str]:
    """The tables of the SQLite file ``path`` (empty if it is not one), for cheap sniffing.

    Only the schema table is read (no integrity check, no data): parsing a schema runs nothing.
    """
    try:
        _check_magic(path, path.name)
        with closing(_connect(path, path.name)) as conn:
            rows = conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'").fetchall()
    except (BadInput, *SQLITE_ERRORS):
        return set()
    return {name for (name,) in rows}


def check_schema(conn: sqlite3.Connection, name: str) -> None:
    """Refuse views and triggers calling unlisted functions, and generated columns.

    Raises UnsafeDatabase naming the schema object and the function.
    """
    rows = conn.execute("SELECT type, name, sql FROM sqlite_schema").fetchall()
    for kind, obj, sql in rows:
        if kind in ("view", "trigger"):
            for func in called_functions(sql or ""):
                if func not in SAFE_FUNCTIONS:
                    raise UnsafeDatabase(f"{name}: {kind} {obj!r} calls the function {func}()")
        elif kind == "table" and not (sql or "").upper().startswith("CREATE VIRTUAL"):
            for column in conn.execute("SELECT name, hidden FROM pragma_table_xinfo(?)", (obj,)):
                if column[1] in (2, 3):
                    raise UnsafeDatabase(
                        f"{name}: table {obj!r} has a generated column {column[0]!r}"
                    )


def called_functions(sql: str) -> list[str]:
    """The (lower-cased) names of functions called in a view's or trigger's SQL text.

    Conservative: a name it cannot tell from a call counts as one, which can only refuse more.
    """
    text = _QUOTED_NAMES.sub(" _quoted ", _LITERALS.sub(" '' ", sql))
    calls = []
    for match in _CALL.finditer(text):
        word = match.group(1).lower()
        before = _WORD.findall(text[: match.start()][-40:])
        previous = before[-1].lower() if before else ""
        if word in _NOT_CALLS or previous in _AFTER_NAME:
            continue
        calls.append(word)
    return calls


def _check_magic(path: Path, name: str) -> None:
    try:
        with path.open("rb") as f:
            head = f.read(len(MAGIC))
    except OSError as e:
        raise BadInput(f"{name}: cannot be opened ({e.strerror})") from e
    if head != MAGIC:
        raise BadInput(f"{name} byte 0: not an SQLite database (no SQLite header)")


def _private_copy(path: Path, sidecars: list[Path], folder: Path, name: str) -> Path:
    """Copy ``path`` and its ``-wal``/``-journal`` into ``folder`` and fold them into the copy.

    Without this, an immutable open would ignore the sidecar (rows still in the WAL would be
    missed, a half-written transaction in a hot journal would be read as it stands).
    """
    copy = folder / "copy.db"
    shutil.copyfile(path, copy)
    for sidecar in sidecars:
        shutil.copyfile(sidecar, folder / ("copy.db" + sidecar.name.removeprefix(path.name)))
    try:
        # Our own copy, opened writable only to recover it: reading the schema table runs
        # nothing from it, and the checkpoint and journal-mode change work on pages only.
        conn = sqlite3.connect(f"{_uri(copy)}?mode=rw", uri=True, isolation_level=None)
        with closing(conn):
            conn.execute("PRAGMA trusted_schema=OFF")
            conn.execute("SELECT count(*) FROM sqlite_schema").fetchall()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            conn.execute("PRAGMA journal_mode=DELETE").fetchall()
    except SQLITE_ERRORS as e:
        names = ", ".join(s.name for s in sidecars)
        raise BadInput(f"{name}: the database with {names} cannot be read ({e})") from e
    return copy


def _connect(target: Path, name: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"{_uri(target)}?mode=ro&immutable=1", uri=True)
    except (sqlite3.Error, UnicodeDecodeError) as e:
        raise BadInput(f"{name}: cannot be opened as SQLite ({e})") from e
    if hasattr(conn, "enable_load_extension"):
        conn.enable_load_extension(False)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    # Apple databases hold text that is not always valid UTF-8; never fail a row on it.
    conn.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
    conn.execute("PRAGMA trusted_schema=OFF")
    conn.execute("PRAGMA query_only=ON")
    return conn


def _check_integrity(conn: sqlite3.Connection, name: str) -> None:
    rows = conn.execute("PRAGMA quick_check").fetchall()
    if rows != [("ok",)]:
        first = rows[0][0] if rows else "no answer"
        raise BadInput(f"{name}: the database is damaged ({first})")


def _uri(path: Path) -> str:
    return "file:" + quote(str(path.resolve()))
