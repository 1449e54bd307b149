"""A separate process claiming jobs as fast as it can, for the queue concurrency tests.

python -m tests.jobs.claimer URL WORKER_NAME OUT_FILE
"""

from __future__ import annotations

import sys
from pathlib import Path

from strongroom.db import Database
from strongroom.jobs import queue


def main() -> None:
    url, name, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    db = Database(url)
    claimed = []
    while True:
        with db.write() as s:
            job = queue.claim(s, name, now=10**13, lease_ms=10**9)
        if job is None:
            break
        claimed.append(job.id)
    out.write_text("\n".join(map(str, claimed)))
    db.dispose()


if __name__ == "__main__":
    main()
