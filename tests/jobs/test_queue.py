from __future__ import annotations

import subprocess
import sys

from strongroom.jobs import queue
from strongroom.jobs.models import Job
from strongroom.jobs.runner import Periodic, Worker


def _enqueue(rt, kind="k", n=1, **kw):
    with rt.db.write() as s:
        return [queue.enqueue(s, kind, {"i": i}, now=rt.clock.now_ms(), **kw) for i in range(n)]


def test_two_processes_claiming_at_once_take_each_job_exactly_once(runtime, tmp_path):
    ids = _enqueue(runtime, n=120)
    outs = [tmp_path / f"w{i}.txt" for i in range(2)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.jobs.claimer",
                runtime.settings.database_url,
                f"w{i}",
                str(out),
            ]
        )
        for i, out in enumerate(outs)
    ]
    for p in procs:
        assert p.wait(120) == 0
    claimed = [[int(x) for x in out.read_text().split()] for out in outs]
    assert sorted(claimed[0] + claimed[1]) == ids
    assert not set(claimed[0]) & set(claimed[1])


def test_a_job_whose_worker_died_is_taken_over_after_its_lease(runtime, clock):
    [job_id] = _enqueue(runtime)
    with runtime.db.write() as s:
        assert queue.claim(s, "dead", now=clock.now_ms(), lease_ms=1000).id == job_id
    with runtime.db.write() as s:
        assert queue.claim(s, "alive", now=clock.now_ms(), lease_ms=1000) is None
    clock.advance(seconds=0.5)
    with runtime.db.write() as s:
        assert queue.heartbeat(s, job_id, "dead", now=clock.now_ms(), lease_ms=1000)
    clock.advance(seconds=0.8)  # past the first lease, within the extended one
    with runtime.db.write() as s:
        assert queue.claim(s, "alive", now=clock.now_ms(), lease_ms=1000) is None
    clock.advance(seconds=0.5)
    with runtime.db.write() as s:
        taken = queue.claim(s, "alive", now=clock.now_ms(), lease_ms=1000)
        assert taken is not None and taken.id == job_id and taken.attempts == 2
        assert not queue.heartbeat(s, job_id, "dead", now=clock.now_ms(), lease_ms=1000)


def test_failing_jobs_are_retried_then_marked_failed(runtime, clock):
    calls = []

    def flaky(ctx):
        calls.append(ctx.job.attempts)
        raise ValueError("boom")

    worker = Worker(runtime, {"flaky": flaky})
    [job_id] = _enqueue(runtime, "flaky", max_attempts=2)
    assert worker.run_once()
    assert not worker.run_once()  # the retry waits
    clock.advance(seconds=61)
    assert worker.run_once()
    with runtime.db.read() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.attempts) == ("failed", 2)
        assert "boom" in job.error
    assert calls == [1, 2]


def test_results_and_progress_are_recorded(runtime):
    def counting(ctx):
        ctx.progress(done=1, of=2)
        return {"answer": 42}

    [job_id] = _enqueue(runtime, "count")
    Worker(runtime, {"count": counting}).run_until_idle()
    with runtime.db.read() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.result, job.progress) == (
            "done",
            {"answer": 42},
            {"done": 1, "of": 2},
        )


def test_a_schedule_fires_once_per_period_however_many_workers(runtime, clock):
    ran = []
    handlers = {"tick": lambda ctx: ran.append(ctx.worker.name) or {}}
    workers = [
        Worker(runtime, handlers, [Periodic("tick", 60_000)], name=f"w{i}") for i in range(3)
    ]
    for w in workers:
        w.run_until_idle()
    assert len(ran) == 1
    clock.advance(seconds=30)
    for w in workers:
        w.run_until_idle()
    assert len(ran) == 1
    clock.advance(seconds=31)
    for w in reversed(workers):
        w.run_until_idle()
    assert len(ran) == 2
