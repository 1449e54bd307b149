"""Background work: a job queue in the database, workers, and the job kinds.

``make_worker(runtime)`` builds a worker that knows every job kind and schedule.  The job kinds
(:mod:`strongroom.jobs.tasks`, which imports every domain's jobs) load on first use, so a
command that runs one job itself, such as ``strongroom import``, starts without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strongroom.jobs.tasks import HANDLERS, SCHEDULES, make_worker

__all__ = ["HANDLERS", "SCHEDULES", "make_worker"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from strongroom.jobs import tasks

        return getattr(tasks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
