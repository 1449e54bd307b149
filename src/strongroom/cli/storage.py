"""``strongroom verify`` and ``strongroom keys rotate``: the content store and its keys."""

from __future__ import annotations

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from strongroom.cli.context import runtime
from strongroom.units import human_bytes

keys_app = typer.Typer(help="Manage the master key.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
    app.add_typer(keys_app, name="keys")


def verify(
    ctx: typer.Context,
    read_data: bool = typer.Option(
        False, "--read-data", help="Read, decrypt and re-hash every blob (slow, thorough)."
    ),
) -> None:
    """Check every stored blob; exit 1 if any is missing or damaged."""
    from strongroom.jobs.verify import verify_store

    with (
        runtime(ctx) as rt,
        Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar,
    ):
        task = bar.add_task("checking blobs", total=None)
        report = verify_store(
            rt,
            read_data=read_data,
            progress=lambda n: bar.update(task, description=f"checked {n} blobs"),
        )
    for damage in report.missing:
        typer.echo(f"MISSING  {damage.name}: {damage.reason}", err=True)
    for damage in report.corrupt:
        typer.echo(f"CORRUPT  {damage.name}: {damage.reason}", err=True)
    for name in report.orphans:
        typer.echo(f"orphan   {name} (belongs to no account)")
    typer.echo(
        f"{report.blobs} blobs ({human_bytes(report.bytes)}) in {report.accounts} accounts: "
        f"{len(report.missing)} missing, {len(report.corrupt)} corrupt, "
        f"{len(report.orphans)} orphaned"
    )
    if not report.ok:
        raise typer.Exit(1)


@keys_app.command("rotate")
def rotate(ctx: typer.Context) -> None:
    """Make a new master key and rewrap every account's data key with it.

    Safe to interrupt and run again; the old key file is kept until every key is rewrapped.
    """
    from strongroom.accounts.keys import rotate_master_key

    with runtime(ctx) as rt:
        report = rotate_master_key(rt.db, rt.keyring)
    typer.echo(
        f"master key {report.old_key_id} replaced by {report.new_key_id}; "
        f"{report.rewrapped} data keys rewrapped. Back up the new {rt.settings.key_file}."
    )
