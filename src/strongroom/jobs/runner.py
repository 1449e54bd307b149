"""Workers: claim jobs from the queue and run them, and enqueue periodic jobs when due.

A :class:`Worker` runs in ``strongroom worker`` processes, and in a thread of ``strongroom serve``
on the embedded default.  Any number of them may run against one database: the queue hands each
job to one of them (``queue.claim``) and each schedule fires once per period (``due_schedule``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strongroom.errors import InvalidInput, StrongroomError
from strongroom.jobs import queue
from strongroom.runtime import Runtime

log = logging.getLogger("strongroom.jobs")


@dataclass
class JobContext:
    """What a job handler gets: the runtime, the job and a way to report progress."""

    runtime: Runtime
    job: queue.Claimed
    worker: Worker

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload

    def progress(self, **values: Any) -> None:
        with self.runtime.db.write() as s:
            queue.set_progress(s, self.job.id, values)


Handler = Callable[[JobContext], dict[str, Any] | None]


@dataclass(frozen=True)
class Periodic:
    """Enqueue ``kind`` every ``interval_ms``."""

    kind: str
    interval_ms: int
    payload: dict[str, Any] = field(default_factory=dict)


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        handlers: dict[str, Handler],
        schedules: list[Periodic] | None = None,
        *,
        lease_ms: int = 60_000,
        poll_s: float = 1.0,
        name: str | None = None,
    ) -> None:
        self.rt = runtime
        self.handlers = handlers
        self.schedules = schedules or []
        self.lease_ms = lease_ms
        self.poll_s = poll_s
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.stopping = threading.Event()

    def enqueue_due(self) -> int:
        """Enqueue every periodic job whose time has come; return how many this worker queued."""
        queued = 0
        for periodic in self.schedules:
            now = self.rt.clock.now_ms()
            with self.rt.db.write() as s:
                if queue.due_schedule(s, periodic.kind, periodic.interval_ms, now):
                    queue.enqueue(s, periodic.kind, periodic.payload, now=now)
                    queued += 1
        return queued

    def run_once(self) -> bool:
        """Claim and run one job; False if there was none."""
        with self.rt.db.write() as s:
            job = queue.claim(s, self.name, now=self.rt.clock.now_ms(), lease_ms=self.lease_ms)
        if job is None:
            return False
        self._run(job)
        return True

    def _run(self, job: queue.Claimed) -> None:
        handler = self.handlers.get(job.kind)
        beat = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(job.id, beat), daemon=True)
        keeper.start()
        result: dict[str, Any] | None = None
        error: str | None = None
        bad_input = False  # no retry: the same input would fail the same way
        try:
            if handler is None:
                raise StrongroomError(f"no handler for job kind {job.kind!r}")
            result = handler(JobContext(self.rt, job, self))
        except Exception as e:  # noqa: BLE001 - a failing job must not stop the worker
            error = e.detail if isinstance(e, StrongroomError) else f"{type(e).__name__}: {e}"
            bad_input = isinstance(e, InvalidInput)
            log.error("job %s (%s) failed: %s\n%s", job.id, job.kind, error, traceback.format_exc())
        finally:
            beat.set()
            keeper.join()
        retry = None
        if (
            error is not None
            and job.attempts < job.max_attempts
            and handler is not None
            and not bad_input
        ):
            retry = self.rt.clock.now_ms() + 60_000 * job.attempts
        with self.rt.db.write() as s:
            queue.finish(
                s,
                job.id,
                self.name,
                now=self.rt.clock.now_ms(),
                result=result,
                error=error,
                retry_at=retry,
            )

    def _keep_lease(self, job_id: int, done: threading.Event) -> None:
        while not done.wait(self.lease_ms / 3000):
            with self.rt.db.write() as s:
                queue.heartbeat(
                    s, job_id, self.name, now=self.rt.clock.now_ms(), lease_ms=self.lease_ms
                )

    def run_until_idle(self, max_jobs: int = 10_000) -> int:
        """Enqueue what is due, then run jobs until none is left; return how many ran."""
        self.enqueue_due()
        ran = 0
        while ran < max_jobs and self.run_once():
            ran += 1
        return ran

    def run_forever(self) -> None:
        """Loop until :meth:`stop`: enqueue due jobs, run what is queued, sleep when idle."""
        log.info("worker %s started", self.name)
        while not self.stopping.is_set():
            try:
                self.enqueue_due()
                while not self.stopping.is_set() and self.run_once():
                    pass
            except Exception:  # noqa: BLE001 - e.g. the database restarting; try again later
                log.exception("worker %s: error in the job loop", self.name)
            self.stopping.wait(self.poll_s)
        log.info("worker %s stopped", self.name)

    def stop(self) -> None:
        self.stopping.set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="strongroom-jobs", daemon=True)
        thread.start()
        return thread
