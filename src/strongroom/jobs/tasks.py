"""Every kind of background job, and the periodic ones with their intervals."""

from __future__ import annotations

from strongroom.clock import DAY_MS
from strongroom.jobs import accounts, imports, locker, messages, storage
from strongroom.jobs.runner import Handler, Periodic, Worker
from strongroom.runtime import Runtime

HOUR_MS = 3_600_000

HANDLERS: dict[str, Handler] = {
    "purge-accounts": accounts.purge_accounts,
    "compact-changes": accounts.compact_changes,
    "expire-messages": messages.expire_messages,
    "reclaim-storage": storage.reclaim_storage,
    "thumbnails": locker.make_thumbnails,
    "expire-trash": locker.expire_trash,
    "expire-uploads": locker.expire_uploads,
    imports.JOB_KIND: imports.import_job,
}

SCHEDULES: list[Periodic] = [
    Periodic("purge-accounts", HOUR_MS),
    Periodic("compact-changes", DAY_MS),
    Periodic("expire-messages", DAY_MS),
    Periodic("reclaim-storage", 6 * HOUR_MS),
    Periodic("thumbnails", 60_000),
    Periodic("expire-trash", DAY_MS),
    Periodic("expire-uploads", HOUR_MS),
]


def make_worker(
    runtime: Runtime, *, poll_s: float = 1.0, lease_ms: int = 60_000, name: str | None = None
) -> Worker:
    """A worker that knows every job kind and schedule."""
    return Worker(runtime, HANDLERS, SCHEDULES, poll_s=poll_s, lease_ms=lease_ms, name=name)
