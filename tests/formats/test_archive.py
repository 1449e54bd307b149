"""The whole-account archive: a valid zip of the JSON, the HTML and every attachment, streamed
in constant memory to streams that cannot seek, ZIP64 when a member passes 4 GiB."""

from __future__ import annotations

import io
import json
import os
import tracemalloc
import zipfile

import pytest

from strongroom.formats.archive import ArchiveWriter
from strongroom.formats.folders import open_zip
from strongroom.messages.records import FileContent, MessageRecord, PartRecord
from tests.formats.builders import PNG
from tests.formats.export_builders import ALICE, T0, Unseekable, account, group_mms, hostile

MiB = 1024 * 1024


def archive_of(records, **options) -> zipfile.ZipFile:
    out = Unseekable()
    ArchiveWriter(exported_at_ms=T0, **options).write(records, out)
    return zipfile.ZipFile(io.BytesIO(bytes(out.data)))


def test_the_archive_holds_the_json_the_pages_and_every_attachment_once():
    archive = archive_of(account())
    assert archive.testzip() is None
    names = archive.namelist()
    assert all(n.startswith("strongroom-export/") for n in names)
    assert len(names) == len(set(names))
    top = {n.removeprefix("strongroom-export/") for n in names}
    assert {"README.txt", "messages.json", "index.html", "style.css", "calls.html"} <= top
    doc = json.loads(archive.read("strongroom-export/messages.json"))
    paths = [p["path"] for m in doc["messages"] for p in m["parts"] if "path" in p]
    assert len(paths) == 2 == len([n for n in top if n.startswith("attachments/")])
    for path in paths:
        assert f"strongroom-export/{path}" in names  # the JSON's paths are the zip's files
    [picture] = [p for p in paths if p.endswith(".png")]
    assert archive.read(f"strongroom-export/{picture}") == PNG
    index = archive.read("strongroom-export/index.html").decode()
    assert "Hikers" in index and doc["exported_at"] == "2023-11-14T22:13:20.000Z"


def test_hostile_names_stay_inside_the_archive():
    archive = archive_of(hostile())
    for name in archive.namelist():
        assert name.startswith("strongroom-export/")
        parts = name.split("/")
        assert ".." not in parts and "" not in parts and "\\" not in name


def test_a_one_shot_iterator_is_refused_because_the_archive_reads_twice():
    with pytest.raises(TypeError, match="reads its records twice"):
        ArchiveWriter().write(iter(account()), io.BytesIO())


def test_fifty_megabytes_of_attachments_stream_through_in_constant_memory(tmp_path):
    records: list[MessageRecord] = []
    for n in range(25):
        path = tmp_path / f"video-{n}.mp4"
        path.write_bytes(os.urandom(2 * MiB))
        records.append(
            group_mms(
                f"clip {n}",
                T0 + n * 1000,
                ALICE,
                [PartRecord("video/mp4", FileContent(path), path.name)],
            )
        )
    target = tmp_path / "archive.zip"
    with target.open("wb") as f:
        tracemalloc.start()
        try:
            ArchiveWriter().write(records, Unseekable(f))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert target.stat().st_size > 50 * MiB
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB while writing 50 MiB"
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        videos = [i for i in archive.infolist() if i.filename.endswith(".mp4")]
        assert len(videos) == 25 and all(i.file_size == 2 * MiB for i in videos)
        assert archive.read(videos[3].filename) == (tmp_path / "video-3.mp4").read_bytes()


class SparseSink:
    """A write-only stream into a file that skips over zeros (so 4 GiB of them cost no disk)."""

    def __init__(self, f) -> None:
        self.f = f

    def write(self, data) -> int:
        if not data.count(0) == len(data):
            self.f.write(data)
        else:
            self.f.seek(len(data), os.SEEK_CUR)
        return len(data)

    def flush(self) -> None:
        pass


@pytest.mark.slow
def test_a_member_over_4_gib_is_written_as_zip64_to_a_stream_that_cannot_seek(tmp_path):
    size = 4 * 1024 * MiB + 3 * MiB
    zeros = bytes(8 * MiB)
    target = tmp_path / "big.zip"
    with target.open("wb") as f:
        with open_zip(SparseSink(f)) as folder:
            with folder.file("big.bin", size=size, compress=False) as member:
                left = size
                while left:
                    member.write(zeros[: min(left, len(zeros))])
                    left -= min(left, len(zeros))
            with folder.file("after.txt") as member:
                member.write(b"still readable after 4 GiB")
        f.truncate()
    with zipfile.ZipFile(target) as archive:
        info = archive.getinfo("big.bin")
        assert info.file_size == size and info.flag_bits & 0x08  # sizes after the data
        assert archive.read("after.txt") == b"still readable after 4 GiB"
        assert archive.testzip() is None  # reads the 4 GiB back and checks its CRC
