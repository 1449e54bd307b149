"""Shared fixtures: real databases (SQLite files and the PostgreSQL server), real blob stores,
and a real HTTP server on loopback.

Every storage test takes ``db_url`` (directly or through ``runtime``) and so runs twice: on a fresh
SQLite file and on PostgreSQL.  Without PostgreSQL those runs are skipped with a message, unless
``STRONGROOM_TEST_STRICT=1`` (set by ``.ci/run``), under which a missing service fails the run.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from strongroom.clock import ManualClock
from strongroom.config import Settings
from strongroom.db import Database
from strongroom.runtime import Runtime, migrate, open_runtime
from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, new_bucket, reset, running_s3
from tests.servers import LiveServer, start_app_server

STRICT = os.environ.get("STRONGROOM_TEST_STRICT") == "1"
PG_URL = os.environ.get(
    "STRONGROOM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _find_samples() -> Path:
    """``../shared/samples`` beside the checkout, or STRONGROOM_SAMPLES, or /work/shared/samples."""
    for candidate in (
        os.environ.get("STRONGROOM_SAMPLES"),
        Path(__file__).resolve().parents[2] / "shared" / "samples",
        "/work/shared/samples",
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path(__file__).resolve().parents[2] / "shared" / "samples"


SAMPLES = _find_samples()


def missing(what: str) -> None:
    """Skip (or, under STRONGROOM_TEST_STRICT=1, fail) because a service or tool is absent."""
    if STRICT:
        pytest.fail(f"{what} (STRONGROOM_TEST_STRICT=1 makes this a failure)", pytrace=False)
    pytest.skip(what)


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (cheaper than migrating every time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    migrate(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str | None]:
    """A fresh schema in the PostgreSQL test database for this test run, migrated once."""
    try:
        admin = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        yield None
        print(f"\nPostgreSQL not reachable at {PG_URL}: {type(e).__name__}")  # noqa: T201
        return
    schema = f"sr_test_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    db = Database(url)
    migrate(db)
    db.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_schema_url: str | None,
) -> str:
    """A database with the current schema and no rows: a SQLite file, or PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "strongroom.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    if pg_schema_url is None:
        missing(f"PostgreSQL is not reachable at {PG_URL}")
    assert pg_schema_url is not None
    _truncate_all(pg_schema_url)
    return pg_schema_url


# --- the installation ----------------------------------------------------------------------


def make_settings(data: Path, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data": data,
        "database_url": db_url,
        "blobs": f"file://{data / 'blobs'}",
        "login_slow_after": 3,
        "login_max_failures": 6,
        "login_delay_cap_seconds": 0.01,
        "run_jobs": False,  # tests run jobs explicitly (tests/jobs) instead of in the background
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path / "data", db_url)


@pytest.fixture
def runtime(settings: Settings, clock: ManualClock) -> Iterator[Runtime]:
    rt = open_runtime(settings, clock=clock)
    yield rt
    rt.close()


@pytest.fixture
def server(runtime: Runtime) -> Iterator[LiveServer]:
    """The real app, served by uvicorn on a free loopback port in this process."""
    with start_app_server(runtime) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def connect(server: LiveServer) -> Iterator[Any]:
    """``connect(user="alice", name="Pixel 8", enable=True)``: a registered device's client,
    with the messages service turned on; closed after the test."""
    from tests.factories import messages_client

    opened: list[Any] = []

    def make(user: str = "alice", name: str = "Pixel 8", *, enable: bool = True) -> Any:
        client = messages_client(server.url, user, name, enable=enable)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


# --- S3 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of an S3-compatible server (moto's, in a thread) shared by this test process."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        missing("moto is not installed (pip install 'moto[s3]' flask flask-cors)")
    with running_s3() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty bucket; the standard AWS variables point boto3 at the test server."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    yield new_bucket(s3_endpoint)
    reset(s3_endpoint)
