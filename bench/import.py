"""How fast ``strongroom import`` stores messages, against floors measured in the same run.

Generates two inputs (kept with ``--keep DIR`` and reused when present):

* an SMS Backup & Restore XML file of ``--messages`` messages, 1% MMS with a 100 KB picture
  (the generator of ``bench/import_parse.py``);
* an ``sms.db`` of ``--db-messages`` rows, 60% of bodies only in ``attributedBody`` (the
  generator of ``bench/import_messages_db.py``).

For each it runs the real command, ``strongroom import FILE --user bench --json``, on a fresh
data folder (SQLite, or ``--database-url``), and samples the summed RSS of the command and its
reading process every 50 ms.  The floors, each in its own process:

* parse: ``lxml.etree.iterparse`` over the XML, clearing each element, doing nothing else
  (for the sms.db: plain sqlite3 reading every message row);
* insert: the same number of rows inserted with plain sqlite3 ``executemany`` into a messages
  table with the conversation index, in one transaction.

The floors are measured before the first import and after each import, and each import is
compared with the mean of the floors on either side of it: this machine's pace drifts within
minutes, so a run compared with floors measured on one side only was off by a quarter at times.
With ``--runs`` above one it also prints the median ratio, and the median import time over the
median summed floors.

Each measurement starts on a quiet disk (``sync`` first): what one leaves for the kernel to
write back would otherwise slow the next.  Each run's data folder is deleted right after it.

The package's modules are compiled to bytecode first, as an installed package's are: where
``PYTHONDONTWRITEBYTECODE`` is set (this project's machines set it), each run would otherwise
compile them again, a fifth of a second in each of its two processes.

Prints messages per second, peak RSS, and the ratio of our time to the summed floors.  Usage::

    python bench/import.py [--messages 1000000] [--db-messages 200000] [--keep DIR]
    python bench/import.py --messages 100000 --db-messages 20000      # a quick look
    python bench/import.py --keep DIR --runs 3     # three runs of each, and their spread
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import import_messages_db  # noqa: E402
import import_parse  # noqa: E402

STRONGROOM = [sys.executable, "-m", "strongroom"]
INPUTS = "v2"
"""In the inputs' names, so that inputs kept from an earlier generator are not reused (v2: a
picture of its own for every MMS and attachment, random iMessage guids)."""


_CHILDREN_FILES = Path(f"/proc/self/task/{os.getpid()}/children").exists()
"""Whether this kernel lists a thread's children in /proc (Linux 3.5 and later, usually)."""


def _children(pid: int) -> list[int]:
    """The child processes of ``pid``: from its threads' ``children`` files where the kernel has
    them (a few small reads), else from every process's ``stat``.  The full walk over /proc
    cost 3.3 ms per sample here, 6.6% of a core taken from the import it measures."""
    if not _CHILDREN_FILES:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        return found
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found = []
    for tid in threads:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return found


def tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += _children(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
    return total


def run_import(path: Path, work: Path, database_url: str | None) -> dict[str, float]:
    data = work / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env["STRONGROOM_DATA"] = str(data)
    if database_url:
        env["STRONGROOM_DATABASE_URL"] = database_url
    subprocess.run(
        [*STRONGROOM, "user", "create", "bench", "--password-stdin"],
        input="bench password 1234\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*STRONGROOM, "import", str(path), "--user", "bench", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"strongroom import failed ({proc.returncode}): {out}")
    report = json.loads(out)
    return {
        "seconds": elapsed,
        "imported": report["imported"],
        "messages": report["messages"],
        "peak_rss_mb": peak / 1024,
    }


def insert_floor(rows: int, work: Path) -> float:
    """Seconds for plain sqlite3 to insert ``rows`` message rows with the conversation index."""
    path = work / "floor.db"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)  # noqa: TID251 - the floor is plain sqlite3 on purpose
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, account_id INT, conversation_id INT, "
        "direction TEXT, sender_id INT, date INT, read INT, body TEXT, fingerprint BLOB)"
    )
    db.execute("CREATE INDEX ix_conv ON messages (conversation_id, date)")
    started = time.perf_counter()
    batch = 10_000
    with db:
        for start in range(0, rows, batch):
            db.executemany(
                "INSERT INTO messages VALUES (?, 1, ?, ?, ?, ?, 1, ?, ?)",
                (
                    (i, i % 997, "in", i % 997, 1_500_000_000_000 + i, f"Message number {i}",
                     i.to_bytes(16, "big"))
                    for i in range(start, min(rows, start + batch))
                ),
            )  # fmt: skip
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def in_child(kind: str, path: Path) -> float:
    """Seconds for a floor reader, run in a fresh process."""
    code = (
        "import sys, time; sys.path[:0] = [sys.argv[3], sys.argv[4]];"
        "import import_parse, import_messages_db; t = time.perf_counter();"
        "(import_parse.floor if sys.argv[1] == 'xml' else import_messages_db.measure_floor)"
        "(__import__('pathlib').Path(sys.argv[2])); print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, kind, str(path), str(ROOT / "bench"), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.split()[-1])


def report(name: str, ours: dict[str, float], parse_s: float, insert_s: float) -> float:
    """Print one run's figures; return its ratio to the summed floors."""
    n = ours["messages"]
    floor = parse_s + insert_s
    print(f"\n{name}: {int(n):,} messages, {int(ours['imported']):,} imported")
    print(f"  strongroom import   {ours['seconds']:8.1f} s  {n / ours['seconds']:9,.0f} msg/s  "
          f"peak RSS {ours['peak_rss_mb']:.0f} MB")  # fmt: skip
    print(f"  floor: parse        {parse_s:8.1f} s  {n / parse_s:9,.0f} msg/s")
    print(f"  floor: insert       {insert_s:8.1f} s  {n / insert_s:9,.0f} rows/s")
    print(f"  ratio to the summed floors: {ours['seconds'] / floor:.2f}x  (target: under 2.5x)")
    return ours["seconds"] / floor


def settle() -> None:
    """Let the disk go quiet before the next measurement: an import leaves a gigabyte or more
    for the kernel to write back (its attachments), and that writing, left to run on, slowed
    whatever came next (the floors, the next run) by up to half."""
    os.sync()
    time.sleep(1)


def floors(kind: str, path: Path, messages: int, tmp: Path) -> tuple[float, float]:
    """The two floors for ``messages`` messages of ``path``: parse and insert, seconds."""
    work = tmp / f"{kind}-floors"
    work.mkdir()
    settle()
    parse_s = in_child(kind, path)
    settle()
    insert_s = insert_floor(messages, work)
    shutil.rmtree(work)
    return parse_s, insert_s


def expected_messages(kind: str, path: Path, generated: int) -> int:
    """How many messages the import of ``path`` will read (for the floors measured before it):
    the XML generator writes exactly ``generated``; the sms.db's tapbacks are not messages."""
    if kind == "xml":
        return generated
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # noqa: TID251 - the benchmark's input
    try:
        return int(db.execute("SELECT count(*) FROM message WHERE associated_message_type = 0")
                   .fetchone()[0])  # fmt: skip
    finally:
        db.close()


def measure(
    title: str,
    kind: str,
    path: Path,
    tmp: Path,
    database_url: str | None,
    runs: int,
    generated: int,
) -> None:
    """``runs`` runs of the import, with the floors measured before the first and after every
    one.  This machine's speed drifts by a fifth, at times by half, from one minute to the next,
    so each import is compared with the mean of the floors measured just before and just after
    it: a drift during the run then moves both sides."""
    ratios, speeds, seconds, floor_sums = [], [], [], []
    messages = expected_messages(kind, path, generated)
    before = floors(kind, path, messages, tmp)
    for run in range(runs):
        work = tmp / f"{kind}-{run}"
        work.mkdir()
        settle()
        ours = run_import(path, work, database_url)
        shutil.rmtree(work)
        if int(ours["messages"]) != messages:
            messages = int(ours["messages"])  # the floors of the same number of rows
            before = floors(kind, path, messages, tmp)
        after = floors(kind, path, messages, tmp)
        parse_s, insert_s = ((b + a) / 2 for b, a in zip(before, after, strict=True))
        print(f"\n(floors before this run: parse {before[0]:.1f} s, insert {before[1]:.1f} s; "
              f"after: {after[0]:.1f} s, {after[1]:.1f} s)")  # fmt: skip
        ratios.append(report(f"{title}, run {run + 1} of {runs}", ours, parse_s, insert_s))
        speeds.append(ours["messages"] / ours["seconds"])
        seconds.append(ours["seconds"])
        floor_sums.append(parse_s + insert_s)
        before = after
    if runs > 1:
        print(f"\n{title}: {runs} runs, ratio {min(ratios):.2f}-{max(ratios):.2f}x "
              f"(median {statistics.median(ratios):.2f}x; median import over median floors "
              f"{statistics.median(seconds) / statistics.median(floor_sums):.2f}x), "
              f"{min(speeds):,.0f}-{max(speeds):,.0f} msg/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--db-messages", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated inputs here")
    parser.add_argument("--database-url", help="import into this database instead of SQLite")
    parser.add_argument("--only", choices=["xml", "db"])
    parser.add_argument("--runs", type=int, default=1, help="runs of each input (with floors)")
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "src", quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        inputs = args.keep or Path(tmp)
        inputs.mkdir(parents=True, exist_ok=True)
        if args.only != "db":
            xml = inputs / f"sms-{args.messages}-{INPUTS}.xml"
            if not xml.exists():
                print(f"generating {xml} ...", flush=True)
                import_parse.generate(xml, args.messages)
            title = f"SMS Backup & Restore XML ({xml.stat().st_size / 1e9:.2f} GB)"
            measure(title, "xml", xml, Path(tmp), args.database_url, args.runs, args.messages)
        if args.only != "xml":
            db = inputs / f"db-{args.db_messages}-{INPUTS}" / "sms.db"
            if not db.exists():
                db.parent.mkdir(parents=True, exist_ok=True)
                print(f"generating {db} ...", flush=True)
                import_messages_db.generate(db, args.db_messages)
            measure(
                "sms.db (60% attributedBody)",
                "db",
                db,
                Path(tmp),
                args.database_url,
                args.runs,
                args.db_messages,
            )


if __name__ == "__main__":
    main()
