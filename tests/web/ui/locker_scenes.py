"""Files for the locker's browser tests: photos with a date taken (JPEG with EXIF), documents,
songs; uploading them the way a device does; the thumbnail job; committed screenshots."""

from __future__ import annotations

import io
import math
import os
import struct
import time
import wave
from datetime import datetime
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw
from playwright.sync_api import Page

from strongroom.client import Client
from strongroom.jobs import make_worker
from strongroom.runtime import Runtime
from tests.factories import PASSWORD, upload_bytes


def photo(
    taken: datetime,
    sky: tuple[int, int, int] = (90, 150, 230),
    *,
    size: tuple[int, int] = (640, 480),
    camera: tuple[str, str] = ("Google", "Pixel 8"),
    gps: tuple[float, float] | None = None,
    variant: int = 0,
) -> bytes:
    """A JPEG that looks like a landscape photo, with EXIF DateTimeOriginal, camera and GPS;
    ``variant`` moves the sun and the hills so that a grid of them does not look all alike."""
    width, height = size
    image = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(image)
    for y in range(height // 2):
        shade = tuple(min(255, c + y // 4) for c in sky)
        draw.line([(0, y), (width, y)], fill=shade)
    sun_x = 0.1 + (variant * 0.29) % 0.7
    sun_y = 0.08 + (variant * 0.13) % 0.25
    draw.ellipse(
        [width * sun_x, height * sun_y, width * (sun_x + 0.16), height * (sun_y + 0.22)],
        fill=(255, 214, 102),
    )
    peak = 0.2 + (variant * 0.37) % 0.6
    ground = [(46, 125, 80), (60, 110, 150), (120, 100, 70), (70, 140, 60)][variant % 4]
    draw.polygon(
        [
            (0, height),
            (0, height * (0.55 + (variant % 3) * 0.05)),
            (width * peak, height * (0.35 + (variant % 2) * 0.1)),
            (width, height * 0.66),
            (width, height),
        ],
        fill=ground,
    )
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = camera
    stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif[ExifTags.Base.DateTime] = stamp
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = stamp
    if gps is not None:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(_gps(*gps))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _gps(lat: float, lon: float) -> dict[int, object]:
    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        return (float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4))

    return {
        ExifTags.GPS.GPSLatitudeRef: "N" if lat >= 0 else "S",
        ExifTags.GPS.GPSLatitude: dms(lat),
        ExifTags.GPS.GPSLongitudeRef: "E" if lon >= 0 else "W",
        ExifTags.GPS.GPSLongitude: dms(lon),
    }


def pdf(title: str = "Lease agreement") -> bytes:
    """A small, valid one-page PDF."""
    text = f"BT /F1 24 Tf 72 720 Td ({title}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def song(seconds: float = 1.0, pitch: float = 440.0) -> bytes:
    """A WAV file: a tone."""
    rate = 8000
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * pitch * i / rate)))
            for i in range(int(rate * seconds))
        )
        w.writeframes(frames)
    return out.getvalue()


def device(server_url: str, user: str = "alice") -> Client:
    return Client.register(server_url, user, PASSWORD, name="Pixel 8", platform="android")


def put(client: Client, data: bytes, name: str, folder: str = "") -> dict:
    """Upload as a device does (tus, one request); returns the stored file."""
    return upload_bytes(client.http, {}, data, name, folder)


def make_thumbnails(runtime: Runtime) -> None:
    """Run the thumbnail job now (the test server runs no jobs by itself; the clock moves on a
    minute so that the periodic job is due again)."""
    runtime.clock.advance(seconds=61)  # type: ignore[attr-defined]
    make_worker(runtime).run_until_idle()


def until(page: Page, script: str, timeout: float = 10.0) -> None:
    """Wait until ``script`` (a function of no arguments) is true in the page.  (Playwright's
    ``wait_for_function`` evaluates a string, which the Content-Security-Policy forbids.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {script}")
        time.sleep(0.1)


def save_for_docs(paths: list[Path]) -> None:
    """With STRONGROOM_SCREENSHOTS=docs/screenshots, also write the screenshots there (in 256
    colours: a third of the size, and no visible difference)."""
    target = os.environ.get("STRONGROOM_SCREENSHOTS")
    if not target:
        return
    Path(target).mkdir(parents=True, exist_ok=True)
    for path in paths:
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(256, dither=Image.Dither.NONE)
            small.save(Path(target) / path.name, optimize=True)
