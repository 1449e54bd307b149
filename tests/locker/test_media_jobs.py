"""Thumbnails and media facts made by the background job, from real images and videos."""

from __future__ import annotations

import io
import shutil
import subprocess

import httpx
import pytest
from PIL import ExifTags, Image
from pillow_heif import register_heif_opener

from strongroom.jobs import make_worker
from tests.conftest import SAMPLES, missing
from tests.factories import make_user, register_device, upload_bytes

register_heif_opener()


def _photo(fmt: str, taken: str, *, orientation: int = 1, make: str = "Apple") -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = "iPhone 15"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 80, 40)).save(out, fmt, exif=exif, quality=80)
    return out.getvalue()


@pytest.fixture
def alice(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        http.headers.update(register_device(http).headers)
        yield http


def test_jpeg_and_heic_get_thumbnails_and_dates_taken(runtime, alice):
    jpeg = upload_bytes(alice, {}, _photo("JPEG", "2024:05:01 12:34:56", orientation=6), "a.jpg")
    heic = upload_bytes(alice, {}, _photo("HEIF", "2023:12:24 18:00:00"), "IMG_0001.HEIC")
    assert heic["content_type"] == "image/heic" and heic["category"] == "photos"
    assert alice.get(f"/api/v1/files/{jpeg['id']}/thumbnail").status_code == 404  # not yet
    make_worker(runtime).run_until_idle()
    for stored, taken in ((jpeg, 1714566896000), (heic, 1703440800000)):
        f = alice.get(f"/api/v1/files/{stored['id']}").json()
        assert f["taken_at"] == taken and f["thumbnail"] is True
        assert f["media"]["camera"] == "Apple iPhone 15"
        small = alice.get(f"/api/v1/files/{stored['id']}/thumbnail")
        assert small.headers["content-type"] == "image/webp"
        im = Image.open(io.BytesIO(small.content))
        assert max(im.size) <= 256
    rotated = Image.open(io.BytesIO(alice.get(f"/api/v1/files/{jpeg['id']}/thumbnail").content))
    assert rotated.size[1] > rotated.size[0]  # orientation 6 honoured: portrait
    timeline = alice.get("/api/v1/files", params={"category": "photos", "sort": "taken"}).json()
    assert [f["name"] for f in timeline["files"]] == ["a.jpg", "IMG_0001.HEIC"]


def test_real_iphone_heic_samples_get_thumbnails(runtime, alice):
    folder = SAMPLES / "heic"
    if not folder.is_dir():
        missing(f"sample HEIC files are absent ({folder})")
    names = sorted(p.name for p in folder.glob("*.heic"))
    for name in names:
        upload_bytes(alice, {}, (folder / name).read_bytes(), name, "Stickers")
    make_worker(runtime).run_until_idle()
    files = alice.get("/api/v1/files", params={"folder": "Stickers"}).json()["files"]
    assert sorted(f["name"] for f in files) == names
    for f in files:
        assert f["thumbnail"] is True, f
        Image.open(
            io.BytesIO(alice.get(f"/api/v1/files/{f['id']}/thumbnail?size=large").content)
        ).verify()


def test_a_broken_picture_is_marked_and_does_not_stop_the_others(runtime, alice):
    bad = upload_bytes(alice, {}, b"\xff\xd8\xff\xe0" + b"\x00" * 100, "broken.jpg")
    good = upload_bytes(alice, {}, _photo("JPEG", "2022:01:01 00:00:00"), "good.jpg")
    make_worker(runtime).run_until_idle()
    assert alice.get(f"/api/v1/files/{bad['id']}").json()["media"]["error"]
    assert alice.get(f"/api/v1/files/{good['id']}").json()["thumbnail"] is True


def test_videos_get_a_poster_frame_and_duration(runtime, alice, tmp_path):
    if shutil.which("ffmpeg") is None:
        missing("ffmpeg is not installed (apt-get install ffmpeg)")
    out = tmp_path / "clip.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=2:size=320x240:rate=25",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-preset",
            "veryfast",
            str(out),
        ],
        check=True,
        timeout=60,
    )
    video = upload_bytes(alice, {}, out.read_bytes(), "clip.mp4", "Videos")
    assert video["category"] == "videos"
    make_worker(runtime).run_until_idle()
    f = alice.get(f"/api/v1/files/{video['id']}").json()
    assert f["thumbnail"] is True and 1.5 < f["media"]["duration"] < 2.5
    assert (
        alice.get(f"/api/v1/files/{video['id']}/thumbnail").headers["content-type"] == "image/webp"
    )
