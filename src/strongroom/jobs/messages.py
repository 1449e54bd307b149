"""Message jobs: expiring messages past each account's retention window."""

from __future__ import annotations

from typing import Any

from strongroom.jobs.runner import JobContext
from strongroom.messages import housekeeping


def expire_messages(ctx: JobContext) -> dict[str, Any]:
    rt = ctx.runtime
    with rt.db.read() as s:
        accounts = housekeeping.accounts_with_retention(s)
    expired = 0
    for account_id in accounts:
        with rt.db.write() as s:
            expired += housekeeping.expire(s, account_id, rt.clock.now_ms())
    return {"accounts": len(accounts), "expired": expired}
