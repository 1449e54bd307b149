"""Opening a Strongroom installation: data folder, database (migrated), master key, blob store.

:func:`open_runtime` is what every entry point (``serve``, ``worker``, the CLI commands, tests)
calls first.  On first start it creates the data folder, runs the Alembic migrations and
generates the master key; afterwards it refuses to start with a missing or different master key,
because data written under one key cannot be read under another.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import String, Text, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from strongroom.blobs import BlobStore, open_store
from strongroom.blobs.keys import Keyring, MasterKeyError
from strongroom.clock import Clock, SystemClock
from strongroom.config import Settings
from strongroom.db import Base, Database

_MIGRATION_LOCK = 0x5354524F4E47  # "STRONG": PostgreSQL advisory lock held while migrating


class ServerMeta(Base):
    """Facts about the installation itself, such as which master key its data is under."""

    __tablename__ = "server_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


@dataclass
class Runtime:
    """Everything a request, job or command needs; built once per process."""

    settings: Settings
    db: Database
    keyring: Keyring
    store: BlobStore
    clock: Clock = field(default_factory=SystemClock)

    def close(self) -> None:
        self.db.dispose()


_MIGRATIONS = Path(__file__).parent / "migrations"


def migrate(db: Database) -> None:
    """Bring the schema to the newest revision; safe when several processes start at once.

    A database already there is told by one query, without loading alembic and the migration
    scripts (a fifth of a second at the start of every command)."""
    if _revision(db) == head_revision():
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    engine = db.engine.execution_options(strongroom_begin="IMMEDIATE")
    with engine.connect() as conn, conn.begin():
        if not db.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def head_revision() -> str:
    """The newest migration's revision: revisions are named by their files' numbers
    (``0011_change_runs.py`` is ``"0011"``; tests/test_migrations.py checks it)."""
    return max(p.name.split("_", 1)[0] for p in (_MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def _revision(db: Database) -> str | None:
    """The database's revision, or None (a new database, or one alembic has not marked)."""
    try:
        with db.read() as s:
            return s.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def _prepare_data_folder(settings: Settings) -> None:
    data = settings.data
    if not data.exists():
        data.mkdir(parents=True, mode=0o700)
    elif not data.is_dir():
        raise MasterKeyError(f"the data folder {data} is not a folder")
    if not os.access(data, os.W_OK):
        raise MasterKeyError(f"the data folder {data} is not writable")


def _load_master_key(db: Database, keyring: Keyring) -> None:
    with db.write() as s:
        recorded = s.get(ServerMeta, "master_key_id")
        if recorded is None:  # first start of this database: adopt or create the key
            keyring.load(create=True)
            assert keyring.current is not None
            s.add(ServerMeta(key="master_key_id", value=keyring.current.key_id))
            return
        if not keyring.path.exists():
            raise MasterKeyError(
                f"the master key file {keyring.path} is missing, but this database's data is "
                f"encrypted under master key {recorded.value}. Restore the key file (or point "
                f"STRONGROOM_MASTER_KEY_FILE at it); without it stored content cannot be read."
            )
        keyring.load(create=False)
        if recorded.value not in keyring.keys:
            raise MasterKeyError(
                f"{keyring.path} holds master key {', '.join(keyring.keys)}, but this database's "
                f"data is encrypted under master key {recorded.value}: wrong key file"
            )


def open_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    """Open (and on first start, create) the installation described by ``settings``.

    Raises MasterKeyError for a missing or wrong master key and InvalidInput for bad settings.
    """
    _prepare_data_folder(settings)
    db = Database(settings.database_url)
    try:
        migrate(db)
        keyring = Keyring(settings.key_file)
        _load_master_key(db, keyring)
        store = open_store(settings.blobs, s3_endpoint_url=settings.s3_endpoint_url)
    except BaseException:
        db.dispose()
        raise
    return Runtime(
        settings=settings, db=db, keyring=keyring, store=store, clock=clock or SystemClock()
    )
