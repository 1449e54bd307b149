"""Account-wide housekeeping jobs: purging cancelled accounts, compacting change history."""

from __future__ import annotations

from typing import Any

from strongroom.accounts import changes, lifecycle
from strongroom.clock import DAY_MS
from strongroom.jobs.runner import JobContext


def purge_accounts(ctx: JobContext) -> dict[str, Any]:
    """Delete, for good, every account whose hold has ended: blobs first, then rows."""
    rt = ctx.runtime
    with rt.db.read() as s:
        due = lifecycle.due_for_purge(s, rt.clock.now_ms())
    purged = 0
    for account_id in due:
        with rt.db.write() as s:
            namespace = lifecycle.begin_purge(s, account_id, rt.clock.now_ms())
        if namespace is None and not _still_purging(ctx, account_id):
            continue  # reactivated at the last moment
        if namespace is not None:
            lifecycle.purge_blobs(rt.store, namespace)
        with rt.db.write() as s:
            lifecycle.finish_purge(s, account_id)
        purged += 1
        ctx.progress(purged=purged, of=len(due))
    return {"purged": purged}


def _still_purging(ctx: JobContext, account_id: int) -> bool:
    from strongroom.accounts.models import Account

    with ctx.runtime.db.read() as s:
        account = s.get(Account, account_id)
        return account is not None and account.status == lifecycle.PURGING


def compact_changes(ctx: JobContext) -> dict[str, Any]:
    rt = ctx.runtime
    cutoff = rt.clock.now_ms() - rt.settings.change_history_days * DAY_MS
    with rt.db.write() as s:
        deleted = changes.compact(s, cutoff)
    return {"deleted": deleted}
