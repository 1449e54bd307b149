"""``strongroom files ...`` and ``strongroom share create``: the locker over HTTP, as a device.

These commands talk to a running server (``--server``, default this installation's address),
signed in as a device of ``--user``: the first run registers a device with the password (from
``--password-stdin`` or a prompt) and keeps its token in ``~/.config/strongroom`` (0600).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from strongroom.cli.context import obj, read_secret
from strongroom.errors import InvalidInput, NotAuthenticated, NotFound
from strongroom.units import human_bytes

if TYPE_CHECKING:
    from strongroom.client import Client

app = typer.Typer(help="Back up, list and fetch locker files (over HTTP).", no_args_is_help=True)
share_app = typer.Typer(help="Share locker items by link.", no_args_is_help=True)
err = Console(stderr=True)

SERVER = typer.Option(
    None,
    "--server",
    envvar="STRONGROOM_SERVER",
    help="Server address (default: this installation's host and port).",
)
USER = typer.Option(..., "--user", help="The account's user ID.")
PASSWORD = typer.Option(
    False, "--password-stdin", help="Read the password from stdin (needed only on the first run)."
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="files")
    root.add_typer(share_app, name="share")


def _platform() -> str:
    return {"Darwin": "macos", "Windows": "windows"}.get(platform.system(), "linux")


def connect(ctx: typer.Context, server: str | None, user: str, password_stdin: bool) -> Client:
    """A signed-in client: the saved device token, or a new device registered with the password."""
    # The client library (and httpx) loads here, not with the CLI: the server's own commands
    # (import, export, serve...) never need it
    from strongroom.client import ApiError, Client
    from strongroom.client.credentials import load_token, save_token

    if server is None:
        settings = obj(ctx).settings()
        server = f"http://{settings.host}:{settings.port}"
    token = load_token(server, user)
    if token is not None:
        client = Client(server, token)
        try:
            client.call("GET", "/api/v1/account")
            return client
        except ApiError as e:
            client.close()
            if e.status != 401:
                raise NotAuthenticated(f"the server refused: {e}") from None
    password = read_secret(password_stdin, f"Password for {user}")
    try:
        client = Client.register(
            server,
            user,
            password,
            name=f"strongroom CLI on {socket.gethostname()}",
            platform=_platform(),
        )
    except ApiError as e:
        raise NotAuthenticated(f"{e.problem.get('detail', e)}") from None
    assert client.token is not None
    save_token(server, user, client.token)
    return client


def _bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )


@app.command("put")
def put(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files or folders to back up."),
    user: str = USER,
    folder: str = typer.Option("", "--folder", help="Locker folder to put them in."),
    server: str | None = SERVER,
    password_stdin: bool = PASSWORD,
    workers: int = typer.Option(4, "--workers", min=1, max=32, help="Files sent at once."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Back up files and folders; unchanged files are skipped, interrupted uploads resume."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise InvalidInput(f"no such file or folder: {missing[0]}")
    from strongroom.client.backup import backup, scan
    from strongroom.client.credentials import config_dir
    from strongroom.client.state import BackupState

    client = connect(ctx, server, user, password_stdin)
    key = hashlib.sha256(f"{client.base_url}|{user}".encode()).hexdigest()[:16]
    state = BackupState(config_dir() / f"backup-{key}.db")
    entries = scan(paths, folder)  # walked once: the total, then the backup
    try:
        with _bar() as bar:
            task = bar.add_task("backing up", total=sum(e.size for e in entries))
            report = backup(
                client,
                paths,
                folder=folder,
                state=state,
                workers=workers,
                progress=lambda n: bar.advance(task, n),
                entries=entries,
            )
    finally:
        state.close()
        client.close()
    summary = {
        "files": report.files,
        "uploaded": report.uploaded,
        "by_hash": report.by_hash,
        "unchanged": report.unchanged,
        "sent_bytes": report.sent_bytes,
        "failed": [{"path": p, "error": e} for p, e in report.failed],
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            f"{report.files} files: {report.uploaded} uploaded "
            f"({human_bytes(report.sent_bytes)}), {report.by_hash} already stored, "
            f"{report.unchanged} unchanged, {len(report.failed)} failed"
        )
        for path, error in report.failed:
            typer.echo(f"  failed: {path}: {error}", err=True)
    if report.failed:
        raise typer.Exit(1)


def _find(client: Client, target: str) -> dict[str, object]:
    """A file by id, or by its locker path (``Photos/2024/a.jpg``)."""
    if target.isdigit():
        return client.call("GET", f"/api/v1/files/{target}")  # type: ignore[no-any-return]
    folder, _, name = target.strip("/").rpartition("/")
    cursor = None
    while True:
        params = {"folder": folder, "limit": 500, **({"cursor": cursor} if cursor else {})}
        page = client.call("GET", "/api/v1/files", params=params)
        for f in page["files"]:
            if f["name"] == name:
                return f  # type: ignore[no-any-return]
        cursor = page["cursor"]
        if not cursor:
            raise NotFound(f"no file {target!r}")


@app.command("get")
def get(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="File id, or its path in the locker."),
    user: str = USER,
    out: Path = typer.Option(..., "--out", help="Where to write it (a folder keeps the name)."),
    server: str | None = SERVER,
    password_stdin: bool = PASSWORD,
) -> None:
    """Download a file from the locker."""
    from strongroom.client.uploads import download

    client = connect(ctx, server, user, password_stdin)
    try:
        found = _find(client, target)
        path = out / str(found["name"]) if out.is_dir() else out
        tmp = path.with_name(f".{path.name}.part")
        with _bar() as bar, tmp.open("wb") as f:
            task = bar.add_task(str(found["name"]), total=int(found["size"]))  # type: ignore[call-overload]
            download(client, str(found["id"]), f, progress=lambda n: bar.advance(task, n))
        os.replace(tmp, path)
    finally:
        client.close()
    typer.echo(f"saved {path}")


@app.command("ls")
def ls(
    ctx: typer.Context,
    folder: str = typer.Argument("", help="Locker folder (default: the root)."),
    user: str = USER,
    category: str | None = typer.Option(
        None, "--category", help="photos, videos, music, documents or other (whole locker)."
    ),
    server: str | None = SERVER,
    password_stdin: bool = PASSWORD,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List a folder's subfolders and files, or every file of a category."""
    client = connect(ctx, server, user, password_stdin)
    try:
        params: dict[str, object] = {"limit": 500}
        if category:
            params["category"] = category
            subfolders: list[dict[str, object]] = []
        else:
            params["folder"] = folder
            subfolders = client.call("GET", "/api/v1/folders", params={"parent": folder})["folders"]
        files = client.call("GET", "/api/v1/files", params=params)["files"]
    finally:
        client.close()
    if as_json:
        typer.echo(json.dumps({"folders": subfolders, "files": files}))
        return
    table = Table("Name", "Size", "Type", "Id")
    for sub in subfolders:
        table.add_row(f"{sub['name']}/", "", "folder", str(sub["id"]))
    for f in files:
        table.add_row(
            str(f["name"]), human_bytes(int(f["size"])), str(f["content_type"]), str(f["id"])
        )
    Console().print(table)


@share_app.command("create")
def create_share(
    ctx: typer.Context,
    user: str = USER,
    file: str | None = typer.Option(None, "--file", help="Share this file (id or path)."),
    folder: str | None = typer.Option(None, "--folder", help="Share this folder (path)."),
    album: str | None = typer.Option(None, "--album", help="Share this album (id)."),
    link_password: bool = typer.Option(
        False, "--link-password", help="Ask for a password to protect the link."
    ),
    expires_days: float | None = typer.Option(
        None, "--expires-days", help="The link stops working after this many days."
    ),
    max_downloads: int | None = typer.Option(
        None, "--max-downloads", min=1, help="The link stops after this many downloads."
    ),
    server: str | None = SERVER,
    password_stdin: bool = PASSWORD,
) -> None:
    """Make a share link and print its address."""
    if sum(x is not None for x in (file, folder, album)) != 1:
        raise InvalidInput("name exactly one of --file, --folder or --album")
    from strongroom.client import ApiError

    client = connect(ctx, server, user, password_stdin)
    try:
        if file is not None:
            kind, target = "file", str(_find(client, file)["id"])
        elif folder is not None:
            parent, _, name = folder.strip("/").rpartition("/")
            found = [
                f
                for f in client.call("GET", "/api/v1/folders", params={"parent": parent})["folders"]
                if f["name"] == name
            ]
            if not found:
                raise NotFound(f"no folder {folder!r}")
            kind, target = "folder", str(found[0]["id"])
        else:
            kind, target = "album", str(album)
        body: dict[str, object] = {
            "kind": kind,
            "target_id": target,
            "max_downloads": max_downloads,
        }
        if link_password:
            body["password"] = typer.prompt(
                "Link password", hide_input=True, confirmation_prompt=True
            )
        if expires_days is not None:
            import time

            body["expires_at"] = int((time.time() + expires_days * 86_400) * 1000)
        made = client.call("POST", "/api/v1/shares", json=body)
    except ApiError as e:
        raise InvalidInput(str(e.problem.get("detail", e))) from None
    finally:
        client.close()
    typer.echo(made["url"])
