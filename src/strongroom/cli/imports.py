"""``strongroom import``: other tools' message backups into an account, with a progress bar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from strongroom.cli.context import read_secret, runtime

if TYPE_CHECKING:
    from strongroom.jobs.imports import ImportReport

FORMAT_NAMES = "auto, sbr-xml, ios-backup, messages-db, mbox, eml"


def register(app: typer.Typer) -> None:
    app.command("import")(import_messages)


def import_messages(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ...,
        exists=True,
        help="Files or folders: sms-*.xml, calls-*.xml, sms.db, chat.db, an "
        "iPhone backup folder, an .mbox, .eml files or a folder of them.",
    ),
    user: str = typer.Option(..., "--user", help="The account to import into."),
    format_name: str = typer.Option(
        "auto",
        "--format",
        help=f"One of: {FORMAT_NAMES} (auto: judged from each file).",
        metavar="FORMAT",
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read an encrypted iPhone backup's password from stdin."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print only one JSON object on stdout (progress goes to stderr)."
    ),
) -> None:
    """Import messages and calls from SMS Backup & Restore, iPhone backups, Messages databases
    and SMS Backup+ mail.  Importing the same messages again stores nothing twice."""
    from strongroom.formats import reader_for, reading

    readers = [reader_for(path, format_name) for path in paths]  # unknown files: before anything
    password = read_secret(True, "") if password_stdin else None
    # The first file's reading process starts on the other core while this one loads the rest
    reading.start_early(readers[0], paths[0])

    from strongroom.accounts.service import account_by_name
    from strongroom.jobs.imports import run_import

    console = Console(stderr=True)
    with runtime(ctx) as rt:
        with rt.db.read() as s:
            account_id = account_by_name(s, user).id
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
            transient=as_json,
        ) as bar:
            task = bar.add_task("importing", total=None, counts="")

            def progress(report: ImportReport) -> None:
                done, total = report.done_of_total() or (0, None)
                bar.update(
                    task,
                    description=report.file or "importing",
                    total=total,
                    completed=done,
                    counts=f"{report.imported} new, {report.duplicates} duplicates",
                )

            report = run_import(
                rt, account_id, paths, format_name, password=password, progress=progress
            )
    if as_json:
        typer.echo(json.dumps(report.as_json()))
    else:
        _print(console, report)
    for failure in report.failed:  # on stderr, with --json too
        console.print(f"strongroom: error: {failure['error']}", markup=False)
    if report.failed:
        raise typer.Exit(2)


def _print(console: Console, report: ImportReport) -> None:
    out = Console()
    if report.turned_on:
        console.print("(the account's messages service was off; the import turned it on)")
    out.print(
        f"imported {report.imported}, duplicates {report.duplicates}, "
        f"skipped {report.skipped}, problems {report.problems}"
    )
    out.print(
        f"({report.messages} messages, {report.calls} calls, {report.parts} attachment parts, "
        f"{report.reactions} reactions read)"
    )
    for why, count in sorted(report.skipped_why.items()):
        out.print(f"  skipped {count}: {why}")
    for skipped in report.skipped_list[:10]:
        console.print(f"  skipped {skipped['what']}: {skipped['reason']}", markup=False)
    for problem in report.problem_list[:20]:
        console.print(f"  problem: {problem['where']}: {problem['message']}", markup=False)
    if report.problems > 20:
        console.print(f"  ... and {report.problems - 20} more problems (see --json)")
