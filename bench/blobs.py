"""Throughput of the local blob store through the Vault, beside floors measured in the same run.

    .venv/bin/python bench/blobs.py [--size 1GiB] [--piece 4MiB] [--rounds 3] [--dir /tmp]

Stores ``--size`` bytes of random data as ``--piece``-sized blobs through a Vault into a
LocalBlobStore (keyed BLAKE3, AES-256-GCM, write, fsync, rename, folder fsync), then reads them
back (Vault.get, authenticated), warm (in the page cache) and cold (evicted first).  Puts run one
at a time (``Vault.put``, ``Vault.put_stream``) and from several threads at once, as concurrent
uploads do.

The floors do one part of that work on the same bytes: each piece written to a new file of its
own and fsynced (the floor: what any durable put of a separate object costs), everything written
to one file with one fsync, AES-256-GCM alone and keyed BLAKE3 alone (one thread each).  The
floor and the single puts are interleaved piece by piece, so they meet the disk in the same mood
(its speed drifts on a shared machine); each phase runs ``--rounds`` times and the medians are
shown, the ratios being taken within each round.  Data lives in a temporary folder removed at
the end.  Peak RSS (``getrusage``, the process's high-water mark so far) is printed after each
phase: it does not grow with ``--size``, because every path streams.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import blake3
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.blobs.local import LocalBlobStore
from strongroom.blobs.vault import SEGMENT, TAG, Vault, VaultKey

THREADS = 4
ONE_FILE = "write+fsync, all in one file"
FLOOR = "write+fsync, file per piece (floor)"
_UNITS = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


def parse_size(text: str) -> int:
    found = re.fullmatch(r"(\d+)\s*([kmg]i?b?|b?)", text.strip().lower())
    if not found:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say 512MiB or 1GiB)")
    unit = found.group(2)
    unit = unit if unit in ("", "b") else unit[0] + "ib"
    return int(found.group(1)) * _UNITS[unit]


class Pieces:
    """``count`` pieces of random-looking bytes, made on demand (AES-CTR keystream): the same
    bytes every time they are asked for, never all in memory at once."""

    def __init__(self, count: int, size: int) -> None:
        self.count = count
        self.size = size
        self._key = os.urandom(32)
        self._zeros = bytes(size)

    def __iter__(self) -> Iterator[bytes]:
        for i in range(self.count):
            nonce = i.to_bytes(16, "big")
            yield (
                Cipher(algorithms.AES(self._key), modes.CTR(nonce)).encryptor().update(self._zeros)
            )


def timed(pieces: Pieces, work: Callable[[int, bytes], object]) -> float:
    """Seconds spent in ``work`` over every piece (making the pieces is not counted)."""
    spent = 0.0
    for i, piece in enumerate(pieces):
        start = time.perf_counter()
        work(i, piece)
        spent += time.perf_counter() - start
    return spent


def interleaved(
    pieces: Pieces, works: dict[str, Callable[[int, bytes], object]]
) -> dict[str, float]:
    """Seconds spent in each of ``works``, run one after the other on each piece in turn, so
    that all of them meet the disk in the same mood (its speed drifts on a shared machine)."""
    spent = dict.fromkeys(works, 0.0)
    for i, piece in enumerate(pieces):
        for label, work in works.items():
            start = time.perf_counter()
            work(i, piece)
            spent[label] += time.perf_counter() - start
    return spent


def write_fsync_file(folder: Path) -> Callable[[int, bytes], None]:
    """Writing a piece to a new file of its own and fsyncing it: the floor of a durable put."""

    def write(i: int, piece: bytes) -> None:
        fd = os.open(folder / str(i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _write_all(fd, piece)
            os.fsync(fd)
        finally:
            os.close(fd)

    return write


def write_fsync_one_file(pieces: Pieces, folder: Path) -> float:
    folder.mkdir()
    fd = os.open(folder / "all", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        spent = timed(pieces, lambda i, piece: _write_all(fd, piece))
        start = time.perf_counter()
        os.fsync(fd)
        return spent + time.perf_counter() - start
    finally:
        os.close(fd)
        shutil.rmtree(folder)


def _write_all(fd: int, piece: bytes) -> None:
    view = memoryview(piece)
    while view:
        view = view[os.write(fd, view) :]


def aes_gcm(pieces: Pieces) -> float:
    aead = AESGCM(os.urandom(32))
    out = bytearray(SEGMENT + TAG)

    def seal(i: int, piece: bytes) -> None:
        view = memoryview(piece)
        for start in range(0, len(view), SEGMENT):
            plain = view[start : start + SEGMENT]
            aead.encrypt_into(os.urandom(12), plain, None, memoryview(out)[: len(plain) + TAG])

    return timed(pieces, seal)


def keyed_blake3(pieces: Pieces) -> float:
    key = os.urandom(32)
    return timed(pieces, lambda i, piece: blake3.blake3(piece, key=key).digest() and None)


def threaded_put(pieces: Pieces, vault: Vault, threads: int) -> float:
    """Wall-clock seconds for ``threads`` threads putting the pieces, as concurrent uploads do
    (making the pieces is included here, which only makes the figure lower)."""
    source = iter(pieces)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                piece = next(source, None)
            if piece is None:
                return
            vault.put(piece)

    start = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start


def vault_get(vault: Vault, store: LocalBlobStore, ids: list[str], *, cold: bool) -> float:
    if cold:
        for blob_id in ids:
            _evict(store.path_of(vault.name_of(blob_id)))
    spent = 0.0
    for blob_id in ids:
        start = time.perf_counter()
        for _ in vault.get(blob_id):
            pass
        spent += time.perf_counter() - start
    return spent


def _evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    return f"{cpu}, {os.cpu_count()} CPUs, {memory:.0f} GiB RAM, {platform.platform()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=1 << 30, help="total (1GiB)")
    parser.add_argument("--piece", type=parse_size, default=4 << 20, help="blob size (4MiB)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds to take the median of")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the temporary data")
    args = parser.parse_args()
    pieces = Pieces(max(1, args.size // args.piece), args.piece)
    total = pieces.count * pieces.size
    print(f"machine: {machine()}")
    print(f"load average at the start: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"{pieces.count} pieces of {pieces.size / (1 << 20):g} MiB = {total / (1 << 20):g} MiB,")
    print(
        f"{args.rounds} rounds, median shown; peak RSS before any phase: {peak_rss_mib():.0f} MiB"
    )
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-", dir=args.dir) as tmp:
        root = Path(tmp)
        print(f"data in {root} ({_filesystem(root)})\n")
        results = run_rounds(pieces, root, args.rounds)
    report(results, total)
    print(f"\nload average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


def run_rounds(pieces: Pieces, root: Path, rounds: int) -> dict[str, tuple[list[float], float]]:
    """Every phase, ``rounds`` times: seconds per run and peak RSS after the phase, by label."""
    results: dict[str, tuple[list[float], float]] = {}
    for r in range(rounds):
        for label, seconds in one_round(pieces, root, results).items():
            results.setdefault(label, ([], 0.0))[0].append(seconds)
        print(f"round {r + 1} of {rounds} done", flush=True)
    return results


def one_round(
    pieces: Pieces, root: Path, results: dict[str, tuple[list[float], float]]
) -> dict[str, float]:
    spent: dict[str, float] = {}

    def note_rss(*labels: str) -> None:
        # In the first round only: later ones would show the peak of every phase before.
        for label in labels:
            results.setdefault(label, ([], peak_rss_mib()))

    store = LocalBlobStore(root / "store")
    # One vault (account) per kind of put, so that none finds the folders of another made.
    vault, streamed, threaded = (
        Vault(store, VaultKey(secrets.token_bytes(32), secrets.token_hex(8))) for _ in range(3)
    )
    (root / "floor").mkdir()
    ids: list[str] = []
    spent |= interleaved(
        pieces,
        {
            FLOOR: write_fsync_file(root / "floor"),
            "Vault.put": lambda i, piece: ids.append(vault.put(piece).blob_id),
            "Vault.put_stream": lambda i, piece: streamed.put_stream([piece]),
        },
    )
    shutil.rmtree(root / "floor")
    note_rss(FLOOR, "Vault.put", "Vault.put_stream")
    spent["Vault.get, warm page cache"] = vault_get(vault, store, ids, cold=False)
    note_rss("Vault.get, warm page cache")
    spent["Vault.get, cold (evicted)"] = vault_get(vault, store, ids, cold=True)
    note_rss("Vault.get, cold (evicted)")
    label = f"Vault.put, {THREADS} threads at once"
    spent[label] = threaded_put(pieces, threaded, THREADS)
    note_rss(label)
    shutil.rmtree(store.root)
    spent[ONE_FILE] = write_fsync_one_file(pieces, root / "one")
    spent["AES-256-GCM alone, 1 thread"] = aes_gcm(pieces)
    spent["keyed BLAKE3 alone, 1 thread"] = keyed_blake3(pieces)
    note_rss(*list(spent)[-3:])
    return spent


def report(results: dict[str, tuple[list[float], float]], total: int) -> None:
    """One table row per phase: median MB/s, and the medians over rounds of its speed relative
    to each write+fsync floor measured in the same round."""
    floors = [results[FLOOR][0], results[ONE_FILE][0]]
    print(
        f"\n| {'what':<36} | {'MB/s':>5} | × floor | × one file | {'runs (MB/s)':<17} | peak RSS |"
    )
    print(f"|{'-' * 38}|{'-' * 6}:|{'-' * 8}:|{'-' * 11}:|{'-' * 19}|{'-' * 9}:|")
    for label, (times, rss) in results.items():
        speeds = [total / t / 1e6 for t in times]
        ratios = [
            statistics.median(f / t for f, t in zip(floor, times, strict=True)) for floor in floors
        ]
        runs = ", ".join(f"{s:.0f}" for s in speeds)
        print(
            f"| {label:<36} | {statistics.median(speeds):5.0f} | {ratios[0]:7.2f} "
            f"| {ratios[1]:10.2f} | {runs:<17} | {rss:4.0f} MiB |"
        )


def _filesystem(path: Path) -> str:
    best = ("?", "?")
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            device, mount, kind = line.split()[:3]
            if str(path.resolve()).startswith(mount) and len(mount) >= len(best[0]):
                best = (mount, f"{kind} on {device}")
    except OSError:
        pass
    return best[1]


if __name__ == "__main__":
    main()
