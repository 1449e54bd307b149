"""What a file is: its Content-Type, from its first bytes and its name, and its locker category.

``detect("IMG_0001.HEIC", head)`` with the first :data:`SNIFF_SIZE` bytes gives
``FileType("image/heic", Category.PHOTOS)``.  Rules, in order:

1. Magic bytes decide when they are recognised: a ``.jpg`` that is really a PNG is ``image/png``.
2. Except where the bytes only name a container and the extension names a member of it: a ZIP
   called ``.pages``, an MP4 called ``.m4a`` (``audio/mp4``), a TIFF called ``.nef``, an OLE file
   called ``.ppt``, an Office Open XML presentation called ``.ppsx``.
3. With no recognised magic, the extension decides, except for formats whose header is
   mandatory (:data:`_NEEDS_MAGIC`): a ``.jpg`` without a JPEG header is not a photo, it is
   ``application/octet-stream``.
4. Otherwise ``application/octet-stream``.

Only the type is returned, without parameters; adding ``charset`` to text is the web layer's
business.  Categories follow from the type (:func:`category_of`): ``image/*`` is Photos (camera
RAW included) except SVG and icons, ``video/*`` Videos, ``audio/*`` Music, office, PDF, text and
e-book types Documents, anything else Other.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from pathlib import PurePosixPath

SNIFF_SIZE = 8192
"""How many leading bytes :func:`detect` wants (fewer is fine; ZIP members are found in them)."""

OCTET_STREAM = "application/octet-stream"


class Category(enum.StrEnum):
    """The locker's top-level views; the values are what the API's ``category=`` takes."""

    PHOTOS = "photos"
    VIDEOS = "videos"
    MUSIC = "music"
    DOCUMENTS = "documents"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class FileType:
    content_type: str
    category: Category


_OOXML = "application/vnd.openxmlformats-officedocument."
DOCX = _OOXML + "wordprocessingml.document"
XLSX = _OOXML + "spreadsheetml.sheet"
PPTX = _OOXML + "presentationml.presentation"
PPSX = _OOXML + "presentationml.slideshow"
OLE = "application/x-ole-storage"
ZIP = "application/zip"
TIFF = "image/tiff"
MP4 = "video/mp4"

# Extension -> type.  Keys are space-separated extensions sharing one type.
_BY_EXTENSION_GROUPED = {
    # Photos, camera RAW included
    "jpg jpeg jpe jfif": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif hif": "image/heif",
    "heics": "image/heic-sequence",
    "avif": "image/avif",
    "jxl": "image/jxl",
    "tif tiff": TIFF,
    "bmp": "image/bmp",
    "psd": "image/vnd.adobe.photoshop",
    "svg": "image/svg+xml",
    "ico": "image/vnd.microsoft.icon",
    # Videos
    "mp4": MP4,
    "m4v": "video/x-m4v",
    "mov qt": "video/quicktime",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
    "avi": "video/x-msvideo",
    "wmv": "video/x-ms-wmv",
    "flv": "video/x-flv",
    "3gp": "video/3gpp",
    "3g2": "video/3gpp2",
    "ts mts m2ts": "video/mp2t",
    "mpg mpeg": "video/mpeg",
    "ogv": "video/ogg",
    # Music
    "mp3": "audio/mpeg",
    "m4a m4b": "audio/mp4",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "ogg oga opus": "audio/ogg",
    "wav": "audio/wav",
    "aif aiff aifc": "audio/aiff",
    "mid midi": "audio/midi",
    "amr": "audio/amr",
    "wma": "audio/x-ms-wma",
    "caf": "audio/x-caf",
    "mka": "audio/x-matroska",
    "weba": "audio/webm",
    # Documents
    "pdf": "application/pdf",
    "doc dot": "application/msword",
    "docx": DOCX,
    "dotx": _OOXML + "wordprocessingml.template",
    "docm": "application/vnd.ms-word.document.macroenabled.12",
    "xls xlt": "application/vnd.ms-excel",
    "xlsx": XLSX,
    "xltx": _OOXML + "spreadsheetml.template",
    "xlsm": "application/vnd.ms-excel.sheet.macroenabled.12",
    "ppt pps pot": "application/vnd.ms-powerpoint",
    "pptx": PPTX,
    "ppsx": PPSX,
    "potx": _OOXML + "presentationml.template",
    "pptm": "application/vnd.ms-powerpoint.presentation.macroenabled.12",
    "ppsm": "application/vnd.ms-powerpoint.slideshow.macroenabled.12",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "odg": "application/vnd.oasis.opendocument.graphics",
    "pages": "application/vnd.apple.pages",
    "numbers": "application/vnd.apple.numbers",
    "key": "application/vnd.apple.keynote",
    "epub": "application/epub+zip",
    "mobi": "application/x-mobipocket-ebook",
    "rtf": "application/rtf",
    "txt text log": "text/plain",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "md markdown": "text/markdown",
    # Other
    "zip": ZIP,
    "jar": "application/java-archive",
    "apk": "application/vnd.android.package-archive",
    "gz tgz": "application/gzip",
    "7z": "application/x-7z-compressed",
    "rar": "application/vnd.rar",
    "tar": "application/x-tar",
    "html htm": "text/html",
    "json": "application/json",
    "msg": "application/vnd.ms-outlook",
}
# Camera RAW: extension -> maker, typed image/x-<maker>-<extension> as shared-mime-info does.
_RAW_MAKERS = (
    "dng:adobe cr2:canon cr3:canon crw:canon nef:nikon nrw:nikon arw:sony srf:sony sr2:sony "
    "orf:olympus rw2:panasonic raf:fuji pef:pentax srw:samsung x3f:sigma 3fr:hasselblad "
    "iiq:phaseone erf:epson mrw:minolta kdc:kodak dcr:kodak rwl:leica"
)
_BY_EXTENSION = {
    ext: content_type
    for exts, content_type in _BY_EXTENSION_GROUPED.items()
    for ext in exts.split()
} | {
    ext: f"image/x-{maker}-{ext}"
    for ext, maker in (pair.split(":") for pair in _RAW_MAKERS.split())
}


def _types(*exts: str) -> frozenset[str]:
    return frozenset(_BY_EXTENSION[e] for e in exts)


# Sniffed container type -> the more specific types an extension may pick inside it (rule 2).
_REFINES = {
    ZIP: _types(
        *"docx dotx docm xlsx xltx xlsm pptx ppsx potx pptm ppsm odt ods odp odg epub pages "
        "numbers key jar apk".split()
    ),
    DOCX: _types("dotx", "docm"),
    XLSX: _types("xltx", "xlsm"),
    PPTX: _types("ppsx", "potx", "pptm", "ppsm"),
    OLE: _types("doc", "xls", "ppt", "msg"),
    TIFF: _types(*"dng cr2 nef nrw arw srf sr2 pef srw 3fr iiq erf kdc dcr rwl".split()),
    MP4: _types("m4a", "m4v"),
    "video/x-matroska": _types("mka"),
    "video/webm": _types("weba"),
    "application/ogg": _types("ogg", "ogv"),
    "video/x-ms-asf": _types("wma", "wmv"),
}

# Formats whose files always start with their magic: without it, the extension is wrong (rule 3).
_NEEDS_MAGIC = frozenset(
    _BY_EXTENSION[e]
    for e in "jpg png gif webp heic heif avif tif bmp mp4 m4v mkv webm flac wav aif "
    "ogg m4a docx xlsx pptx odt ods odp epub".split()
)

_DOCUMENTS = _types(*"pdf doc xls ppt rtf txt csv tsv md epub mobi pages numbers key".split())
_DOCUMENT_PREFIXES = (
    _OOXML,
    "application/vnd.oasis.opendocument.",
    "application/vnd.ms-word.",
    "application/vnd.ms-excel.",
    "application/vnd.ms-powerpoint.",
)
_NOT_PHOTOS = frozenset({"image/svg+xml", "image/vnd.microsoft.icon"})


def category_of(content_type: str) -> Category:
    """The locker category for a content type (parameters such as ``charset`` are ignored)."""
    base = content_type.split(";", 1)[0].strip().lower()
    major = base.split("/", 1)[0]
    if major == "image" and base not in _NOT_PHOTOS:
        return Category.PHOTOS
    if major == "video":
        return Category.VIDEOS
    if major == "audio":
        return Category.MUSIC
    if base in _DOCUMENTS or base.startswith(_DOCUMENT_PREFIXES):
        return Category.DOCUMENTS
    return Category.OTHER


def type_from_extension(filename: str) -> str | None:
    """The content type the name's extension suggests, or None (case-insensitive)."""
    suffix = PurePosixPath(filename).suffix.lower().removeprefix(".")
    return _BY_EXTENSION.get(suffix)


def detect(filename: str, head: bytes) -> FileType:
    """Content type and category of a file from its name and first bytes (see the module doc)."""
    by_name = type_from_extension(filename)
    by_content = sniff(head)
    if by_content is not None:
        if by_name is not None and by_name in _REFINES.get(by_content, ()):
            by_content = by_name
        return FileType(by_content, category_of(by_content))
    if by_name is None or by_name in _NEEDS_MAGIC:
        return FileType(OCTET_STREAM, Category.OTHER)
    return FileType(by_name, category_of(by_name))


# --- magic bytes ---------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The content type the leading bytes prove, or None when no signature matches."""
    for probe in (_sniff_image, _sniff_iso_bmff, _sniff_audio_video, _sniff_document):
        found = probe(head)
        if found is not None:
            return found
    return None


_SIMPLE_MAGIC = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"IIRO", "image/x-olympus-orf"),
    (b"IIRS", "image/x-olympus-orf"),
    (b"MMOR", "image/x-olympus-orf"),
    (b"IIU\x00", "image/x-panasonic-rw2"),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),
    (b"FUJIFILMCCD-RAW", "image/x-fuji-raf"),
    (b"II\x1a\x00\x00\x00HEAPCCDR", "image/x-canon-crw"),
    (b"FOVb", "image/x-sigma-x3f"),
    (b"\x00MRM", "image/x-minolta-mrw"),
    (b"8BPS", "image/vnd.adobe.photoshop"),
    (b"\xff\x0a", "image/jxl"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "image/jxl"),
]


def _sniff_image(head: bytes) -> str | None:
    for magic, content_type in _SIMPLE_MAGIC:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    # "BM" alone is too common in text; also require a known DIB header size.
    if head[:2] == b"BM" and len(head) >= 18 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return "image/bmp"
    return None


_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis"})
_ISO_BRANDS = {
    brand.encode().ljust(4): content_type
    for brands, content_type in {
        "heic heix heim heis": "image/heic",
        "hevc hevx": "image/heic-sequence",
        "msf1": "image/heif-sequence",
        "avif avis": "image/avif",
        "crx": "image/x-canon-cr3",
        "qt": "video/quicktime",
        "M4A M4B M4P": "audio/mp4",
        "M4V M4VH M4VP": "video/x-m4v",
        "3g2a 3g2b 3g2c": "video/3gpp2",
    }.items()
    for brand in brands.split()
}
# Boxes an old QuickTime file (no ftyp) starts with.
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


def _sniff_iso_bmff(head: bytes) -> str | None:
    """HEIF/AVIF images, CR3, MP4, QuickTime, M4A and 3GP all share the ISO box format."""
    # A leading zero byte (a box under 16 MiB) keeps text such as "The wide..." out.
    if head[:1] == b"\x00" and head[4:8] in _QUICKTIME_ATOMS:
        return "video/quicktime"
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    box_end = min(struct.unpack(">I", head[:4])[0], len(head))
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, box_end - 3, 4)}
    if major in (b"mif1", b"miaf"):
        # A generic HEIF still image: the compatible brands say which codec.
        if compatible & _HEIC_BRANDS:
            return "image/heic"
        return "image/avif" if b"avif" in compatible else "image/heif"
    if major in _ISO_BRANDS:
        return _ISO_BRANDS[major]
    if major.startswith((b"3gp", b"3ge", b"3gg", b"3gs")):
        return "video/3gpp"
    return MP4


def _sniff_audio_video(head: bytes) -> str | None:
    if head[:4] == b"RIFF":
        return {b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}.get(head[8:12])
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if _ebml_doctype(head) == b"webm" else "video/x-matroska"
    if head[:4] == b"OggS":
        return _ogg_type(head)
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[:3] == b"ID3" and head[3:4] in (b"\x02", b"\x03", b"\x04"):
        return _after_id3(head)
    simple = {
        b"MThd": "audio/midi",
        b"#!AMR": "audio/amr",
        b"caff": "audio/x-caf",
        b"FLV\x01": "video/x-flv",
        b"\x00\x00\x01\xba": "video/mpeg",
        b"\x00\x00\x01\xb3": "video/mpeg",
        b"\x30\x26\xb2\x75\x8e\x66\xcf\x11": "video/x-ms-asf",
    }
    for magic, content_type in simple.items():
        if head.startswith(magic):
            return content_type
    if _is_transport_stream(head):
        return "video/mp2t"
    return _mpeg_audio_frame(head)


def _ebml_doctype(head: bytes) -> bytes | None:
    at = head.find(b"\x42\x82", 4, 64)
    if at < 0 or at + 3 > len(head) or not head[at + 2] & 0x80:
        return None
    size = head[at + 2] & 0x7F
    return head[at + 3 : at + 3 + size]


def _ogg_type(head: bytes) -> str:
    codec = head[28:36]
    if codec.startswith((b"\x80theora", b"\x01video")):
        return "video/ogg"
    if codec.startswith((b"\x01vorbis", b"OpusHead", b"\x7fFLAC", b"Speex   ")):
        return "audio/ogg"
    return "application/ogg"


def _after_id3(head: bytes) -> str:
    """An ID3v2 tag usually precedes MP3 audio, sometimes FLAC or AAC."""
    if len(head) < 10:
        return "audio/mpeg"
    size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | head[9] & 0x7F
    after = head[10 + size + (10 if head[5] & 0x10 else 0) :]
    if after[:4] == b"fLaC":
        return "audio/flac"
    return _mpeg_audio_frame(after) or "audio/mpeg"


def _mpeg_audio_frame(head: bytes) -> str | None:
    """An MPEG audio frame header (MP3) or an ADTS header (raw AAC) at the start."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    layer = (head[1] >> 1) & 3
    if layer == 0:
        return "audio/aac" if head[1] & 0xF6 == 0xF0 else None
    if head[2] >> 4 == 0xF or (head[2] >> 2) & 3 == 3:  # bad bitrate or sample rate index
        return None
    return "audio/mpeg"


def _is_transport_stream(head: bytes) -> bool:
    # 188-byte packets each starting with 0x47; Blu-ray .m2ts adds a 4-byte prefix (192 bytes).
    for start, step in ((0, 188), (4, 192)):
        if len(head) > start + 2 * step and all(head[start + k * step] == 0x47 for k in range(3)):
            return True
    return False


_ARCHIVES = [
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"\x28\xb5\x2f\xfd", "application/zstd"),
]


def _sniff_document(head: bytes) -> str | None:
    at = head.find(b"%PDF-", 0, 1024)  # readers accept junk before the header, on its own line
    if at == 0 or (at > 0 and head[at - 1] in b"\r\n"):
        return "application/pdf"
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_type(head)
    for magic, content_type in _ARCHIVES:
        if head.startswith(magic):
            return content_type
    if head[257:262] == b"ustar":
        return "application/x-tar"
    return None


def _zip_members(head: bytes) -> list[tuple[str, bytes]]:
    """(name, stored data or b"") of the ZIP local file headers that fit in ``head``."""
    members: list[tuple[str, bytes]] = []
    at = 0
    while head[at : at + 4] == b"PK\x03\x04" and at + 30 <= len(head):
        flags, method = struct.unpack_from("<HH", head, at + 6)
        csize, _usize, name_len, extra_len = struct.unpack_from("<IIHH", head, at + 18)
        name_at = at + 30
        data_at = name_at + name_len + extra_len
        name = head[name_at : name_at + name_len].decode("utf-8", "replace")
        stored = head[data_at : data_at + csize] if method == 0 else b""
        members.append((name, stored))
        if flags & 0x08 and csize == 0:  # size only in a trailing descriptor: cannot skip
            break
        at = data_at + csize
    return members


def _zip_type(head: bytes) -> str:
    members = _zip_members(head)
    if members and members[0][0] == "mimetype":
        # ODF and EPUB store their type first, uncompressed, so that it can be sniffed.
        declared = members[0][1].decode("ascii", "replace").strip()
        if declared.startswith("application/vnd.oasis.opendocument.") or declared == (
            "application/epub+zip"
        ):
            return declared
    for name, _ in members:
        for prefix, content_type in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
            if name.startswith(prefix):
                return content_type
    return ZIP
