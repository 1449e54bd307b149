"""Message sync latency with a million messages, against the same queries in plain sqlite3.

    .venv/bin/python bench/messages.py                 # 1,000,000 messages
    .venv/bin/python bench/messages.py --messages 100000

Loads the messages into one account through the bulk path (`Ingest`, as imports do), starts
`strongroom serve` on the SQLite file, and measures p50/p99 over real HTTP of: a changes call with
nothing changed, pulling 10,000 changes (the changes call plus fetching the messages), the newest
page of a conversation, and searches for a rare and a common word.  In the same run the floor:
the database queries behind each, issued directly with sqlite3.  Targets (issue 4): nothing
changed under 5 ms p99, conversation page under 20 ms p99, search under 100 ms p95, each within
3x of its floor.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from strongroom.accounts import service  # noqa: E402
from strongroom.accounts.keys import vault_for  # noqa: E402
from strongroom.config import Settings  # noqa: E402
from strongroom.messages import housekeeping  # noqa: E402
from strongroom.messages.ingest import Ingest  # noqa: E402
from strongroom.messages.records import MessageRecord  # noqa: E402
from strongroom.runtime import open_runtime  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
COMMON = ["ok", "the", "see", "you", "love", "lol", "yes", "no", "thanks", "home", "later"]
RARE = "quixotic"


def messages(n: int, rng: random.Random) -> list[MessageRecord]:
    people = [f"+1555{rng.randrange(10**7):07d}" for _ in range(300)]
    weights = [1 / (i + 1) for i in range(len(people))]
    start = 1_500_000_000_000
    out = []
    for i in range(n):
        who = rng.choices(people, weights)[0]
        words = rng.choices(COMMON, k=rng.randint(2, 12))
        if i % 100_000 == 7:
            words.append(RARE)
        incoming = rng.random() < 0.6
        out.append(
            MessageRecord(
                kind="sms",
                direction="in" if incoming else "out",
                date_ms=start + i * 30_000,
                body=" ".join(words),
                sender=who if incoming else None,
                participants=[who],
                read=rng.random() < 0.95,
                status="received" if incoming else "sent",
                source="bench",
            )
        )
    return out


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), qs[94], qs[98]


def measure(fn: Callable[[], object], rounds: int) -> tuple[float, float, float]:
    fn()
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return percentiles(samples)


def load(data: Path, n: int) -> tuple[str, int]:
    settings = Settings(data=data, run_jobs=False)
    rt = open_runtime(settings)
    with rt.db.write() as s:
        account = service.create_account(
            s,
            "bench",
            "bench password",
            keyring=rt.keyring,
            quota_bytes=10**12,
            default_region="US",
            now=rt.clock.now_ms(),
        )
        housekeeping.switch(s, account.id, True, None)
    with rt.db.read() as s:
        vault = vault_for(s, rt.store, rt.keyring, account.id)
    ingest = Ingest(rt.db, vault, rt.clock, account.id, source="bench")
    rng = random.Random(4)
    t = time.perf_counter()
    batch = 5000
    all_records = messages(n, rng)
    for start in range(0, n, batch):
        ingest.add([(None, r) for r in all_records[start : start + batch]])
    elapsed = time.perf_counter() - t
    print(f"loaded {n} messages in {elapsed:.0f} s ({n / elapsed:.0f}/s)")
    rt.close()
    return settings.database_url.removeprefix("sqlite:///"), account.id


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-") as tmp:
        data = Path(tmp) / "data"
        db_path, account = load(data, args.messages)
        floor = sqlite3.connect(db_path)
        state = floor.execute(
            "SELECT change_seq FROM accounts WHERE id = ?", (account,)
        ).fetchone()[0]
        convo = floor.execute(
            "SELECT id FROM conversations WHERE account_id = ? ORDER BY message_count DESC LIMIT 1",
            (account,),
        ).fetchone()[0]

        with serving(data) as port:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                token = http.post(
                    "/api/v1/devices",
                    json={
                        "user": "bench",
                        "password": "bench password",
                        "name": "bench",
                        "platform": "linux",
                    },
                ).json()["token"]
                http.headers["Authorization"] = f"Bearer {token}"
                rows = _rows(http, floor, account, state, convo, args.rounds)
    print()
    print(
        "| query | Strongroom p50 / p95 / p99 (ms) | sqlite3 floor p50 / p95 / p99 (ms) "
        "| p99 ÷ floor p99 |"
    )
    print("|---|---|---|---|")
    for name, ours, base in rows:
        print(
            f"| {name} | {ours[0]:.2f} / {ours[1]:.2f} / {ours[2]:.2f} | "
            f"{base[0]:.3f} / {base[1]:.3f} / {base[2]:.3f} | {ours[2] / max(base[2], 1e-3):.1f} |"
        )


def _rows(
    http: httpx.Client, floor: sqlite3.Connection, account: int, state: int, convo: int, rounds: int
) -> list[tuple[str, tuple[float, float, float], tuple[float, float, float]]]:
    since = str(max(0, state - 10_000))  # (a small run has fewer than 10,000 changes)

    def pull() -> None:
        changes = http.get(
            "/api/v1/messages/changes", params={"since": since, "max": 10_000}
        ).json()
        ids = changes["created"]
        for i in range(0, len(ids), 1000):
            http.post("/api/v1/messages/get", json={"ids": ids[i : i + 1000]})

    def pull_floor() -> None:
        ids = [
            r[0]
            for r in floor.execute(
                "SELECT object_id FROM changes WHERE account_id = ? AND kind = 'message' "
                "AND seq > ? ORDER BY seq LIMIT 10001",
                (account, state - 10_000),
            )
        ]
        for i in range(0, len(ids), 1000):
            floor.execute(
                f"SELECT * FROM messages WHERE id IN ({','.join('?' * len(ids[i : i + 1000]))})",
                ids[i : i + 1000],
            ).fetchall()

    fts = (
        "SELECT rowid, body FROM messages_fts WHERE messages_fts MATCH ? "
        "ORDER BY rowid DESC LIMIT 50"
    )
    return [
        (
            "changes, nothing changed",
            measure(
                lambda: http.get("/api/v1/messages/changes", params={"since": str(state)}), rounds
            ),
            measure(
                lambda: floor.execute(
                    "SELECT change_seq, changes_floor FROM accounts WHERE id = ?", (account,)
                ).fetchone(),
                rounds,
            ),
        ),
        (
            "pull 10,000 changes (changes + get)",
            measure(pull, max(10, rounds // 20)),
            measure(pull_floor, max(10, rounds // 20)),
        ),
        (
            "newest page of a conversation",
            measure(
                lambda: http.get(f"/api/v1/conversations/{convo}/messages", params={"limit": 50}),
                rounds,
            ),
            measure(
                lambda: floor.execute(
                    "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT 50",
                    (convo,),
                ).fetchall(),
                rounds,
            ),
        ),
        (
            f"search, rare word ({RARE})",
            measure(lambda: http.get("/api/v1/messages/search", params={"q": RARE}), rounds),
            measure(
                lambda: floor.execute(fts, (f'tags : a{account} AND "{RARE}"',)).fetchall(), rounds
            ),
        ),
        (
            "search, common word (ok)",
            measure(lambda: http.get("/api/v1/messages/search", params={"q": "ok"}), rounds),
            measure(
                lambda: floor.execute(fts, (f'tags : a{account} AND "ok"',)).fetchall(), rounds
            ),
        ),
    ]


@contextmanager
def serving(data: Path) -> Iterator[int]:
    """``strongroom serve`` on the data folder, on a free port (yielded); stopped afterwards."""
    port = _free_port()
    env = {**os.environ, "STRONGROOM_DATA": str(data), "STRONGROOM_RUN_JOBS": "false"}
    server = subprocess.Popen(
        [PY, "-m", "strongroom", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(port)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


if __name__ == "__main__":
    main()
