"""Photos: EXIF facts and upright thumbnails from pictures the tests make and from real HEICs."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from pillow_heif import register_heif_opener

from strongroom.locker.errors import ImageTooLarge, MediaUnreadable
from strongroom.locker.photos import (
    LARGE,
    SMALL,
    make_thumbnails,
    photo_info,
    read_photo,
)
from tests.conftest import SAMPLES, missing
from tests.locker.heif_boxes import add_rotation

RED, BLUE = (255, 0, 0), (0, 0, 255)
HEIC_SAMPLES = SAMPLES / "heic"


@pytest.fixture(autouse=True)
def heif_plugin() -> None:
    register_heif_opener()  # so the tests can write HEIC with Pillow


def two_tone(width: int = 320, height: int = 240) -> Image.Image:
    """Left half red, right half blue: rotation shows in which half ends up on top."""
    im = Image.new("RGB", (width, height), RED)
    im.paste(BLUE, (width // 2, 0, width, height))
    return im


def exif_for(
    *,
    taken: str | None = None,
    offset: str | None = None,
    plain_date: str | None = None,
    orientation: int | None = None,
    camera: tuple[str, str] | None = None,
    gps: tuple[str, tuple[float, ...], str, tuple[float, ...]] | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    details = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        details[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        details[ExifTags.Base.OffsetTimeOriginal] = offset
    if plain_date is not None:
        exif[ExifTags.Base.DateTime] = plain_date
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if camera is not None:
        exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = camera
    if gps is not None:
        where = exif.get_ifd(ExifTags.IFD.GPSInfo)
        lat_ref, lat, lon_ref, lon = gps
        where[ExifTags.GPS.GPSLatitudeRef], where[ExifTags.GPS.GPSLatitude] = lat_ref, lat
        where[ExifTags.GPS.GPSLongitudeRef], where[ExifTags.GPS.GPSLongitude] = lon_ref, lon
    return exif


def encode(im: Image.Image, fmt: str, exif: Image.Exif | None = None, **options) -> bytes:
    out = io.BytesIO()
    if exif is not None:
        options["exif"] = exif
    im.save(out, format=fmt, **options)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def top_and_bottom(im: Image.Image) -> tuple[tuple[int, ...], tuple[int, ...]]:
    rgb = im.convert("RGB")
    w, h = rgb.size
    return rgb.getpixel((w // 2, h // 8)), rgb.getpixel((w // 2, h - 1 - h // 8))


def close_to(color: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 40 for a, b in zip(color, expected, strict=False))


# --- EXIF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "HEIF"])
def test_date_taken_with_offset_camera_and_gps(tmp_path: Path, fmt):
    exif = exif_for(
        taken="2024:05:01 12:34:56",
        offset="+02:00",
        plain_date="2024:06:01 08:00:00",
        camera=("Apple", "iPhone 15 Pro"),
        gps=("S", (33.0, 51.0, 54.36), "E", (151.0, 12.0, 36.0)),
    )
    path = tmp_path / f"photo.{fmt.lower()}"
    path.write_bytes(encode(two_tone(), fmt, exif))

    info = photo_info(path)

    assert info.taken_at == datetime(2024, 5, 1, 12, 34, 56, tzinfo=timezone(timedelta(hours=2)))
    assert (info.camera_make, info.camera_model) == ("Apple", "iPhone 15 Pro")
    assert info.latitude == pytest.approx(-(33 + 51 / 60 + 54.36 / 3600))
    assert info.longitude == pytest.approx(151 + 12 / 60 + 36 / 3600)
    assert (info.width, info.height) == (320, 240)
    assert info.format == ("JPEG" if fmt == "JPEG" else "HEIF")


def test_date_taken_without_offset_is_naive_camera_time():
    data = encode(two_tone(), "JPEG", exif_for(taken="2023:12:31 23:59:59"))
    assert photo_info(io.BytesIO(data)).taken_at == datetime(2023, 12, 31, 23, 59, 59)


def test_plain_datetime_is_used_when_there_is_no_original_date():
    data = encode(two_tone(), "HEIF", exif_for(plain_date="2022:02:03 04:05:06"))
    assert photo_info(io.BytesIO(data)).taken_at == datetime(2022, 2, 3, 4, 5, 6)


@pytest.mark.parametrize(
    "bad_date", ["0000:00:00 00:00:00", "    :  :     :  :  ", "yesterday", "2024:13:40 25:00:00"]
)
def test_unusable_dates_give_no_date(bad_date):
    data = encode(two_tone(), "JPEG", exif_for(taken=bad_date))
    assert photo_info(io.BytesIO(data)).taken_at is None


def test_a_picture_without_exif_has_only_its_size():
    info = photo_info(io.BytesIO(encode(two_tone(90, 60), "PNG")))
    assert (info.width, info.height, info.format) == (90, 60, "PNG")
    assert info.taken_at is info.camera_make is info.latitude is info.longitude is None


@pytest.mark.parametrize(
    "gps",
    [
        ("N", (0.0, 0.0, 0.0), "E", (0.0, 0.0, 0.0)),  # "no fix" written as 0,0
        ("N", (95.0, 0.0, 0.0), "E", (10.0, 0.0, 0.0)),  # impossible latitude
    ],
)
def test_implausible_gps_is_dropped(gps):
    data = encode(two_tone(), "JPEG", exif_for(gps=gps))
    info = photo_info(io.BytesIO(data))
    assert (info.latitude, info.longitude) == (None, None)


# --- orientation -----------------------------------------------------------------------------


@pytest.mark.parametrize(("orientation", "top"), [(6, RED), (8, BLUE), (1, None)])
def test_jpeg_exif_orientation_is_applied(orientation, top):
    data = encode(two_tone(), "JPEG", exif_for(orientation=orientation))
    photo = read_photo(io.BytesIO(data))
    large = decode(photo.thumbnails[1].data)
    if top is None:
        assert (photo.info.width, photo.info.height) == (320, 240)
        assert large.size == (320, 240)
        return
    bottom = BLUE if top == RED else RED
    assert (photo.info.width, photo.info.height) == (240, 320)
    assert large.size == (240, 320)
    upper, lower = top_and_bottom(large)
    assert close_to(upper, top) and close_to(lower, bottom)


@pytest.mark.parametrize(("orientation", "quarters", "top"), [(6, 3, RED), (8, 1, BLUE)])
def test_heic_rotation_from_the_container_is_applied_once(orientation, quarters, top):
    # As an iPhone writes it: an irot transform plus the same orientation in EXIF.
    data = add_rotation(encode(two_tone(), "HEIF", exif_for(orientation=orientation)), quarters)
    photo = read_photo(io.BytesIO(data))
    assert (photo.info.width, photo.info.height) == (240, 320)
    large = decode(photo.thumbnails[1].data)
    assert large.size == (240, 320)
    upper, lower = top_and_bottom(large)
    assert close_to(upper, top) and close_to(lower, BLUE if top == RED else RED)


def test_heic_exif_orientation_without_a_transform_is_not_applied():
    # HEIF's rule: the container's transforms decide, the EXIF tag is informative only.
    data = encode(two_tone(), "HEIF", exif_for(orientation=6))
    photo = read_photo(io.BytesIO(data))
    assert (photo.info.width, photo.info.height) == (320, 240)
    assert decode(photo.thumbnails[1].data).size == (320, 240)


# --- thumbnails ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "HEIF"])
def test_thumbnails_are_webp_in_two_sizes(fmt):
    data = encode(two_tone(1500, 1000), fmt)
    small, large = make_thumbnails(io.BytesIO(data))
    assert (small.max_side, large.max_side) == (SMALL, LARGE)
    assert (small.width, small.height) == (256, 171)
    assert (large.width, large.height) == (1280, 853)
    for thumb in (small, large):
        im = decode(thumb.data)
        assert (im.format, thumb.content_type) == ("WEBP", "image/webp")
        assert im.size == (thumb.width, thumb.height)
        left, right = im.convert("RGB").getpixel((5, 5)), im.convert("RGB").getpixel((-6, 5))
        assert close_to(left, RED) and close_to(right, BLUE)
        assert "exif" not in im.info


def test_thumbnails_can_be_jpeg_and_never_enlarge():
    (thumb,) = make_thumbnails(io.BytesIO(encode(two_tone(100, 50), "PNG")), [256], format="JPEG")
    assert (thumb.width, thumb.height, thumb.content_type) == (100, 50, "image/jpeg")
    assert decode(thumb.data).format == "JPEG"


def test_gif_thumbnail_is_the_first_frame():
    frames = [Image.new("RGB", (60, 40), RED), Image.new("RGB", (60, 40), BLUE)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    (thumb,) = make_thumbnails(io.BytesIO(out.getvalue()), [SMALL])
    assert close_to(decode(thumb.data).convert("RGB").getpixel((30, 20)), RED)


def test_transparency_is_kept_in_webp_and_flattened_in_jpeg():
    im = Image.new("RGBA", (80, 80), (0, 0, 0, 0))
    im.paste((0, 255, 0, 255), (20, 20, 60, 60))
    data = encode(im, "PNG")
    (webp,) = make_thumbnails(io.BytesIO(data), [SMALL])
    (jpeg,) = make_thumbnails(io.BytesIO(data), [SMALL], format="JPEG")
    assert decode(webp.data).mode == "RGBA"
    assert decode(webp.data).getpixel((2, 2))[3] == 0
    assert close_to(decode(jpeg.data).getpixel((2, 2)), (255, 255, 255))


def fake_icc(space: bytes) -> bytes:
    """An ICC header naming ``space`` (bytes 16-20): enough for the profile to travel along."""
    header = bytearray(128)
    header[0:4] = (128).to_bytes(4, "big")
    header[12:16], header[16:20], header[36:40] = b"mntr", space, b"acsp"
    return bytes(header)


def test_an_rgb_colour_profile_is_kept_and_others_dropped():
    rgb = encode(two_tone(), "JPEG", icc_profile=fake_icc(b"RGB "))
    cmyk = encode(
        Image.new("CMYK", (64, 64), (0, 200, 200, 0)), "JPEG", icc_profile=fake_icc(b"CMYK")
    )
    (kept,) = make_thumbnails(io.BytesIO(rgb), [SMALL])
    (dropped,) = make_thumbnails(io.BytesIO(cmyk), [SMALL])
    assert decode(kept.data).info.get("icc_profile") == fake_icc(b"RGB ")
    assert decode(dropped.data).info.get("icc_profile") is None
    assert close_to(decode(dropped.data).convert("RGB").getpixel((5, 5)), (255, 55, 55))


def test_sizes_come_back_in_the_order_asked():
    thumbs = make_thumbnails(io.BytesIO(encode(two_tone(2000, 1000), "JPEG")), [64, 512, 128])
    assert [t.max_side for t in thumbs] == [64, 512, 128]
    assert [t.width for t in thumbs] == [64, 512, 128]


def test_real_iphone_sticker_heics_thumbnail_with_their_alpha():
    files = sorted(HEIC_SAMPLES.glob("*.heic"))
    if not files:
        missing(f"no sample HEIC files in {HEIC_SAMPLES}")
    for path in files:
        photo = read_photo(path)
        assert photo.info.format == "HEIF"
        assert (photo.info.width, photo.info.height) == (900, 721), path.name
        small, large = photo.thumbnails
        assert (small.width, small.height) == (256, 205)
        assert (large.width, large.height) == (900, 721)
        im = decode(small.data)
        assert im.mode == "RGBA", path.name
        alpha = im.getchannel("A")
        assert alpha.getextrema() == (0, 255), path.name  # transparent edges, opaque sticker


# --- bad input -------------------------------------------------------------------------------


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` but holds almost no image data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(1000)))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [10_000, 100_000])  # Pillow's warning zone, and beyond its error
def test_a_decompression_bomb_is_refused_before_decoding(tmp_path: Path, side):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header(side, side))
    with pytest.raises(ImageTooLarge, match=r"bomb\.png.*exceeds limit"):
        make_thumbnails(path)
    with pytest.raises(ImageTooLarge, match="bomb.png"):
        photo_info(path)
    # Also where warnings are merely shown or ignored, as in production (not just under pytest).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ImageTooLarge):
            make_thumbnails(path)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIF", "WEBP"])
def test_a_truncated_picture_is_a_clear_error(tmp_path: Path, fmt):
    noisy = Image.effect_noise((400, 300), 64).convert("RGB")
    data = encode(noisy, fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaUnreadable, match=rf"cut\.{fmt.lower()}"):
        make_thumbnails(path)


def test_bytes_that_are_not_a_picture_are_a_clear_error():
    with pytest.raises(MediaUnreadable, match="upload.jpg: not a picture"):
        read_photo(io.BytesIO(b"<html>hello</html>" * 10), name="upload.jpg")


def test_a_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(MediaUnreadable, match="nope.jpg"):
        photo_info(tmp_path / "nope.jpg")
