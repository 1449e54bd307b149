"""How fast the SBR XML reader parses, against the floor of lxml iterparse doing nothing else.

Generates an SMS Backup & Restore file of N messages (1% MMS with a 100 KB picture), then runs,
each in its own process so that peak memory is its own:

* floor: ``lxml.etree.iterparse`` over the file, clearing each record (the cheapest correct loop);
* reader: ``SbrXmlReader`` yielding every record, with attachments spooled and then discarded.

Prints messages per second and peak RSS for both, and the rate by CPU time (steadier than the
wall clock on a busy machine).  Usage::

    python bench/import_parse.py [--messages 100000] [--keep FILE]
    python bench/import_parse.py --messages 1000000
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PICTURE = 100 * 1024


def generate(path: Path, messages: int) -> None:
    """Write the file.  Each MMS has a picture of its own (random bytes: no two alike, and none
    that compresses), as in a real backup, where the vault stores every one."""
    rng = random.Random(5)
    with path.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
        out.write(f'<smses count="{messages}" backup_set="bench" backup_date="0" type="full">\n')
        for i in range(messages):
            date = 1500000000000 + i * 60000
            who = f"+1555{i % 997:07d}"
            if i % 100 == 99:
                picture = base64.b64encode(rng.randbytes(PICTURE)).decode()
                out.write(
                    f'  <mms date="{date}" msg_box="1" address="{who}" read="1" '
                    f'date_sent="{date // 1000}" m_type="132">\n    <parts>\n'
                    f'      <part seq="0" ct="image/jpeg" name="p{i}.jpg" text="null" '
                    f'data="{picture}" />\n'
                    f'      <part seq="0" ct="text/plain" name="t.txt" text="picture {i}" />\n'
                    f"    </parts>\n    <addrs>\n"
                    f'      <addr address="{who}" type="137" charset="106" />\n'
                    f'      <addr address="+15550000000" type="151" charset="106" />\n'
                    f"    </addrs>\n  </mms>\n"
                )
            else:
                out.write(
                    f'  <sms protocol="0" address="{who}" date="{date}" type="{1 + i % 2}" '
                    f'subject="null" body="Message number {i} \U0001f600 see you&#10;at 5" '
                    f'toa="null" sc_toa="null" service_center="null" read="1" status="-1" '
                    f'locked="0" date_sent="{date - 1000}" sub_id="1" '
                    f'readable_date="Jul 14, 2017 10:00:00" contact_name="(Unknown)" />\n'
                )
        out.write("</smses>\n")


def floor(path: Path) -> int:
    from lxml import etree

    count = 0
    for _, element in etree.iterparse(
        str(path), events=("end",), tag=("sms", "mms"), huge_tree=True, resolve_entities=False
    ):
        count += 1
        element.clear(keep_tail=False)
        parent = element.getparent()
        while element.getprevious() is not None:
            del parent[0]
    return count


def reader(path: Path) -> int:
    from strongroom.formats.base import ReadOptions
    from strongroom.formats.sbr_xml import SbrXmlReader
    from strongroom.messages.records import MessageRecord

    count = 0
    with tempfile.TemporaryDirectory() as scratch:
        for record in SbrXmlReader().read(path, ReadOptions(scratch=Path(scratch))):
            if isinstance(record, MessageRecord):
                count += 1
                for part in record.parts:
                    part.content.discard()
    return count


def measure(kind: str, path: Path) -> None:
    started, cpu_started = time.perf_counter(), time.process_time()
    count = floor(path) if kind == "floor" else reader(path)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps({"messages": count, "seconds": seconds, "cpu": cpu, "peak_mib": peak_kib / 1024})
    )


def run(kind: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="write the generated file here and keep it")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure[0], Path(args.measure[1]))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "sms-bench.xml"
        started = time.perf_counter()
        generate(path, args.messages)
        size = path.stat().st_size
        print(
            f"generated {args.messages:,} messages, {size / 2**20:,.0f} MiB "
            f"in {time.perf_counter() - started:.1f} s"
        )
        results = {kind: run(kind, path) for kind in ("floor", "reader")}
    for kind, r in results.items():
        rate = r["messages"] / r["seconds"]
        print(
            f"{kind:7} {r['messages']:>10,.0f} msgs  {r['seconds']:7.1f} s  "
            f"{rate:>9,.0f} msgs/s  {size / 2**20 / r['seconds']:6.0f} MiB/s  "
            f"peak RSS {r['peak_mib']:6.0f} MiB  (CPU {r['cpu']:.1f} s: "
            f"{r['messages'] / r['cpu']:,.0f} msgs/s)"
        )
    ratio = results["reader"]["seconds"] / results["floor"]["seconds"]
    print(f"reader / floor time: {ratio:.2f}x")


if __name__ == "__main__":
    main()
