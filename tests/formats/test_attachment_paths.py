from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.formats.attachment_paths import (
    UnsafeAttachmentPath,
    folder_attachments,
    guess_content_type,
    library_relative,
)


@pytest.mark.parametrize(
    ("stored", "relative"),
    [
        ("~/Library/SMS/Attachments/ab/11/G/IMG.HEIC", "Library/SMS/Attachments/ab/11/G/IMG.HEIC"),
        ("/var/mobile/Library/SMS/Attachments/0a/x.jpg", "Library/SMS/Attachments/0a/x.jpg"),
        ("~/Library/Messages/Attachments/1f/v.mov", "Library/Messages/Attachments/1f/v.mov"),
        ("/Users/ann/Library/Messages/Attachments/a.png", "Library/Messages/Attachments/a.png"),
    ],
)
def test_stored_paths_map_to_library_relative_paths(stored: str, relative: str) -> None:
    assert library_relative(stored) == relative


@pytest.mark.parametrize(
    "stored",
    ["~/Library/SMS/Attachments/../../../etc/passwd", "/etc/passwd", "MyLibrary/SMS/x", ""],
)
def test_paths_outside_the_messages_folders_are_refused(stored: str) -> None:
    with pytest.raises(UnsafeAttachmentPath):
        library_relative(stored)


def test_folder_attachments_reads_beside_the_database(tmp_path: Path) -> None:
    (tmp_path / "Attachments" / "ab").mkdir(parents=True)
    (tmp_path / "Attachments" / "ab" / "x.jpg").write_bytes(b"jpeg")
    resolve = folder_attachments(tmp_path)
    found = resolve("~/Library/SMS/Attachments/ab/x.jpg")
    assert found is not None and found.read() == b"jpeg"
    assert resolve("~/Library/SMS/Attachments/ab/missing.jpg") is None


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret").write_bytes(b"secret")
    root = tmp_path / "messages"
    (root / "Attachments").mkdir(parents=True)
    (root / "Attachments" / "link.jpg").symlink_to(tmp_path / "secret")
    with pytest.raises(UnsafeAttachmentPath, match="leaves"):
        folder_attachments(root)("~/Library/SMS/Attachments/link.jpg")


def test_content_type_comes_from_the_database_or_the_name() -> None:
    assert guess_content_type("image/heic", "x.jpg") == "image/heic"
    assert guess_content_type(None, "clip.mp4") == "video/mp4"
    assert guess_content_type(None, None) == "application/octet-stream"
