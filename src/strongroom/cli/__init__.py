"""The ``strongroom`` command: a thin shell over the library, one Typer sub-app per group.

Domain errors become one line on stderr and the error's ``exit_code``; never a traceback.
"""

from __future__ import annotations

import gc
import sys

import typer

from strongroom import __version__
from strongroom.cli import exports, files, imports, serve, storage, users, worker
from strongroom.cli.context import Context
from strongroom.errors import StrongroomError

app = typer.Typer(
    name="strongroom",
    help="Strongroom: backup and sync for messages, photos, files and contacts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"strongroom {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    data: str | None = typer.Option(
        None, "--data", help="Data folder (same as STRONGROOM_DATA; default ./data)."
    ),
    config: str | None = typer.Option(
        None, "--config", help="TOML settings file (same as STRONGROOM_CONFIG)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    ctx.obj = Context(overrides={"data": data, "config": config})


app.add_typer(users.app, name="user")
serve.register(app)
worker.register(app)
storage.register(app)
files.register(app)
exports.register(app)
imports.register(app)


_API_EXIT = {400: 2, 401: 3, 403: 3, 404: 4, 409: 5, 410: 4, 413: 6, 429: 7, 503: 8}
"""Server answers as exit codes, the same codes as the local errors of the same kind."""


def main() -> None:
    """Entry point of the ``strongroom`` script."""
    try:
        _run()
    finally:
        # The interpreter's last collection, as it exits, walks every object still alive: the
        # modules' alone (SQLAlchemy's, pydantic's) take it 0.2 s.  They go with the process.
        gc.freeze()


def _run() -> None:
    try:
        app()
    except StrongroomError as e:
        print(f"strongroom: error: {e.detail}", file=sys.stderr)  # noqa: T201
        sys.exit(e.exit_code)
    except Exception as e:
        # Only the commands that talk to a server load the client library (it brings httpx),
        # and only they can have raised its errors
        api = sys.modules.get("strongroom.client.api")
        if api is None or not isinstance(e, api.ApiError):
            raise
        detail = e.problem.get("detail") or e.code
        print(f"strongroom: error: {detail} (server answered {e.status})", file=sys.stderr)  # noqa: T201
        sys.exit(_API_EXIT.get(e.status, 1))
    except KeyboardInterrupt:
        print("strongroom: interrupted", file=sys.stderr)  # noqa: T201
        sys.exit(130)
