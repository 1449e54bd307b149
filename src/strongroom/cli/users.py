"""``strongroom user ...``: accounts, for operators."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from strongroom.cli.context import read_secret, runtime
from strongroom.units import human_bytes, human_time, parse_size

DAY_MS = 86_400_000

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
    from strongroom.accounts import service

    password = read_secret(password_stdin, "Password", confirm=True)
    with runtime(ctx) as rt, rt.db.write() as s:
        account = service.sign_up(s, rt, name, password)
    typer.echo(f"created account {account.username}")


@app.command("list")
def list_users(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List accounts."""
    from strongroom.accounts import service

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


@app.command("cancel")
def cancel(ctx: typer.Context, name: str = typer.Argument(..., help="The user ID.")) -> None:
    """Cancel an account: held (unusable, reactivatable) for the hold period, then deleted."""
    from strongroom.accounts import lifecycle, service

    with runtime(ctx) as rt, rt.db.write() as s:
        account = lifecycle.cancel(
            s,
            service.account_by_name(s, name).id,
            now=rt.clock.now_ms(),
            hold_ms=rt.settings.account_hold_days * DAY_MS,
        )
    typer.echo(f"cancelled {account.username}; kept until {human_time(account.held_until)}")


@app.command("reactivate")
def reactivate(ctx: typer.Context, name: str = typer.Argument(..., help="The user ID.")) -> None:
    """Reactivate a cancelled account during its hold period."""
    from strongroom.accounts import lifecycle, service

    with runtime(ctx) as rt, rt.db.write() as s:
        account = lifecycle.reactivate(
            s, service.account_by_name(s, name).id, now=rt.clock.now_ms()
        )
    typer.echo(f"reactivated {account.username}")


@app.command("set-quota")
def set_quota(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The user ID."),
    size: str = typer.Argument(..., help="The new quota, e.g. 50GB, 500MB, 2TiB."),
) -> None:
    """Change an account's storage quota."""
    from strongroom.accounts import service

    with runtime(ctx) as rt, rt.db.write() as s:
        account = service.set_quota(s, name, parse_size(size))
    typer.echo(f"{account.username}: quota {human_bytes(account.quota_bytes)}")
