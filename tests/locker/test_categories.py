"""Content type and category from a file's first bytes and its name."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pillow_heif import register_heif_opener

from strongroom.locker.categories import (
    DOCX,
    PPSX,
    PPTX,
    SNIFF_SIZE,
    XLSX,
    Category,
    FileType,
    category_of,
    detect,
    sniff,
    type_from_extension,
)
from tests.conftest import missing

PHOTOS, VIDEOS, MUSIC, DOCUMENTS, OTHER = (
    Category.PHOTOS,
    Category.VIDEOS,
    Category.MUSIC,
    Category.DOCUMENTS,
    Category.OTHER,
)

# --- headers built by hand, as each format's specification lays them out -------------------


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def riff(form: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 1000) + form + b"chunk"


def ebml(doctype: bytes) -> bytes:
    element = b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | (len(element) + 4)]) + b"\x42\x86\x81\x01" + element


def ogg(codec_header: bytes) -> bytes:
    return b"OggS\x00\x02" + bytes(22) + codec_header + bytes(20)


def id3(then: bytes, size: int = 300) -> bytes:
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x04\x00\x00" + syncsafe + bytes(size) + then


def zip_of(*members: tuple[str, bytes], stored_first: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (name, data) in enumerate(members):
            method = zipfile.ZIP_STORED if stored_first and i == 0 else zipfile.ZIP_DEFLATED
            z.writestr(name, data, compress_type=method)
    return buf.getvalue()


def ooxml(part: str) -> bytes:
    return zip_of(
        ("[Content_Types].xml", b"<Types/>"),
        ("_rels/.rels", b"<Relationships/>"),
        (f"{part}/document.xml", b"<doc/>"),
    )


def odf(mimetype: bytes) -> bytes:
    return zip_of(("mimetype", mimetype), ("content.xml", b"<x/>"), stored_first=True)


MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(400)
ADTS_FRAME = b"\xff\xf1\x50\x80\x02\x1f\xfc" + bytes(100)
TIFF_LE = b"II*\x00\x08\x00\x00\x00" + bytes(100)
OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
TS_PACKETS = (b"\x47" + bytes(187)) * 4
BIG_FIRST_MEMBER = zip_of(
    ("[Content_Types].xml", bytes(range(256)) * 200),  # pushes ppt/ past the sniffed head
    ("ppt/presentation.xml", b"<p/>"),
)

CASES = [
    # Photos
    ("IMG_0001.JPG", b"\xff\xd8\xff\xe1" + bytes(50), "image/jpeg", PHOTOS),
    ("a.png", b"\x89PNG\r\n\x1a\n" + bytes(20), "image/png", PHOTOS),
    ("a.gif", b"GIF89a" + bytes(20), "image/gif", PHOTOS),
    ("a.webp", riff(b"WEBP"), "image/webp", PHOTOS),
    ("IMG_0002.HEIC", ftyp(b"heic", b"mif1", b"heic"), "image/heic", PHOTOS),
    ("a.heic", ftyp(b"mif1", b"mif1", b"heic"), "image/heic", PHOTOS),
    ("a.heif", ftyp(b"mif1", b"mif1"), "image/heif", PHOTOS),
    ("a.avif", ftyp(b"avif", b"mif1", b"avif"), "image/avif", PHOTOS),
    ("a.avif", ftyp(b"mif1", b"mif1", b"avif"), "image/avif", PHOTOS),
    ("a.heics", ftyp(b"hevc", b"msf1"), "image/heic-sequence", PHOTOS),
    ("a.tif", TIFF_LE, "image/tiff", PHOTOS),
    ("a.bmp", b"BM" + bytes(12) + b"\x28" + bytes(40), "image/bmp", PHOTOS),
    ("a.bmp", b"BMW is a car", "application/octet-stream", OTHER),  # "BM" alone is not enough
    ("a.psd", b"8BPS\x00\x01" + bytes(20), "image/vnd.adobe.photoshop", PHOTOS),
    # Camera RAW: TIFF containers named by the extension, own signatures otherwise
    ("DSC_0001.NEF", TIFF_LE, "image/x-nikon-nef", PHOTOS),
    ("a.dng", TIFF_LE, "image/x-adobe-dng", PHOTOS),
    ("a.cr2", TIFF_LE, "image/x-canon-cr2", PHOTOS),
    ("a.arw", TIFF_LE, "image/x-sony-arw", PHOTOS),
    ("a.cr3", ftyp(b"crx ", b"crx ", b"isom"), "image/x-canon-cr3", PHOTOS),
    ("a.orf", b"IIRO\x08\x00" + bytes(20), "image/x-olympus-orf", PHOTOS),
    ("a.rw2", b"IIU\x00\x18\x00" + bytes(20), "image/x-panasonic-rw2", PHOTOS),
    ("a.raf", b"FUJIFILMCCD-RAW 0201" + bytes(20), "image/x-fuji-raf", PHOTOS),
    ("a.x3f", b"some bytes", "image/x-sigma-x3f", PHOTOS),  # no sniffing: extension
    # Videos
    ("a.mp4", ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4", VIDEOS),
    ("a.mp4", ftyp(b"mp42", b"mp42", b"isom"), "video/mp4", VIDEOS),
    ("IMG_0003.MOV", ftyp(b"qt  ", b"qt  "), "video/quicktime", VIDEOS),
    ("old.mov", b"\x00\x00\x00\x08wide" + bytes(20), "video/quicktime", VIDEOS),
    ("a.m4v", ftyp(b"M4V ", b"M4V ", b"mp42"), "video/x-m4v", VIDEOS),
    ("a.m4v", ftyp(b"isom"), "video/x-m4v", VIDEOS),
    ("a.3gp", ftyp(b"3gp4", b"3gp4"), "video/3gpp", VIDEOS),
    ("a.mkv", ebml(b"matroska"), "video/x-matroska", VIDEOS),
    ("a.webm", ebml(b"webm"), "video/webm", VIDEOS),
    ("a.avi", riff(b"AVI "), "video/x-msvideo", VIDEOS),
    ("a.wmv", b"\x30\x26\xb2\x75\x8e\x66\xcf\x11" + bytes(20), "video/x-ms-wmv", VIDEOS),
    ("a.ts", TS_PACKETS, "video/mp2t", VIDEOS),
    ("a.m2ts", (b"\x00\x00\x00\x00\x47" + bytes(187)) * 4, "video/mp2t", VIDEOS),
    ("a.mpg", b"\x00\x00\x01\xba" + bytes(20), "video/mpeg", VIDEOS),
    ("a.ogv", ogg(b"\x80theora"), "video/ogg", VIDEOS),
    ("a.flv", b"FLV\x01\x05" + bytes(20), "video/x-flv", VIDEOS),
    # Music
    ("a.mp3", id3(MP3_FRAME), "audio/mpeg", MUSIC),
    ("a.mp3", MP3_FRAME, "audio/mpeg", MUSIC),
    ("a.mp3", bytes(100) + MP3_FRAME, "audio/mpeg", MUSIC),  # leading padding: extension
    ("a.aac", ADTS_FRAME, "audio/aac", MUSIC),
    ("a.m4a", ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4", MUSIC),
    ("a.m4a", ftyp(b"isom", b"isom"), "audio/mp4", MUSIC),
    ("a.flac", b"fLaC\x00\x00\x00\x22" + bytes(34), "audio/flac", MUSIC),
    ("a.flac", id3(b"fLaC\x00\x00\x00\x22"), "audio/flac", MUSIC),
    ("a.ogg", ogg(b"\x01vorbis"), "audio/ogg", MUSIC),
    ("a.opus", ogg(b"OpusHead"), "audio/ogg", MUSIC),
    ("a.wav", riff(b"WAVE"), "audio/wav", MUSIC),
    ("a.aiff", b"FORM\x00\x00\x10\x00AIFF" + bytes(20), "audio/aiff", MUSIC),
    ("a.mid", b"MThd\x00\x00\x00\x06", "audio/midi", MUSIC),
    ("a.amr", b"#!AMR\n" + bytes(20), "audio/amr", MUSIC),
    ("a.caf", b"caff\x00\x01" + bytes(20), "audio/x-caf", MUSIC),
    ("a.wma", b"\x30\x26\xb2\x75\x8e\x66\xcf\x11" + bytes(20), "audio/x-ms-wma", MUSIC),
    ("a.mka", ebml(b"matroska"), "audio/x-matroska", MUSIC),
    # Documents
    ("a.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf", DOCUMENTS),
    ("a.pdf", b"garbage line\r\n%PDF-1.4\n", "application/pdf", DOCUMENTS),
    ("report.docx", ooxml("word"), DOCX, DOCUMENTS),
    ("budget.xlsx", ooxml("xl"), XLSX, DOCUMENTS),
    ("deck.pptx", ooxml("ppt"), PPTX, DOCUMENTS),
    ("show.ppsx", ooxml("ppt"), PPSX, DOCUMENTS),
    ("deck.pptx", BIG_FIRST_MEMBER, PPTX, DOCUMENTS),
    ("a.docm", ooxml("word"), "application/vnd.ms-word.document.macroenabled.12", DOCUMENTS),
    ("a.doc", OLE_HEADER, "application/msword", DOCUMENTS),
    ("a.xls", OLE_HEADER, "application/vnd.ms-excel", DOCUMENTS),
    ("a.ppt", OLE_HEADER, "application/vnd.ms-powerpoint", DOCUMENTS),
    ("a.pps", OLE_HEADER, "application/vnd.ms-powerpoint", DOCUMENTS),
    (
        "a.odt",
        odf(b"application/vnd.oasis.opendocument.text"),
        "application/vnd.oasis.opendocument.text",
        DOCUMENTS,
    ),
    (
        "a.ods",
        odf(b"application/vnd.oasis.opendocument.spreadsheet"),
        "application/vnd.oasis.opendocument.spreadsheet",
        DOCUMENTS,
    ),
    (
        "a.odp",
        odf(b"application/vnd.oasis.opendocument.presentation"),
        "application/vnd.oasis.opendocument.presentation",
        DOCUMENTS,
    ),
    ("book.epub", odf(b"application/epub+zip"), "application/epub+zip", DOCUMENTS),
    (
        "a.odt",
        zip_of(("content.xml", b"<x/>")),
        "application/vnd.oasis.opendocument.text",
        DOCUMENTS,
    ),
    ("a.pages", zip_of(("Index/Document.iwa", b"x")), "application/vnd.apple.pages", DOCUMENTS),
    ("a.numbers", zip_of(("Index/x.iwa", b"x")), "application/vnd.apple.numbers", DOCUMENTS),
    ("a.key", zip_of(("Index/x.iwa", b"x")), "application/vnd.apple.keynote", DOCUMENTS),
    ("a.rtf", b"{\\rtf1\\ansi hello}", "application/rtf", DOCUMENTS),
    ("notes.txt", b"Shopping list\n- milk\n", "text/plain", DOCUMENTS),
    ("notes.txt", b"The wide world\n", "text/plain", DOCUMENTS),  # not a QuickTime 'wide' box
    ("notes.txt", b"ID3 tags are fun\n", "text/plain", DOCUMENTS),  # not an ID3 header
    ("notes.txt", b"see the %PDF-1.4 header\n", "text/plain", DOCUMENTS),
    ("empty.txt", b"", "text/plain", DOCUMENTS),
    ("a.csv", b"a,b\n1,2\n", "text/csv", DOCUMENTS),
    ("README.md", b"# Title\n", "text/markdown", DOCUMENTS),
    # Content beats extension for media
    ("photo.jpg", b"\x89PNG\r\n\x1a\n" + bytes(20), "image/png", PHOTOS),
    ("photo.jpg", TIFF_LE, "image/tiff", PHOTOS),
    ("clip.mp4", ftyp(b"qt  "), "video/quicktime", VIDEOS),
    ("clip.mp4", ftyp(b"M4A "), "audio/mp4", MUSIC),
    ("song.mp3", b"\xff\xd8\xff\xe0" + bytes(20), "image/jpeg", PHOTOS),
    ("notes.txt", b"\xff\xd8\xff\xe0" + bytes(20), "image/jpeg", PHOTOS),
    ("noext", ftyp(b"heic"), "image/heic", PHOTOS),
    ("archive.zip", ooxml("word"), DOCX, DOCUMENTS),
    # A media extension without the mandatory header is not media
    ("fake.jpg", b"<html>not a picture</html>", "application/octet-stream", OTHER),
    ("fake.heic", b"\x00" * 64, "application/octet-stream", OTHER),
    ("empty.jpg", b"", "application/octet-stream", OTHER),
    ("fake.docx", b"plain text", "application/octet-stream", OTHER),
    # Other
    ("a.zip", zip_of(("a.txt", b"hi")), "application/zip", OTHER),
    ("a.bin", OLE_HEADER, "application/x-ole-storage", OTHER),
    ("a.gz", b"\x1f\x8b\x08\x00" + bytes(10), "application/gzip", OTHER),
    ("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", OTHER),
    ("a.ico", b"\x00\x00\x01\x00", "image/vnd.microsoft.icon", OTHER),
    ("a.json", b"{}", "application/json", OTHER),
    ("mystery", b"\x01\x02\x03", "application/octet-stream", OTHER),
    ("", b"", "application/octet-stream", OTHER),
]


@pytest.mark.parametrize(("name", "head", "content_type", "category"), CASES)
def test_detect(name, head, content_type, category):
    assert detect(name, head[:SNIFF_SIZE]) == FileType(content_type, category)


@pytest.mark.parametrize(
    ("content_type", "category"),
    [
        ("image/jpeg", PHOTOS),
        ("IMAGE/HEIC", PHOTOS),
        ("image/x-canon-cr3", PHOTOS),
        ("image/svg+xml", OTHER),
        ("video/quicktime", VIDEOS),
        ("audio/mp4", MUSIC),
        ("text/plain; charset=utf-8", DOCUMENTS),
        ("application/vnd.oasis.opendocument.graphics", DOCUMENTS),
        ("application/vnd.ms-excel.sheet.macroenabled.12", DOCUMENTS),
        ("application/vnd.apple.keynote", DOCUMENTS),
        ("application/vnd.apple.mpegurl", OTHER),
        ("text/html", OTHER),
        ("application/zip", OTHER),
        ("nonsense", OTHER),
    ],
)
def test_category_of(content_type, category):
    assert category_of(content_type) == category


def test_extension_lookup_ignores_case_and_folders():
    assert type_from_extension("Trip/IMG_0001.HEIC") == "image/heic"
    assert type_from_extension("archive.tar.gz") == "application/gzip"
    assert type_from_extension(".bashrc") is None
    assert type_from_extension("README") is None


def test_every_extension_type_has_the_category_its_family_implies():
    # Guards the tables against a typo'd type landing in Other.
    expected = {
        "jpg heic avif dng cr3 nef arw raf orf rw2 psd": PHOTOS,
        "mp4 mov mkv webm avi 3gp m4v": VIDEOS,
        "mp3 m4a flac ogg wav aiff opus": MUSIC,
        "pdf doc docx xls xlsx ppt pptx pps ppsx odt ods odp txt rtf csv md pages numbers key "
        "epub": DOCUMENTS,
    }
    for exts, category in expected.items():
        for ext in exts.split():
            assert detect(f"x.{ext}", b"").category in (category, OTHER)
            found = type_from_extension(f"x.{ext}")
            assert found is not None and category_of(found) == category, ext


# --- real files, written by the libraries and tools that make them ---------------------------


@pytest.mark.parametrize(
    ("fmt", "name", "content_type"),
    [
        ("JPEG", "a.jpg", "image/jpeg"),
        ("PNG", "a.png", "image/png"),
        ("GIF", "a.gif", "image/gif"),
        ("WEBP", "a.webp", "image/webp"),
        ("TIFF", "a.tiff", "image/tiff"),
        ("BMP", "a.bmp", "image/bmp"),
        ("HEIF", "a.heic", "image/heic"),
    ],
)
def test_images_written_by_pillow(fmt, name, content_type):
    register_heif_opener()
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, format=fmt)
    assert detect(name, buf.getvalue()[:SNIFF_SIZE]).content_type == content_type
    assert sniff(buf.getvalue()[:SNIFF_SIZE]) == content_type


@pytest.mark.parametrize(
    ("name", "args", "content_type"),
    [
        ("a.mp4", ["-c:v", "libx264", "-c:a", "aac"], "video/mp4"),
        ("a.mov", ["-c:v", "libx264", "-c:a", "aac"], "video/quicktime"),
        ("a.mkv", ["-c:v", "libx264", "-c:a", "aac"], "video/x-matroska"),
        ("a.webm", ["-c:v", "libvpx", "-c:a", "libvorbis"], "video/webm"),
        ("a.m4a", ["-vn", "-c:a", "aac"], "audio/mp4"),
        ("a.mp3", ["-vn", "-c:a", "libmp3lame"], "audio/mpeg"),
        ("a.flac", ["-vn", "-c:a", "flac"], "audio/flac"),
        ("a.ogg", ["-vn", "-c:a", "libvorbis"], "audio/ogg"),
        ("a.wav", ["-vn", "-c:a", "pcm_s16le"], "audio/wav"),
    ],
)
def test_media_written_by_ffmpeg(tmp_path: Path, name, args, content_type):
    if shutil.which("ffmpeg") is None:
        missing("ffmpeg is not installed (apt-get install -y ffmpeg)")
    out = tmp_path / name
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
        + ["-f", "lavfi", "-i", "testsrc=duration=0.5:size=64x48:rate=10"]
        + ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", "-shortest"]
        + args
        + [str(out)],
        check=True,
        timeout=60,
    )
    head = out.read_bytes()[:SNIFF_SIZE]
    assert detect(name, head).content_type == content_type
    # Content alone, under a meaningless name, still names the family.
    assert category_of(detect("upload.bin", head).content_type) == category_of(content_type)


MAGIC_PREFIXES = [
    b"",
    b"\x00\x00\x00\x18ftyp",
    b"\x1a\x45\xdf\xa3",
    b"ID3\x04",
    b"PK\x03\x04",
    b"OggS",
    b"RIFF",
    b"BM",
    b"\xff\xfb",
    b"\x47",
    b"\x00\x00\x00\x08wide",
]


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(MAGIC_PREFIXES),
    rest=st.binary(max_size=600),
    name=st.sampled_from(["a.jpg", "a.mp4", "a.docx", "a.txt", "a", "a.m4a", "a.nef"]),
)
def test_detect_never_fails_on_arbitrary_bytes(prefix, rest, name):
    found = detect(name, prefix + rest)
    assert found.category == category_of(found.content_type)
    assert "/" in found.content_type
