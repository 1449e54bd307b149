"""Videos: ffprobe facts and ffmpeg poster frames from clips the tests make with ffmpeg."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from strongroom.locker.errors import MediaUnreadable
from strongroom.locker.video import NoPoster, Poster, VideoTools, make_poster, probe_video
from tests.conftest import missing

FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]


def need_ffmpeg() -> None:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        missing("ffmpeg is not installed (apt-get install -y ffmpeg)")


def ffmpeg(*args: str) -> None:
    subprocess.run([*FFMPEG, *args], check=True, timeout=120)


def make_clip(path: Path, *, seconds: float = 2, size: str = "640x360", codec: str = "libx264"):
    extra = ["-x265-params", "log-level=error", "-tag:v", "hvc1"] if codec == "libx265" else []
    ffmpeg(
        *("-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate=25"),
        *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
        *("-c:v", codec, "-pix_fmt", "yuv420p", "-preset", "veryfast", *extra),
        *("-c:a", "aac", "-shortest", str(path)),
    )
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    need_ffmpeg()
    d = tmp_path_factory.mktemp("clips")
    clip = make_clip(d / "clip.mp4")
    rotated = d / "portrait.mp4"
    # What a phone held upright writes: landscape pixels plus a 90 degree display rotation.
    ffmpeg("-i", str(clip), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    audio = d / "song.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", str(audio))
    return {"clip": clip, "portrait": rotated, "audio": audio}


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_probe_reads_duration_size_and_codecs(clips):
    info = probe_video(clips["clip"])
    assert info is not None
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert (info.width, info.height, info.rotation) == (640, 360, 0)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")


def test_poster_is_a_frame_one_second_in_as_webp_thumbnails(clips):
    poster = make_poster(clips["clip"])
    assert isinstance(poster, Poster)
    assert poster.at_seconds == 1.0
    small, large = poster.thumbnails
    assert (small.width, small.height) == (256, 144)
    assert (large.width, large.height) == (640, 360)
    im = decode(large.data)
    assert (im.format, im.size) == ("WEBP", (640, 360))
    # testsrc draws coloured bars: a real frame, not a blank one.
    assert len(im.convert("RGB").resize((32, 18)).getcolors(32 * 18) or []) > 20


def test_rotated_video_is_reported_and_postered_upright(clips):
    info = probe_video(clips["portrait"])
    assert info is not None
    assert (info.width, info.height) == (360, 640)
    assert info.rotation in (90, 270)
    poster = make_poster(clips["portrait"], info=info)
    assert isinstance(poster, Poster)
    assert [(t.width, t.height) for t in poster.thumbnails] == [(144, 256), (360, 640)]


def test_short_clip_poster_comes_from_its_middle(tmp_path: Path):
    need_ffmpeg()
    clip = make_clip(tmp_path / "blink.mp4", seconds=0.4, size="160x120")
    poster = make_poster(clip, [64])
    assert isinstance(poster, Poster)
    assert poster.at_seconds == pytest.approx(0.2, abs=0.05)
    assert (poster.thumbnails[0].width, poster.thumbnails[0].height) == (64, 48)


def test_iphone_like_hevc_mov_gets_a_poster(tmp_path: Path):
    need_ffmpeg()
    clip = make_clip(tmp_path / "IMG_0001.MOV", seconds=1, size="320x240", codec="libx265")
    info = probe_video(clip)
    assert info is not None and info.video_codec == "hevc"
    poster = make_poster(clip, [128], info=info)
    assert isinstance(poster, Poster)
    assert (poster.thumbnails[0].width, poster.thumbnails[0].height) == (128, 96)


def test_audio_only_file_has_no_poster(clips):
    info = probe_video(clips["audio"])
    assert info is not None and info.width is None and info.audio_codec == "aac"
    assert make_poster(clips["audio"]) == NoPoster("the file has no video stream")


def test_without_ffmpeg_there_is_a_clear_no_poster_result(tmp_path: Path):
    absent = VideoTools(ffmpeg=None, ffprobe=None)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not even read")
    assert probe_video(clip, tools=absent) is None
    result = make_poster(clip, tools=absent)
    assert isinstance(result, NoPoster)
    assert "ffmpeg is not installed" in result.reason


def test_garbage_is_a_clear_error_naming_the_file(tmp_path: Path):
    need_ffmpeg()
    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(b"\x00\x01garbage" * 1000)
    with pytest.raises(MediaUnreadable, match="holiday.mp4: .*Invalid data"):
        probe_video(bad)
    with pytest.raises(MediaUnreadable, match="holiday.mp4"):
        make_poster(bad)


def test_truncated_video_is_a_clear_error(clips, tmp_path: Path):
    data = clips["clip"].read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the index (moov) is at the end: gone
    with pytest.raises(MediaUnreadable, match="cut.mp4"):
        make_poster(cut)


def test_a_run_over_the_timeout_is_killed_and_reported(clips):
    with pytest.raises(MediaUnreadable, match="took over"):
        probe_video(clips["clip"], timeout=0.0001)
