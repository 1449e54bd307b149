"""The job queue in the database: enqueue, claim (once, across processes), heartbeat, finish.

# Race: several workers claim at once.  On PostgreSQL the candidate row is selected
# ``FOR UPDATE SKIP LOCKED`` inside the claiming UPDATE, so two workers never take the same job
# and neither waits for the other; on SQLite the claim runs in a ``BEGIN IMMEDIATE`` transaction,
# which admits one writer at a time.  A job whose lease ran out (its worker died) is claimable
# again, so work is done at least once and never by two live workers at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from strongroom.db import upsert
from strongroom.errors import NotFound
from strongroom.jobs.models import Job, Schedule
from strongroom.types import Millis

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    account_id: int | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    now: Millis,
    account_id: int | None = None,
    run_after: Millis | None = None,
    max_attempts: int = 3,
) -> int:
    job = Job(
        kind=kind,
        account_id=account_id,
        payload=payload or {},
        status=QUEUED,
        run_after=run_after if run_after is not None else now,
        attempts=0,
        max_attempts=max_attempts,
        created_at=now,
        progress={},
    )
    session.add(job)
    session.flush()
    return job.id


def claim(session: Session, worker: str, *, now: Millis, lease_ms: int) -> Claimed | None:
    """Take the next runnable job for ``worker`` (see the module note on races)."""
    runnable = or_(
        (Job.status == QUEUED) & (Job.run_after <= now),
        (Job.status == RUNNING) & (Job.locked_until < now) & (Job.attempts < Job.max_attempts),
    )
    candidate = (
        select(Job.id)
        .where(runnable)
        .order_by(Job.run_after, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = session.execute(
        update(Job)
        .where(Job.id == candidate, runnable)
        .values(
            status=RUNNING,
            locked_by=worker,
            locked_until=now + lease_ms,
            attempts=Job.attempts + 1,
            started_at=now,
        )
        .returning(Job.id, Job.kind, Job.account_id, Job.payload, Job.attempts, Job.max_attempts)
    ).first()
    if row is None:
        return None
    return Claimed(int(row[0]), str(row[1]), row[2], dict(row[3] or {}), int(row[4]), int(row[5]))


def heartbeat(session: Session, job_id: int, worker: str, *, now: Millis, lease_ms: int) -> bool:
    """Extend the lease; False if the job is no longer this worker's."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker, Job.status == RUNNING)
        .values(locked_until=now + lease_ms)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def set_progress(session: Session, job_id: int, progress: dict[str, Any]) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(progress=progress))


def set_payload(session: Session, job_id: int, payload: dict[str, Any]) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(payload=payload))


def finish(
    session: Session,
    job_id: int,
    worker: str,
    *,
    now: Millis,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    retry_at: Millis | None = None,
) -> None:
    """Record the outcome: done, failed for good, or queued again for ``retry_at``."""
    if error is None:
        values: dict[str, Any] = {"status": DONE, "result": result or {}}
    elif retry_at is not None:
        values = {"status": QUEUED, "run_after": retry_at, "error": error}
    else:
        values = {"status": FAILED, "error": error}
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker)
        .values(locked_by=None, locked_until=None, finished_at=now, **values)
    )


def get_job(session: Session, job_id: int, account_id: int | None = None) -> Job:
    """A job, only if it belongs to ``account_id`` when one is given.  Raises NotFound."""
    job = session.get(Job, job_id)
    if job is None or (account_id is not None and job.account_id != account_id):
        raise NotFound("no such job")
    return job


def due_schedule(session: Session, name: str, interval_ms: int, now: Millis) -> bool:
    """True for exactly one caller per period across all processes (compare-and-set)."""
    upsert(
        session,
        Schedule,
        {"name": name, "next_run_at": now, "interval_ms": interval_ms},
        key=["name"],
        update=None,
    )
    moved = session.execute(
        update(Schedule)
        .where(Schedule.name == name, Schedule.next_run_at <= now)
        .values(next_run_at=now + interval_ms, interval_ms=interval_ms)
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]
