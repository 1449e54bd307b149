"""Real `strongroom worker` processes sharing one database."""

from __future__ import annotations

import subprocess
import sys
import time

from sqlalchemy import select

from strongroom.jobs import SCHEDULES
from strongroom.jobs.models import Job
from strongroom.runtime import open_runtime
from tests.cli.helpers import cli_env
from tests.conftest import make_settings


def test_two_worker_processes_run_each_scheduled_job_once(tmp_path, db_url):
    settings = make_settings(tmp_path / "data", db_url)
    open_runtime(settings).close()
    env = cli_env(settings.data, db_url)
    env.pop("PYTHONWARNINGS")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "strongroom", "worker", "--poll", "0.1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        rt = open_runtime(settings)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with rt.db.read() as s:
                jobs = s.execute(select(Job.kind, Job.status, Job.locked_by)).all()
            if len(jobs) >= len(SCHEDULES) and all(j.status == "done" for j in jobs):
                break
            time.sleep(0.2)
        time.sleep(1.0)  # both workers keep polling: nothing more may be queued or run
        with rt.db.read() as s:
            jobs = s.execute(select(Job.kind, Job.status)).all()
        rt.close()
    finally:
        outputs = []
        for p in procs:
            p.terminate()
            outputs.append(p.communicate(timeout=30)[0])
    assert sorted(jobs) == sorted((p.kind, "done") for p in SCHEDULES), outputs
    assert all(p.returncode == 0 for p in procs), outputs
