"""Pictures: EXIF facts for the timeline and upright thumbnails, with Pillow and pillow-heif.

:func:`photo_info` reads the header and EXIF only (date taken, camera, GPS, displayed size);
:func:`make_thumbnails` decodes once and writes each requested size as WebP (or JPEG), upright.
:func:`read_photo` does both from one open.  Sources are a path or a seekable binary file (Pillow
reads a non-seekable stream into memory first); anything Pillow reads works, including HEIC/HEIF
(pillow-heif) and GIF (first frame).

Orientation.  JPEG, PNG, WebP and TIFF carry it as the EXIF Orientation tag, which we apply.
HEIF carries it as ``irot``/``imir`` transforms that libheif applies while decoding; pillow-heif
then resets the EXIF tag to 1 so it is not applied twice (the HEIF rule: the container's
transforms win over EXIF).

Limits.  An image declaring more than Pillow's ``Image.MAX_IMAGE_PIXELS`` pixels (read at call
time; 89.5 million by default) raises :class:`ImageTooLarge` before anything is decoded, so a
decompression bomb costs no memory.  Truncated or corrupt data raises :class:`MediaUnreadable`
naming the file.  Both are raised from Pillow's own warning and errors; the warning is turned
into an error with ``warnings.catch_warnings``, which in Python 3.11 edits process-wide filters
(# Race: two threads inside it at once can leave the bomb warning as an error for good, which is
harmless here).

Thumbnails hold no EXIF (no GPS leaks through a shared thumbnail) but keep an RGB ICC profile
(iPhone photos are Display P3).
"""

from __future__ import annotations

import functools
import io
import math
import os
import struct
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import IO, Any, Literal

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from strongroom.locker.errors import ImageTooLarge, MediaUnreadable

ImageSource = str | os.PathLike[str] | IO[bytes]
ThumbnailFormat = Literal["WEBP", "JPEG"]

SMALL = 256
LARGE = 1280
THUMBNAIL_SIZES = (SMALL, LARGE)
"""Longest side, in pixels, of the gallery's small and large thumbnails."""

_QUALITY = 80
_CONTENT_TYPES = {"WEBP": "image/webp", "JPEG": "image/jpeg"}
# What Pillow and its plugins raise on damaged input: its parsers are fuzzed, and the types
# seen include all of these.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    RuntimeError,
)


@dataclass(frozen=True, slots=True)
class PhotoInfo:
    """What the timeline needs from a picture.

    ``taken_at`` is aware when the camera recorded a UTC offset, otherwise naive: the camera's
    wall-clock time, zone unknown.  ``latitude``/``longitude`` are decimal degrees (south and
    west negative), both or neither.  ``width``/``height`` are as displayed, after orientation.
    """

    format: str
    width: int
    height: int
    taken_at: datetime | None
    camera_make: str | None
    camera_model: str | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """One encoded thumbnail: at most ``max_side`` pixels on its longest side, upright."""

    max_side: int
    width: int
    height: int
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Photo:
    info: PhotoInfo
    thumbnails: list[Thumbnail]


def photo_info(source: ImageSource, *, name: str | None = None) -> PhotoInfo:
    """EXIF facts and displayed size, without decoding pixels (except PNG, whose EXIF may sit
    after the image data).  ``name`` labels errors.  Raises MediaUnreadable, ImageTooLarge."""
    with _opened(source, name) as im:
        return _info(im)


def make_thumbnails(
    source: ImageSource,
    sizes: Sequence[int] = THUMBNAIL_SIZES,
    *,
    name: str | None = None,
    format: ThumbnailFormat = "WEBP",
) -> list[Thumbnail]:
    """Upright thumbnails, one per size in ``sizes`` and in that order.  An image already
    smaller than a size is not enlarged.  Raises MediaUnreadable, ImageTooLarge."""
    with _opened(source, name) as im:
        return _thumbnails(im, sizes, format)


def read_photo(
    source: ImageSource,
    sizes: Sequence[int] = THUMBNAIL_SIZES,
    *,
    name: str | None = None,
    format: ThumbnailFormat = "WEBP",
) -> Photo:
    """:func:`photo_info` and :func:`make_thumbnails` from a single open of ``source``."""
    with _opened(source, name) as im:
        info = _info(im)
        return Photo(info, _thumbnails(im, sizes, format))


@functools.cache
def _register_heif() -> None:
    # Registering is global to Pillow, so it is done once, on first use, not at import.
    register_heif_opener()


def _label(source: ImageSource, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return str(getattr(source, "name", "the picture"))


@contextmanager
def _opened(source: ImageSource, name: str | None) -> Iterator[Image.Image]:
    """Open ``source`` with bombs and decoder failures turned into our errors (also for any
    decoding done inside the ``with`` block)."""
    _register_heif()
    label = _label(source, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as im:
                yield im
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageTooLarge(f"{label}: {e}", file=label) from None
    except UnidentifiedImageError:
        raise MediaUnreadable(f"{label}: not a picture format we can read", file=label) from None
    except _DECODE_ERRORS as e:
        raise MediaUnreadable(f"{label}: {e or type(e).__name__}", file=label) from None


# --- EXIF ------------------------------------------------------------------------------------


def _info(im: Image.Image) -> PhotoInfo:
    exif = im.getexif()
    details = exif.get_ifd(ExifTags.IFD.Exif)
    width, height = im.size
    if exif.get(ExifTags.Base.Orientation) in (5, 6, 7, 8):
        width, height = height, width
    position = _gps(exif.get_ifd(ExifTags.IFD.GPSInfo))
    return PhotoInfo(
        format=im.format or "unknown",
        width=width,
        height=height,
        taken_at=_taken_at(exif, details),
        camera_make=_text(exif.get(ExifTags.Base.Make)),
        camera_model=_text(exif.get(ExifTags.Base.Model)),
        latitude=position[0] if position else None,
        longitude=position[1] if position else None,
    )


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    return value.replace("\x00", "").strip() or None


def _taken_at(exif: Image.Exif, details: dict[int, Any]) -> datetime | None:
    """DateTimeOriginal, else DateTimeDigitized, else DateTime, each with its offset and
    sub-second tags when present."""
    tags = ExifTags.Base
    for when, offset, subsec, where in (
        (tags.DateTimeOriginal, tags.OffsetTimeOriginal, tags.SubsecTimeOriginal, details),
        (tags.DateTimeDigitized, tags.OffsetTimeDigitized, tags.SubsecTimeDigitized, details),
        (tags.DateTime, tags.OffsetTime, tags.SubsecTime, exif),
    ):
        found = _exif_datetime(where.get(when), details.get(subsec), details.get(offset))
        if found is not None:
            return found
    return None


def _exif_datetime(value: Any, subsec: Any, offset: Any) -> datetime | None:
    text = _text(value)
    if text is None or len(text) < 19:
        return None
    # The standard says "YYYY:MM:DD HH:MM:SS"; some writers use dashes in the date.
    text = text[:10].replace("-", ":") + " " + text[11:19]
    try:
        taken = datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
    except ValueError:  # blank, "0000:00:00 00:00:00" or garbage
        return None
    fraction = _text(subsec)
    if fraction and fraction.isdigit():
        taken = taken.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    zone = _utc_offset(_text(offset))
    return taken.replace(tzinfo=zone) if zone is not None else taken


def _utc_offset(text: str | None) -> timezone | None:
    """``"+02:00"`` -> UTC+2; None for anything else."""
    if text is None or len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _gps(gps: dict[int, Any]) -> tuple[float, float] | None:
    """(latitude, longitude) in decimal degrees, or None when absent, damaged or exactly 0,0
    (what some phones write when they had no fix)."""
    tags = ExifTags.GPS
    lat = _degrees(gps.get(tags.GPSLatitude), gps.get(tags.GPSLatitudeRef), "S")
    lon = _degrees(gps.get(tags.GPSLongitude), gps.get(tags.GPSLongitudeRef), "W")
    if lat is None or lon is None or not (abs(lat) <= 90 and abs(lon) <= 180):
        return None
    if lat == 0 and lon == 0:
        return None
    return lat, lon


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if not math.isfinite(degrees):
        return None
    return -degrees if _text(ref) == negative else degrees


# --- thumbnails ------------------------------------------------------------------------------


def _thumbnails(im: Image.Image, sizes: Sequence[int], format: ThumbnailFormat) -> list[Thumbnail]:
    if not sizes or min(sizes) < 1:
        raise ValueError("thumbnail sizes must be positive")
    if im.format == "JPEG":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still covers the largest size.
        im.draft("RGB", (max(sizes), max(sizes)))
    icc = im.info.get("icc_profile")
    if not (isinstance(icc, bytes) and icc[16:20] == b"RGB "):
        icc = None  # a CMYK or grey profile would be wrong on the RGB thumbnail
    upright = _display_mode(ImageOps.exif_transpose(im), format)
    made: dict[int, Thumbnail] = {}
    base = upright
    for size in sorted(set(sizes), reverse=True):
        # Each size is scaled from the next larger one: cheaper, and as sharp at these ratios.
        base = base.copy()
        base.thumbnail((size, size), Image.Resampling.LANCZOS)
        made[size] = _encode(base, size, format, icc)
    return [made[size] for size in sizes]


def _display_mode(im: Image.Image, format: ThumbnailFormat) -> Image.Image:
    """RGB, or RGBA when the picture has transparency and the format can keep it."""
    has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
    if not has_alpha:
        return im.convert("RGB")
    rgba = im.convert("RGBA")
    if format == "WEBP":
        return rgba
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _encode(im: Image.Image, size: int, format: ThumbnailFormat, icc: bytes | None) -> Thumbnail:
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": _QUALITY}
    if icc is not None:
        options["icc_profile"] = icc
    if format == "WEBP":
        options["method"] = 4
    im.save(out, format=format, **options)
    width, height = im.size
    return Thumbnail(size, width, height, _CONTENT_TYPES[format], out.getvalue())
