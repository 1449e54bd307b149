"""Videos: duration and size from ffprobe, and a poster frame from ffmpeg, when they are installed.

Both tools are optional (Debian's ``ffmpeg`` package has both).  Without them
:func:`probe_video` returns None and :func:`make_poster` a :class:`NoPoster` saying so; the
locker then shows a generic video tile.  The tools run with ``-nostdin``, errors-only logging
and a timeout, on a local file path: ffmpeg has to seek, and an MP4 whose index sits at the end
cannot be read from a pipe, so a caller holding a stream spools it to a temporary file first.

The poster is the frame about one second in (the middle of shorter clips), rotated the way the
video is displayed (ffmpeg applies the rotation metadata iPhones write), and turned into the
same WebP thumbnails as photos by :func:`strongroom.locker.photos.make_thumbnails`.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strongroom.locker.errors import MediaUnreadable
from strongroom.locker.photos import THUMBNAIL_SIZES, Thumbnail, make_thumbnails

TIMEOUT = 60.0
"""Seconds one ffmpeg or ffprobe run may take before it is killed."""

_POSTER_BOX = 1280  # the frame is scaled to fit this box before the thumbnails are made
_POSTER_AT = 1.0


@dataclass(frozen=True, slots=True)
class VideoTools:
    """Where ffmpeg and ffprobe are, or None for a missing one.  ``VideoTools.find()`` looks
    on PATH; tests pass ``VideoTools(None, None)`` to run as if they were not installed."""

    ffmpeg: str | None
    ffprobe: str | None

    @classmethod
    def find(cls) -> VideoTools:
        return cls(shutil.which("ffmpeg"), shutil.which("ffprobe"))


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What ffprobe says.  ``width``/``height`` are as displayed (after rotation), None for a
    file with no video stream; ``duration`` is in seconds, None when the container lacks it."""

    duration: float | None
    width: int | None
    height: int | None
    video_codec: str | None
    audio_codec: str | None
    rotation: int


@dataclass(frozen=True, slots=True)
class Poster:
    """Thumbnails of the frame taken ``at_seconds`` into the video."""

    at_seconds: float
    thumbnails: list[Thumbnail]


@dataclass(frozen=True, slots=True)
class NoPoster:
    """Why there is no poster: the tools are missing, or the file has no picture."""

    reason: str


def probe_video(
    path: str | os.PathLike[str], *, tools: VideoTools | None = None, timeout: float = TIMEOUT
) -> VideoInfo | None:
    """Duration, displayed size and codecs of the file at ``path``; None without ffprobe.

    Raises MediaUnreadable when ffprobe cannot read the file or takes longer than ``timeout``.
    """
    tools = tools or VideoTools.find()
    if tools.ffprobe is None:
        return None
    entries = (
        "format=duration:stream=codec_type,codec_name,width,height"
        ":stream_tags=rotate:stream_side_data=rotation"
    )
    command = [tools.ffprobe, "-v", "error", "-of", "json", "-show_entries", entries]
    output = _run([*command, os.fspath(path)], Path(path).name, timeout)
    try:
        return _parse_probe(json.loads(output))
    except (ValueError, TypeError, AttributeError) as e:
        raise MediaUnreadable(f"{Path(path).name}: unexpected ffprobe output ({e})") from None


def make_poster(
    path: str | os.PathLike[str],
    sizes: Sequence[int] = THUMBNAIL_SIZES,
    *,
    info: VideoInfo | None = None,
    tools: VideoTools | None = None,
    timeout: float = TIMEOUT,
) -> Poster | NoPoster:
    """A poster frame of the video at ``path`` as thumbnails of ``sizes`` (longest side).

    Pass the :func:`probe_video` result as ``info`` to save probing twice.  Returns NoPoster
    when ffmpeg or ffprobe is missing or the file has no video stream.  Raises MediaUnreadable
    when ffmpeg fails on the file or takes longer than ``timeout``.
    """
    tools = tools or VideoTools.find()
    if tools.ffmpeg is None or tools.ffprobe is None:
        return NoPoster("ffmpeg is not installed, so videos get no poster frame")
    info = info or probe_video(path, tools=tools, timeout=timeout)
    if info is None or info.width is None:
        return NoPoster("the file has no video stream")
    at = _POSTER_AT if info.duration is None else min(_POSTER_AT, info.duration / 2)
    frame = _frame(tools.ffmpeg, path, at, timeout)
    if not frame and at > 0:
        at, frame = 0.0, _frame(tools.ffmpeg, path, 0.0, timeout)  # seeking past a short end
    if not frame:
        raise MediaUnreadable(f"{Path(path).name}: ffmpeg decoded no frame")
    return Poster(at, make_thumbnails(io.BytesIO(frame), sizes, name=Path(path).name))


def _frame(ffmpeg: str, path: str | os.PathLike[str], at: float, timeout: float) -> bytes:
    """One frame as PNG, scaled to fit the poster box (never enlarged), or b"" if none."""
    box = f"'min({_POSTER_BOX},iw)':'min({_POSTER_BOX},ih)'"
    command = [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-ss",
        f"{at:.3f}",
        "-i",
        os.fspath(path),
        "-frames:v",
        "1",
        "-an",
        "-sn",
        "-dn",
        "-vf",
        f"scale={box}:force_original_aspect_ratio=decrease,format=rgb24",
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "pipe:1",
    ]
    return _run(command, Path(path).name, timeout)


def _run(command: list[str], label: str, timeout: float) -> bytes:
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        # run() has already killed the child.
        raise MediaUnreadable(f"{label}: {Path(command[0]).name} took over {timeout:g} s") from None
    except OSError as e:
        raise MediaUnreadable(f"{label}: cannot run {command[0]}: {e}") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        said = lines[-1] if lines else f"exit status {done.returncode}"
        raise MediaUnreadable(f"{label}: {said}")
    return done.stdout


def _parse_probe(data: dict[str, Any]) -> VideoInfo:
    streams = data.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = (data.get("format") or {}).get("duration")
    rotation = _rotation(video) if video else 0
    width = video.get("width") if video else None
    height = video.get("height") if video else None
    if rotation % 180 == 90:
        width, height = height, width
    return VideoInfo(
        duration=float(duration) if duration not in (None, "N/A") else None,
        width=int(width) if width else None,
        height=int(height) if height else None,
        video_codec=video.get("codec_name") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        rotation=rotation,
    )


def _rotation(stream: dict[str, Any]) -> int:
    """Display rotation in degrees, 0-359: the display matrix, or the older ``rotate`` tag."""
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return int(float(side["rotation"])) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    return int(tag) % 360 if tag else 0
