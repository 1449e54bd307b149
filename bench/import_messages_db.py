"""Measure the ``messages-db`` reader on a generated 200,000-message ``sms.db``.

60% of the bodies are only in ``attributedBody`` (as on iOS 16+), 2% of the rows are tapbacks,
1% of the messages carry a picture; 50 chats, some of them groups.  Each measurement runs in a
fresh child process so its peak RSS is its own.  The floor is plain sqlite3 iterating the same
rows (``SELECT * FROM message``) and doing nothing else.

    python bench/import_messages_db.py [--messages N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.formats.apple_fixtures import MessagesDb, apple_ns, attributed_body  # noqa: E402

WORDS = "ok see you at the station tomorrow lunch running late 🙂 sounds good call me".split()


PICTURE = 20_000
"""Bytes of each attached picture."""


def _guid(rng: random.Random) -> str:
    """A message guid as iMessage makes them: a random UUID, so that the guid index takes its
    rows all over (not one after the other, as counted ones would)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()


def generate(path: Path, count: int) -> None:
    """Write an sms.db of ``count`` message rows at ``path`` (attachments beside it)."""
    rng = random.Random(7)
    db = MessagesDb(path)
    handles = [db.handle(f"+1555{i:07d}") for i in range(80)]
    members = [[handles[i]] for i in range(40)] + [rng.sample(handles, 4) for _ in range(10)]
    chats = [
        db.chat(people, display_name=f"Group {i}" if len(people) > 1 else None)
        for i, people in enumerate(members)
    ]
    folder = path.parent / "Attachments" / "ab"
    folder.mkdir(parents=True, exist_ok=True)
    t0 = 1_600_000_000_000
    rows, joins, attachments = [], [], []
    guids = [""] + [_guid(rng) for _ in range(count)]
    for rowid in range(1, count + 1):
        chat = rng.randrange(len(chats))  # each message in a chat, from one of its members
        text = " ".join(rng.choices(WORDS, k=rng.randint(2, 25)))
        blob_only = rng.random() < 0.6
        tapback = rng.random() < 0.02 and rowid > 1
        picture = not tapback and rng.random() < 0.01
        if picture:
            text = "\ufffc" + text
            attachments.append(rowid)
        rows.append(
            (
                rowid,
                guids[rowid],
                None if blob_only else text,
                attributed_body(text),
                rng.choice(members[chat]),
                "iMessage",
                apple_ns(t0 + rowid * 60_000),
                rng.random() < 0.5,
                1,
                f"p:0/{guids[rowid - 1]}" if tapback else None,
                2000 if tapback else 0,
                int(picture),
            )
        )
        joins.append((chats[chat], rowid))
    db.conn.executemany(
        "INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, service, date,"
        " is_from_me, is_read, associated_message_guid, associated_message_type,"
        " cache_has_attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.conn.executemany("INSERT INTO chat_message_join (chat_id, message_id) VALUES (?, ?)", joins)
    for rowid in attachments:  # each its own picture, as on a phone (none stored twice)
        (folder / f"p{rowid}.jpg").write_bytes(b"\xff\xd8" + rng.randbytes(PICTURE))
        db.attachment(rowid, f"~/Library/SMS/Attachments/ab/p{rowid}.jpg", "image/jpeg", "p.jpg")
    db.close()


def measure_reader(path: Path) -> dict[str, float]:
    from strongroom.formats.base import ReadOptions
    from strongroom.formats.messages_db import MessagesDbReader
    from strongroom.messages.records import MessageRecord

    start = time.perf_counter()
    messages = reactions = 0
    for record in MessagesDbReader().read(path, ReadOptions()):
        if isinstance(record, MessageRecord):
            messages += 1
        else:
            reactions += 1
    return {"seconds": time.perf_counter() - start, "messages": messages, "other": reactions}


def measure_floor(path: Path) -> dict[str, float]:
    import sqlite3

    start = time.perf_counter()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # noqa: TID251 - the floor
    rows = sum(1 for _ in conn.execute("SELECT * FROM message"))
    conn.close()
    return {"seconds": time.perf_counter() - start, "messages": rows, "other": 0}


def peak_rss_mb() -> float:
    """This process's peak RSS.  Not ``getrusage``: Linux keeps ``ru_maxrss`` across exec, so a
    child would report the generating parent's peak; ``VmHWM`` starts afresh with the process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, path: Path) -> None:
    result = measure_reader(path) if kind == "reader" else measure_floor(path)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def run(kind: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="folder for the generated sms.db")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "sms.db"
        path.unlink(missing_ok=True)
        start = time.perf_counter()
        generate(path, args.messages)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.messages} rows ({size_mb:.0f} MB) in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        for kind in ("floor", "reader"):
            r = run(kind, path)
            rate = r["messages"] / r["seconds"]
            print(f"{kind:6}: {r['messages']:.0f} messages (+{r['other']:.0f} other records) in "
                  f"{r['seconds']:.2f} s = {rate:,.0f} messages/s, "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
