"""Background work: a job queue in the database, workers, and the job kinds.

``make_worker(runtime)`` builds a worker that knows every job kind and schedule.
"""

from __future__ import annotations

from strongroom.jobs.tasks import HANDLERS, SCHEDULES, make_worker

__all__ = ["HANDLERS", "SCHEDULES", "make_worker"]
