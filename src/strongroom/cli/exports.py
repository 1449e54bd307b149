"""``strongroom export`` and ``strongroom stats``: an account's messages out, and its counts."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer

from strongroom.cli.context import runtime

FORMAT_NAMES = ("sbr-xml", "sbp-mbox", "html", "txt", "csv", "json", "archive")
"""The export formats, named here so that the command starts without importing them (a test
checks them against :data:`strongroom.formats.exports.FORMATS`)."""


def register(app: typer.Typer) -> None:
    app.command("export")(export_messages)
    app.command("stats")(stats)


def export_messages(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", help="The account to export."),
    format_name: str = typer.Option(
        ..., "--format", help=f"One of: {', '.join(FORMAT_NAMES)}.", metavar="FORMAT"
    ),
    out: Path = typer.Option(
        ..., "--out", help="The file to write (a new or empty folder for html)."
    ),
    conversation: str | None = typer.Option(
        None, "--conversation", help="Only this conversation (its id)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Only from this day (YYYY-MM-DD, UTC) or time (ISO 8601) on."
    ),
    until: str | None = typer.Option(
        None, "--until", help="Only up to the end of this day (YYYY-MM-DD) or this time."
    ),
) -> None:
    """Export an account's messages and calls: SMS Backup & Restore XML (calls go to a
    calls-...xml beside it), SMS Backup+ mbox, HTML pages, text, CSV, JSON, or the archive."""
    from strongroom.accounts.service import account_by_name
    from strongroom.formats.exports import export_format, write_path
    from strongroom.messages import export
    from strongroom.messages.selection import parse_selection

    fmt = export_format(format_name)
    selection = parse_selection(conversation, since, until, prefix="--")
    with runtime(ctx) as rt:
        with rt.db.read() as s:
            account_id = account_by_name(s, user).id
        source = export.account_records(rt, account_id, selection, by_conversation=fmt.grouped)
        report = write_path(fmt.name, source, out)
    written = " and ".join(str(p) for p in report.paths)
    typer.echo(f"exported {report.messages} messages and {report.calls} calls to {written}")


def stats(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", help="The account."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Count an account's messages, conversations, attachments, calls and files, and its
    storage use."""
    from rich.console import Console
    from rich.table import Table

    from strongroom.accounts.service import account_by_name
    from strongroom.sync.stats import stats as account_stats
    from strongroom.units import human_bytes

    with runtime(ctx) as rt, rt.db.read() as s:
        found = account_stats(s, account_by_name(s, user).id)
    if as_json:
        typer.echo(json.dumps(asdict(found)))
        return
    table = Table("", "", show_header=False, box=None)
    for key, value in asdict(found).items():
        shown = human_bytes(value) if key in ("bytes_used", "quota_bytes") else str(value)
        table.add_row(key.replace("_", " "), shown)
    Console().print(table)
