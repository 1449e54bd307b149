"""``strongroom user ...``: accounts, for operators."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from strongroom.accounts import service
from strongroom.cli.context import read_secret, runtime
from strongroom.units import human_bytes

app = typer.Typer(help="Create and manage accounts.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The new user ID."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Create an account (works when open sign-up is off)."""
    password = read_secret(password_stdin, "Password", confirm=True)
    with runtime(ctx) as rt, rt.db.write() as s:
        account = service.create_account(
            s,
            name,
            password,
            keyring=rt.keyring,
            quota_bytes=rt.settings.default_quota_bytes,
            default_region=rt.settings.default_region,
            now=rt.clock.now_ms(),
        )
    typer.echo(f"created account {account.username}")


@app.command("list")
def list_users(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List accounts."""
    with runtime(ctx) as rt, rt.db.read() as s:
        accounts = service.list_accounts(s)
    if as_json:
        rows = [
            {
                "user": a.username,
                "status": a.status,
                "created_at": a.created_at,
                "quota_bytes": a.quota_bytes,
            }
            for a in accounts
        ]
        typer.echo(json.dumps(rows))
        return
    table = Table("User", "Status", "Quota")
    for a in accounts:
        table.add_row(a.username, a.status, human_bytes(a.quota_bytes))
    Console().print(table)
