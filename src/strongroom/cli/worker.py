"""``strongroom worker``: a process that runs background jobs (any number may run at once)."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from strongroom.cli.context import runtime


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    ctx: typer.Context,
    poll: float = typer.Option(1.0, "--poll", min=0.05, help="Seconds between queue checks."),
    once: bool = typer.Option(False, "--once", help="Run what is due, then exit."),
) -> None:
    """Run background jobs: imports, thumbnails, retention, purges, trash expiry."""
    from strongroom.jobs import make_worker

    with runtime(ctx) as rt:
        w = make_worker(rt, poll_s=poll)
        if once:
            typer.echo(f"ran {w.run_until_idle()} jobs")
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            w.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        typer.echo(f"worker {w.name} running (Ctrl+C stops it)")
        w.run_forever()
