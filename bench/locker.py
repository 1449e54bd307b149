"""Locker backup speed and size against `cp -r` (the floor) and restic (the peer), same run.

    .venv/bin/python bench/locker.py            # ~2 GB data set, as issue 6 describes
    .venv/bin/python bench/locker.py --scale 0.1

Builds a data set (300 "photos" of 2-6 MiB, 20 "videos" of 20-40 MiB, 2,000 documents of
1-20 KiB, 10% exact duplicates under other names), then measures, through the real HTTP API with
`strongroom files put`: a first backup, a second with nothing changed, and one after 1 MiB edits
inside 10 large files; wall time, peak RSS of client and server, bytes stored.  The same three
backups with `restic backup` to a local repository, and `cp -r` of the data set.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")


def build(dest: Path, scale: float, rng: random.Random) -> list[Path]:
    made: list[Path] = []

    def write(path: Path, size: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))
        made.append(path)

    for i in range(int(300 * scale)):
        write(
            dest / "Photos" / f"{2015 + i % 10}" / f"IMG_{i:04d}.jpg", rng.randint(2 * MiB, 6 * MiB)
        )
    for i in range(max(1, int(20 * scale))):
        write(dest / "Videos" / f"VID_{i:03d}.mp4", rng.randint(20 * MiB, 40 * MiB))
    for i in range(int(2000 * scale)):
        write(
            dest / "Documents" / f"folder{i % 40}" / f"doc_{i:04d}.txt",
            rng.randint(1024, 20 * 1024),
        )
    for i, original in enumerate(rng.sample(made, len(made) // 10)):
        copy = dest / "Duplicates" / f"copy_{i:04d}_{original.name}"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(original, copy)
    return made


def edit(files: list[Path], rng: random.Random) -> None:
    for path in sorted(files, key=lambda p: p.stat().st_size)[-10:]:
        size = path.stat().st_size
        with path.open("r+b") as f:
            f.seek(rng.randint(0, size - MiB))
            f.write(rng.randbytes(MiB))


def timed(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, int]:
    """Wall seconds and the child's peak RSS in bytes (via a fresh wrapper process)."""
    wrapper = (
        "import resource, subprocess, sys; "
        "r = subprocess.run(sys.argv[1:], stdin=sys.stdin, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
    )
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd], env=env, input=stdin, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed: {out.stderr[-2000:]}")
    return elapsed, int(out.stdout.strip().splitlines()[-1]) * 1024


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def tree_peak_rss(pid: int) -> tuple[int, int]:
    """Summed peak RSS of a process and its descendants (the server's worker processes), and
    how many processes that is.  Sum of peaks: an upper bound of their peak together."""
    total, count, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += peak_rss(current)
            count += 1
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue  # Race: it ended meanwhile
    return total, count


def wait_until_ready(port: int) -> None:
    """Until the server answers its health check: its socket accepts connections as soon as the
    supervising process has bound it, before the worker processes can answer, and that start-up
    is not part of a backup."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start within 60 s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def report(
    cp_s: float,
    restic: list[tuple[float, int]],
    ours: list[tuple[float, int]],
    total: int,
    restic_bytes: int,
    ours_bytes: int,
    server_rss: int,
) -> None:
    rows = [
        (
            "first backup",
            f"{cp_s:.1f} s",
            f"{restic[0][0]:.1f} s",
            f"{ours[0][0]:.1f} s",
            f"{ours[0][0] / restic[0][0]:.2f}",
        ),
        (
            "unchanged",
            "",
            f"{restic[1][0]:.2f} s",
            f"{ours[1][0]:.2f} s",
            f"{ours[1][0] / restic[1][0]:.2f}",
        ),
        (
            "after 1 MiB edits in 10 files",
            "",
            f"{restic[2][0]:.2f} s",
            f"{ours[2][0]:.2f} s",
            f"{ours[2][0] / restic[2][0]:.2f}",
        ),
        (
            "stored bytes",
            f"{total / MiB:.0f} MiB",
            f"{restic_bytes / MiB:.0f} MiB",
            f"{ours_bytes / MiB:.0f} MiB",
            f"{ours_bytes / restic_bytes:.2f}",
        ),
        (
            "peak RSS, client (first backup)",
            "",
            f"{restic[0][1] / MiB:.0f} MiB",
            f"{ours[0][1] / MiB:.0f} MiB",
            "",
        ),
        ("peak RSS, server (all its processes)", "", "", f"{server_rss / MiB:.0f} MiB", ""),
    ]
    print()
    print("| run | cp -r (floor) | restic 0.14 (peer) | Strongroom | Strongroom ÷ restic |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    speed, floor = total / MiB / ours[0][0], total / MiB / cp_s
    print(f"\nfirst backup: {speed:.0f} MiB/s; floor (cp -r + sync): {floor:.0f} MiB/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(20261127)
    work = Path(tempfile.mkdtemp(prefix="strongroom-bench-"))
    try:
        dataset = work / "dataset"
        originals = build(dataset, args.scale, rng)
        total = du(dataset)
        files = sum(1 for p in dataset.rglob("*") if p.is_file())
        print(f"data set: {files} files, {total / MiB:.0f} MiB")

        start = time.perf_counter()
        subprocess.run(["cp", "-r", str(dataset), str(work / "copy")], check=True)
        subprocess.run(["sync"], check=True)
        cp_s = time.perf_counter() - start
        shutil.rmtree(work / "copy")

        env = {
            **os.environ,
            "RESTIC_PASSWORD": "bench",
            "RESTIC_REPOSITORY": str(work / "restic"),
            "RESTIC_CACHE_DIR": str(work / "restic-cache"),
        }
        subprocess.run(["restic", "init", "-q"], env=env, check=True)
        restic = [timed(["restic", "backup", "-q", str(dataset)], env) for _ in range(2)]

        port = free_port()
        senv = {
            **os.environ,
            "STRONGROOM_DATA": str(work / "server"),
            "STRONGROOM_RUN_JOBS": "false",
            "STRONGROOM_CLIENT_DIR": str(work / "client"),
            "STRONGROOM_SERVER": f"http://127.0.0.1:{port}",
        }
        subprocess.run(
            [PY, "-m", "strongroom", "user", "create", "bench", "--password-stdin"],
            env=senv,
            input="bench password\n",
            text=True,
            check=True,
            capture_output=True,
        )
        server = subprocess.Popen(
            [PY, "-m", "strongroom", "serve", "--port", str(port)],
            env=senv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_ready(port)
            put = [
                PY,
                "-m",
                "strongroom",
                "files",
                "put",
                str(dataset),
                "--user",
                "bench",
                "--folder",
                "Backup",
                "--workers",
                str(args.workers),
                "--password-stdin",
            ]
            ours = [timed(put, senv, "bench password\n")]
            ours.append(timed(put, senv, "bench password\n"))
            edit(originals, rng)
            restic.append(timed(["restic", "backup", "-q", str(dataset)], env))
            ours.append(timed(put, senv, "bench password\n"))
            server_rss, processes = tree_peak_rss(server.pid)
            print(f"server: {processes} processes (supervisor and workers)")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        ours_bytes = (
            du(work / "server" / "blobs") + du(work / "server") - du(work / "server" / "blobs")
        )
        restic_bytes = du(work / "restic")

        report(cp_s, restic, ours, total, restic_bytes, ours_bytes, server_rss)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
