"""The relational database: engine, sessions and transactions, on SQLite and PostgreSQL alike.

SQLite is treated as a single-writer database (WAL, ``busy_timeout``).  Python 3.11's ``sqlite3``
driver manages transactions itself, which breaks savepoints, transactional DDL and
``BEGIN IMMEDIATE``; following the SQLAlchemy SQLite dialect documentation ("Serializable
isolation / Savepoints / Transactional DDL") the ``connect`` hook turns the driver's handling
off and the ``begin`` hook emits ``BEGIN`` itself: ``BEGIN IMMEDIATE`` for write transactions,
so two writers queue on the lock instead of failing with "database is locked" half-way through.
SQLite writers also queue before ``BEGIN IMMEDIATE``, on a Python lock within a process and on
an ``flock`` of a file beside the database between processes (``strongroom serve`` runs one per
core): SQLite's busy handler polls with sleeps of up to 100 ms, so a writer that waits on SQLite
alone wakes up long after the lock was freed; with four uploads taking turns that idle time was
most of a backup's database time.  ``busy_timeout`` still covers writers that do not take the
queue (migrations, other programs).

This is the only module that knows SQL dialect differences at the connection level; nothing
domain-specific lives here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from strongroom.errors import InvalidInput

try:
    import fcntl
except ImportError:  # Windows: writers of other processes wait in SQLite's busy handler only
    fcntl = None  # type: ignore[assignment]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; constraint names follow :data:`NAMING_CONVENTION`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


CACHE_KIB = 65536
"""SQLite's page cache of each connection."""
KEPT_CACHE_KIB = 16384
"""The page cache of a connection while its transaction is kept open (:meth:`Database.keep_open`):
the cache of a connection that stays in use fills up, and an import of a million messages then
peaked 40 MB higher (with 16 MiB it took no longer)."""
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=60000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
    f"PRAGMA cache_size=-{CACHE_KIB}",
    # Checkpoint every 128 MiB of WAL instead of SQLite's 4 MiB: a checkpoint copies pages into
    # the database and syncs both files, and an import batch writes a few MiB; pages that every
    # batch touches (index interiors, the search index, the conversation index's leaves) are
    # then copied once per checkpoint, not once per batch.  At 32 MiB the commits of a
    # 1M-message import took 9.2 s, at 128 MiB 6.8-7.8 s.  The WAL file is cut back to 64 MiB
    # after a checkpoint, and emptied when the server stops.
    "PRAGMA wal_autocheckpoint=32768",
    "PRAGMA journal_size_limit=67108864",
)


def normalise_url(url: str) -> str:
    """Pick our drivers: psycopg 3 for PostgreSQL, the standard module for SQLite.

    Raises InvalidInput for databases Strongroom does not run on.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" or parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise InvalidInput(f"unsupported database {backend!r}: use SQLite or PostgreSQL")
    return parsed.render_as_string(hide_password=False)


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we send BEGIN ourselves (see module doc)
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("strongroom_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


class _WriterQueue:
    """Where SQLite writers wait their turn (see the module docstring): a reentrant lock for
    the threads of this process, then, by the outermost holder, an exclusive ``flock`` of
    ``path`` for the processes sharing the database (none for an in-memory database)."""

    def __init__(self, path: Path | None) -> None:
        self._threads = threading.RLock()
        self._depth = 0
        self._fd = -1
        if path is not None and fcntl is not None:
            # Close-on-exec: a child program must not inherit (and so keep) the lock.
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._depth == 0 and self._fd >= 0:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)  # releases the GIL while it waits
            except BaseException:
                self._threads.release()
                raise
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)


class Database:
    """An engine plus the two ways in: :meth:`read` and :meth:`write` transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        lock_path: Path | None = None
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                lock_path = Path(f"{parsed.database}-writer.lock")
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 60}
            kwargs["pool_size"] = 8
            kwargs["max_overflow"] = 16
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
            # No server-side prepared statements: after five runs PostgreSQL may switch a
            # prepared statement to a generic plan, and for "fingerprint IN (2000 values)" the
            # generic plan scans every message of the account (seconds instead of milliseconds).
            kwargs["connect_args"] = {"prepare_threshold": None}
        self.engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            _install_sqlite_hooks(self.engine)
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            bind=self.engine.execution_options(strongroom_begin="IMMEDIATE"),
            expire_on_commit=False,
        )
        # Reentrant so that a (mistaken) write inside a write fails on SQLite's busy timeout,
        # as it did before this lock, instead of hanging.
        self._writer = _WriterQueue(lock_path) if self.dialect == "sqlite" else None
        self._kept = threading.local()
        """``write``: the transaction this thread keeps open (:meth:`keep_open`)."""

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def null_marks(self) -> tuple[int | None, str | None]:
        """What stands for NULL in a nullable text column and in any other, in rows given to
        :func:`insert_tuples` ``encoded``: :data:`NULL_TEXT` and :data:`NULL_NUMBER` on
        SQLite, None on PostgreSQL."""
        return (NULL_TEXT, NULL_NUMBER) if self.is_sqlite else (None, None)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read snapshot; nothing written in it is committed.

        Objects loaded here stay usable (detached, attributes loaded) after the block.
        """
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction, committed when the block ends, rolled back if it raises.

        On SQLite it starts with ``BEGIN IMMEDIATE``: writers queue at the start, so a
        transaction never fails with "database is locked" after doing half its work; writers
        of this process take turns on a lock first (see the module docstring).
        """
        kept: KeptWrite | None = getattr(self._kept, "write", None)
        if kept is not None:  # joins the transaction this thread keeps open
            try:
                yield kept.session
            except BaseException:
                kept.broken = True  # what the block did is not known to be whole
                raise
            return
        if self._writer is None:
            with self._write() as session, session.begin():
                yield session
            return
        with self._writer, self._write() as session, session.begin():
            yield session

    def keep_open(self) -> KeptWrite:
        """Begin a write transaction that this thread keeps open until :meth:`KeptWrite.end`:
        every :meth:`write` block on this thread joins it instead of beginning its own.  A
        block that raises breaks it: it is then rolled back as a whole when it ends.

        For a run of many small write transactions on SQLite (an import's batches): each
        commit writes out every page its transaction touched, and batches of an import touch
        many of the same pages (a leaf of the conversation index in each conversation, the
        search index's newest pages), so fewer commits write far less.  Other threads' and
        processes' writers wait for it as for any transaction: its holder ends it before
        waiting on anything.  Its page cache is held to :data:`KEPT_CACHE_KIB` meanwhile."""
        if getattr(self._kept, "write", None) is not None:
            raise RuntimeError("this thread already keeps a transaction open")
        stack = ExitStack()
        try:
            if self._writer is not None:
                stack.enter_context(self._writer)
            session = stack.enter_context(self._write())
            stack.enter_context(session.begin())
            if self.is_sqlite:
                session.connection().exec_driver_sql(f"PRAGMA cache_size=-{KEPT_CACHE_KIB}")
                stack.callback(
                    session.connection().exec_driver_sql, f"PRAGMA cache_size=-{CACHE_KIB}"
                )
        except BaseException:
            stack.close()
            raise
        kept = KeptWrite(self, session, stack)
        self._kept.write = kept
        return kept

    def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database file and cut it to zero bytes, as
        a server does when it stops (the log may hold up to 128 MiB, see the pragmas, and would
        otherwise stay in the data folder).  PostgreSQL: nothing."""
        if not self.is_sqlite:
            return
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()  # autocommit (see _install_sqlite_hooks): no transaction
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._writer is not None:
            self._writer.close()


class KeptWrite:
    """A write transaction kept open by :meth:`Database.keep_open`."""

    def __init__(self, db: Database, session: Session, stack: ExitStack) -> None:
        self._db, self.session, self._stack = db, session, stack
        self.opened = time.monotonic()
        self.broken = False
        """A block that joined it raised."""

    def age(self) -> float:
        """Seconds since it began."""
        return time.monotonic() - self.opened

    def end(self) -> bool:
        """Commit it, or roll it back if it is broken; True if it was committed.  Raises
        what the commit raises (nothing is then committed)."""
        self._db._kept.write = None
        if self.broken:
            self._stack.__exit__(RuntimeError, RuntimeError("broken"), None)  # rolls back
            return False
        self._stack.close()
        return True


BigId = BigInteger().with_variant(Integer(), "sqlite")
"""Primary-key type: 64-bit on PostgreSQL, SQLite's INTEGER rowid alias on SQLite."""


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, for Core statements."""
    return cast(Table, model.__table__)


def _json(value: Any) -> str:
    return "{}" if value == {} else json.dumps(value, separators=(",", ":"))


NULL_TEXT = 0
"""SQLite, in rows given to :func:`insert_tuples` ``encoded``: NULL, in a nullable text (or
JSON) column.  The sqlite3 module binds None five times slower than an integer (it first looks
for an adapter), and no text is ever equal to an integer in SQLite, so the column's placeholder,
``nullif(?, 0)``, turns only this mark back into NULL."""
NULL_NUMBER = ""
"""The same for a nullable column of any other type (``nullif(?, '')``: no number or blob is
equal to a text)."""


def select_in(
    session: Session, sql: str, params: tuple[Any, ...], values: list[Any]
) -> list[tuple[Any, ...]]:
    """Rows of a plain SQL query whose ``IN (*)`` is filled with ``values`` (``?`` placeholders
    for ``params``, which come first).  For the bulk path: building an IN list of thousands
    of values through SQLAlchemy costs more than running the query."""
    if not values:
        return []
    if session.get_bind().dialect.paramstyle != "qmark":
        # PostgreSQL: one array parameter (a statement of thousands of placeholders costs the
        # driver more to parse than the server to run)
        sql = sql.replace("IN (*)", "= ANY(?)").replace("?", "%s")
        result = session.connection().exec_driver_sql(sql, (*params, list(values)))
    else:
        sql = sql.replace("(*)", "(" + ", ".join("?" for _ in values) + ")")
        result = session.connection().exec_driver_sql(sql, (*params, *values))
    return [tuple(row) for row in result]


def execute_many(session: Session, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Run one plain SQL statement (``?`` placeholders) for every row: one ``executemany`` of
    the driver (placeholders become ``%s`` for PostgreSQL), or on SQLite, for an ``INSERT ...
    VALUES (?, ...)``, statements of many rows each (:func:`insert_values`, and why)."""
    if not rows:
        return
    if session.get_bind().dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    elif values := _single_values(sql):
        insert_values(session, values[0], rows, tail=values[1])
        return
    session.connection().exec_driver_sql(sql, rows)


@lru_cache(maxsize=64)
def _single_values(sql: str) -> tuple[str, str] | None:
    """``(head, tail)`` of an ``INSERT ... VALUES (?, ..., ?) tail`` whose only placeholders
    are those of its one row of values (an ``ON CONFLICT`` clause may follow), else None."""
    head, found, rest = sql.partition(" VALUES ")
    if not found or not head.lstrip().upper().startswith("INSERT") or "?" in head:
        return None
    row, closed, tail = rest.partition(")")
    if not closed or row.replace("?", "").replace(",", "").strip() != "(" or "?" in tail:
        return None
    return f"{head} VALUES", tail


def insert_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """INSERT many rows (all with the keys of the first): one driver ``executemany`` on SQLite,
    one ``COPY`` on PostgreSQL.

    The bulk path of imports: it skips SQLAlchemy's per-row parameter processing, which costs
    more than the insert itself.  Values go to the driver as they are, except that JSON columns
    are encoded here; so rows hold only plain values (int, str, bytes, bool, None, JSON-able).
    """
    if not rows:
        return
    columns = list(rows[0])
    take = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    insert_tuples(session, model, columns, [take(row) for row in rows])


def insert_tuples(
    session: Session,
    model: type[Base],
    columns: Sequence[str],
    data: list[tuple[Any, ...]],
    *,
    encoded: bool = False,
) -> None:
    """:func:`insert_rows` for rows given as tuples of ``columns``' values, in that order.

    ``encoded``: the rows' JSON values are JSON text already, and on SQLite every value is as
    the sqlite3 module binds it quickest: booleans as 0 or 1, blobs as bytearrays (bytes, like
    None, go through its search for an adapter), NULLs of nullable columns as :data:`NULL_TEXT`
    or :data:`NULL_NUMBER` (None still works).  Plain sqlite3 inserted the benchmark sms.db's
    196,077 message rows in 0.90-0.92 s so, against 1.15-1.17 s as plain values."""
    if not data:
        return
    table = table_of(model)
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    target = f"{quote(table.name)} ({', '.join(quote(c) for c in columns)})"
    if not encoded:
        for i, c in enumerate(columns):
            if isinstance(table.c[c].type, JSON):
                data = [(*r[:i], _json(r[i]), *r[i + 1 :]) for r in data]
    connection = session.connection()
    if dialect.paramstyle == "qmark":  # SQLite
        marks = None
        if encoded:
            marks = "(" + ", ".join(_placeholder(table.c[c]) for c in columns) + ")"
        insert_values(session, f"INSERT INTO {target} VALUES", data, row=marks)
        return
    # PostgreSQL: COPY, in the session's transaction (constraints and triggers apply as for an
    # INSERT); a multi-row INSERT cost the driver more to parse than the server to run
    copy_sql = f"COPY {target} FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in data:
            copy.write_row(row)


PARAMETERS_PER_STATEMENT = 8192
"""SQLite: the most values :func:`insert_values` binds to one statement."""


def parameters_per_statement(session: Session) -> int:
    """SQLite: how many values to bind to one statement, at most :data:`PARAMETERS_PER_STATEMENT`
    and within the build's own limit (999 before SQLite 3.32)."""
    limit = PARAMETERS_PER_STATEMENT
    driver = session.connection().connection.driver_connection
    getlimit = getattr(driver, "getlimit", None)
    if getlimit is not None:
        limit = min(limit, getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return limit


def _placeholder(column: Any) -> str:
    """SQLite: a column's placeholder in :func:`insert_tuples` ``encoded``."""
    if not column.nullable or column.primary_key:
        return "?"
    return "nullif(?, 0)" if isinstance(column.type, String | JSON) else "nullif(?, '')"


def insert_values(
    session: Session,
    head: str,
    data: Sequence[tuple[Any, ...]],
    *,
    tail: str = "",
    row: str | None = None,
) -> None:
    """SQLite: run ``head`` (``INSERT INTO t (a, b) VALUES``), then ``tail`` (an ``ON CONFLICT``
    clause, say), for every row of ``data``, as few statements of many rows each; ``row``: the
    placeholders of one row, if not ``(?, ?, ...)``.

    Not one ``executemany``: the sqlite3 module lets go of the interpreter lock for every row
    it steps, and must take it back before the next.  An import stores on one thread while
    others unpickle and stage the next batch, and this thread then waited for the lock after
    each row (up to a switch interval, 5 ms, each time).  A statement of hundreds of rows
    takes it back once.
    """
    if not data:
        return
    width = len(data[0])
    per = max(1, parameters_per_statement(session) // width)
    row = row or "(" + ", ".join("?" * width) + ")"
    full = f"{head} {', '.join([row] * per)}{tail}"
    connection = session.connection()
    for at in range(0, len(data), per):
        part = data[at : at + per]
        sql = full if len(part) == per else f"{head} {', '.join([row] * len(part))}{tail}"
        connection.exec_driver_sql(sql, tuple(chain.from_iterable(part)))


def upsert(
    session: Session,
    table: Any,
    values: dict[str, Any] | list[dict[str, Any]],
    *,
    key: list[str],
    update: dict[str, Any] | None,
) -> None:
    """INSERT ``values`` (a row, or several rows in one statement), or on a clash on ``key``
    apply ``update`` (SQL expressions allowed).

    ``ON CONFLICT ... DO UPDATE`` on both SQLite and PostgreSQL, so two concurrent callers never
    both insert.  With ``update=None`` an existing row is left as it is (``DO NOTHING``).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table).values(values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(values)
    if update is None:
        session.execute(stmt.on_conflict_do_nothing(index_elements=key))
    else:
        session.execute(stmt.on_conflict_do_update(index_elements=key, set_=update))
