"""Export folders: on disk or in a zip, and never a name outside them."""

from __future__ import annotations

import io
import zipfile

import pytest

from strongroom.formats.folders import DirectoryFolder, check_name, open_zip


@pytest.mark.parametrize(
    "name", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", "a/\x00", "a/"]
)
def test_names_that_could_leave_the_folder_are_refused(name, tmp_path):
    with pytest.raises(ValueError, match="not a plain relative path"):
        check_name(name)
    with pytest.raises(ValueError):
        with DirectoryFolder(tmp_path).file(name):
            pass


def test_a_directory_folder_makes_subfolders(tmp_path):
    folder = DirectoryFolder(tmp_path)
    with folder.file("a/b/c.txt") as f:
        f.write(b"deep")
    assert (tmp_path / "a/b/c.txt").read_bytes() == b"deep" and folder.exists("a/b/c.txt")
    assert not folder.exists("a/b/d.txt")


def test_a_zip_folder_puts_everything_under_its_prefix():
    out = io.BytesIO()
    with open_zip(out, "top/") as folder:
        with folder.file("x/y.txt", date_ms=0) as f:  # 1970 is before zip time: clamped
            f.write(b"hello")
        with folder.file("pic.jpg", size=3, compress=False) as f:
            f.write(b"jpg")
        assert folder.exists("x/y.txt") and not folder.exists("nope")
    archive = zipfile.ZipFile(out)
    assert archive.namelist() == ["top/x/y.txt", "top/pic.jpg"]
    assert archive.getinfo("top/x/y.txt").date_time == (1980, 1, 1, 0, 0, 0)
    assert archive.getinfo("top/pic.jpg").compress_type == zipfile.ZIP_STORED
    assert archive.read("top/x/y.txt") == b"hello"
