"""``strongroom serve``: the web server (and, on the embedded default, the background jobs).

The command checks the installation first (migrations, master key) so that problems are one clear
line, then hands uvicorn the app factory by name; that keeps the CLI independent of the web
package and lets ``--workers`` start several processes.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from strongroom.cli.context import obj

if TYPE_CHECKING:
    from strongroom.config import Settings

APP_FACTORY = "strongroom.web.app:app_from_environment"


def check_installation(settings: Settings) -> None:
    """Open the installation (creating, migrating and keying it on first start) and close it.
    Raises StrongroomError (a missing or wrong master key, bad settings)."""
    from strongroom.runtime import open_runtime

    open_runtime(settings).close()


def _check_in_child(settings: Settings) -> None:
    """:func:`check_installation` in a child process: the error as the command line prints it,
    and its exit code."""
    from strongroom.errors import StrongroomError

    try:
        check_installation(settings)
    except StrongroomError as e:
        print(f"strongroom: error: {e.detail}", file=sys.stderr)  # noqa: T201
        sys.exit(e.exit_code)


def default_workers() -> int:
    """One server process per core, at most four.

    A Python process runs its code on one core at a time, and storing uploads is mostly such
    code (the web framework, the database bookkeeping, chunking): with one process a backup kept
    one core busy and left the other idle.  Processes share nothing but the database and the
    content store (see the README's Production section), so more of them is safe.
    """
    return max(1, min(4, os.cpu_count() or 1))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def export_settings(settings: Settings) -> None:
    """Pass resolved settings to the worker processes through STRONGROOM_* variables."""
    for name, value in settings.model_dump(exclude={"config"}).items():
        if value is not None:
            os.environ[f"STRONGROOM_{name.upper()}"] = str(value)


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Address to listen on (127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (8750)."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="PEM certificate: serve HTTPS."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM private key for --tls-cert."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Server processes to run (default: one per core, at most 4).",
    ),
) -> None:
    """Run the server: API, web app and background jobs."""
    import uvicorn

    settings = obj(ctx).settings(host=host, port=port, tls_cert=tls_cert, tls_key=tls_key)
    workers = workers or default_workers()
    # First start: create, migrate, make the key; or fail with one clear line.
    if workers == 1:
        check_installation(settings)  # this process goes on to serve: what it loads is used
    else:
        # In a child, so that the supervising process never loads the server (it would keep
        # ~80 MiB it has no use for while the worker processes serve).
        child = multiprocessing.get_context("spawn").Process(
            target=_check_in_child, args=(settings,), name="strongroom-check"
        )
        child.start()
        child.join()
        if child.exitcode:
            raise typer.Exit(child.exitcode)
    export_settings(settings)
    scheme = "https" if settings.tls_cert else "http"
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    typer.echo(f"Strongroom is running: open {scheme}://{shown}:{settings.port} in your browser")
    typer.echo(f"Data folder: {settings.data.absolute()}   (Ctrl+C stops the server)")
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        log_level="info",
        proxy_headers=True,
        server_header=False,
    )
