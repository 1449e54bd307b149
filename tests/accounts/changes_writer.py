"""A separate process appending changes, for the concurrency tests of the change sequence.

python -m tests.accounts.changes_writer URL ACCOUNT_ID FIRST_OBJECT_ID COUNT
"""

from __future__ import annotations

import sys

from strongroom.accounts import changes
from strongroom.db import Database


def main() -> None:
    url, account_id, first, count = sys.argv[1], *map(int, sys.argv[2:5])
    db = Database(url)
    for oid in range(first, first + count):
        with db.write() as s:
            # several statements before the sequence number, so transactions overlap
            s.connection().exec_driver_sql("SELECT 1")
            changes.record(s, account_id, "item", [(oid, changes.CREATED)], now=0)
    db.dispose()


if __name__ == "__main__":
    main()
