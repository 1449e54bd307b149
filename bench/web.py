"""Server time of the messages pages (HTML) with a million messages.

    .venv/bin/python bench/web.py                    # 1,000,000 messages
    .venv/bin/python bench/web.py --messages 100000  # a quick run

Loads the messages into one account with the loader of `bench/messages.py` (the bulk path that
imports use), starts `strongroom serve` on the SQLite file, logs in through the log-in form as a
browser does (session cookie), and measures p50/p95/p99 over real HTTP (httpx, one connection
kept alive) of the pages a reader opens: the conversation list, the newest page of the biggest
conversation, an older page of it, and search pages for a rare and a common word.  Target
(issue 7): p99 under 100 ms for each.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.messages import (  # noqa: E402
    RARE,
    load,
    measure,
    serving,
)

TARGET_P99_MS = 100.0


def log_in(http: httpx.Client, user: str, password: str) -> None:
    """The log-in form, as a browser sends it: its CSRF token and cookie, then the session."""
    page = http.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if match is None:
        raise SystemExit("the log-in page has no CSRF token")
    answer = http.post(
        "/login", data={"csrf_token": match.group(1), "user": user, "password": password}
    )
    if answer.status_code != 303 or "strongroom_session" not in http.cookies:
        raise SystemExit(f"log-in failed: {answer.status_code}")


def pages(db_path: str, account: int) -> list[tuple[str, str]]:
    """The pages to time: (label, path)."""
    db = sqlite3.connect(db_path)
    convo, count = db.execute(
        "SELECT id, message_count FROM conversations WHERE account_id = ? "
        "ORDER BY message_count DESC LIMIT 1",
        (account,),
    ).fetchone()
    middle = db.execute(
        "SELECT id FROM messages WHERE conversation_id = ? ORDER BY id LIMIT 1 OFFSET ?",
        (convo, count // 2),
    ).fetchone()[0]
    db.close()
    return [
        ("conversation list (/messages)", "/messages"),
        (f"conversation, newest page ({count:,} messages)", f"/messages/c/{convo}"),
        ("conversation, an older page (?before=)", f"/messages/c/{convo}?before={middle}"),
        (f"search page, rare word ({RARE})", f"/messages/search?q={RARE}"),
        ("search page, common word (ok)", "/messages/search?q=ok"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-web-") as tmp:
        data = Path(tmp) / "data"
        db_path, account = load(data, args.messages)
        timed = pages(db_path, account)
        with serving(data) as port:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                log_in(http, "bench", "bench password")
                rows = []
                for label, path in timed:
                    check = http.get(path)
                    if check.status_code != 200 or "text/html" not in check.headers["content-type"]:
                        raise SystemExit(f"{path} answered {check.status_code}")
                    rows.append(
                        (
                            label,
                            len(check.content),
                            measure(lambda p=path: http.get(p), args.rounds),
                        )
                    )
    print()
    print(f"{args.messages:,} messages, {args.rounds} requests each, one keep-alive connection")
    print()
    print("| page | HTML size | p50 (ms) | p95 (ms) | p99 (ms) | p99 under 100 ms |")
    print("|---|---:|---:|---:|---:|---|")
    for label, size, (p50, p95, p99) in rows:
        verdict = "yes" if p99 < TARGET_P99_MS else "**no**"
        print(f"| {label} | {size / 1000:.0f} kB | {p50:.1f} | {p95:.1f} | {p99:.1f} | {verdict} |")


if __name__ == "__main__":
    main()
