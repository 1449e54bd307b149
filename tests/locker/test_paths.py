"""Locker names and paths: hostile input is refused, nothing can leave its root."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from strongroom.locker.errors import BadPath
from strongroom.locker.paths import (
    MAX_NAME_BYTES,
    clean_name,
    is_clean_name,
    is_within,
    join_path,
    split_file_path,
    split_path,
    to_local_path,
    windows_problem,
)


@pytest.mark.parametrize(
    "name",
    [
        "IMG_0001.HEIC",
        ".bashrc",
        "résumé.pdf",
        "写真.jpg",
        "👩‍👩‍👧 family.png",  # a ZWJ emoji sequence stays allowed
        "a:b",  # legal on phones and Linux; only Windows restores refuse it
        "CON",
        "name with spaces ",
        "~",
        "...",
        "x" * MAX_NAME_BYTES,
    ],
)
def test_ordinary_and_unusual_but_harmless_names_are_accepted(name):
    assert clean_name(name) == name
    assert is_clean_name(name)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (".", "not a name"),
        ("..", "not a name"),
        ("a/b", "'/'"),
        ("../etc/passwd", "'/'"),
        ("/etc/passwd", "'/'"),
        ("..\\..\\windows", re.escape(repr("\\"))),
        ("C:\\Windows", re.escape(repr("\\"))),
        ("nul\x00byte", "U\\+0000"),
        ("tab\there", "U\\+0009"),
        ("new\nline", "U\\+000A"),
        ("del\x7f", "U\\+007F"),
        ("c1\x85", "U\\+0085"),
        ("photo\u202egpj.exe", "U\\+202E"),
        ("line\u2028sep", "U\\+2028"),
        ("lone\udcffsurrogate", "U\\+DCFF"),
        ("x" * (MAX_NAME_BYTES + 1), "at most 255 bytes"),
        ("é" * 128, "at most 255 bytes"),  # 128 characters, 256 bytes
    ],
)
def test_hostile_names_are_refused_with_a_reason(name, reason):
    with pytest.raises(BadPath, match=reason):
        clean_name(name)
    assert not is_clean_name(name)


def test_names_are_nfc_normalised():
    decomposed = "Cafe\u0301.jpg"
    assert clean_name(decomposed) == "Caf\u00e9.jpg"
    assert clean_name(decomposed) == clean_name("Caf\u00e9.jpg")
    assert not is_clean_name(decomposed)


def test_the_length_limit_counts_bytes_after_normalisation():
    # 127 decomposed "é" are 381 bytes, but 254 once composed: accepted.
    assert clean_name("e\u0301" * 127) == "\u00e9" * 127


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("", ()),
        ("/", ()),
        ("Photos", ("Photos",)),
        ("Photos/2024/Trip", ("Photos", "2024", "Trip")),
        ("/Photos/2024/", ("Photos", "2024")),
        ("/etc/passwd", ("etc", "passwd")),  # absolute means the locker root, not the disk
        ("C:/Windows", ("C:", "Windows")),  # just a folder called "C:" in the locker
    ],
)
def test_split_path(path, parts):
    assert split_path(path) == parts


@pytest.mark.parametrize(
    "path",
    [
        "Photos/../../etc",
        "..",
        "./Photos",
        "Photos//2024",
        "//server/share",
        "Photos\\2024",
        "C:\\Windows\\System32",
        "Photos/\x00",
        "a/" + "b" * 300,
    ],
)
def test_split_path_refuses_traversal_and_malformed_paths(path):
    with pytest.raises(BadPath, match="in the path"):
        split_path(path)


def test_overlong_paths_are_refused():
    with pytest.raises(BadPath, match="at most 4096 bytes"):
        split_path("/".join(["d" * 200] * 21))


def test_join_path_round_trips_and_cleans():
    assert join_path(()) == ""
    assert join_path(("Photos", "Cafe\u0301")) == "Photos/Caf\u00e9"
    assert split_path(join_path(("Photos", "2024", "Trip"))) == ("Photos", "2024", "Trip")
    with pytest.raises(BadPath):
        join_path(("Photos", ".."))


def test_split_file_path():
    assert split_file_path("Photos/2024/a.jpg") == (("Photos", "2024"), "a.jpg")
    assert split_file_path("a.jpg") == ((), "a.jpg")
    for not_a_file in ("", "/", "Photos/"):
        with pytest.raises(BadPath, match="not a file path"):
            split_file_path(not_a_file)


def test_is_within():
    assert is_within(("Photos", "2024"), ("Photos",))
    assert is_within(("Photos",), ("Photos",))
    assert is_within(("Photos",), ())
    assert not is_within(("Photos2",), ("Photos",))
    assert not is_within(("Photos",), ("Photos", "2024"))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("C:", "':'"),
        ("file.txt:hidden", "':'"),
        ("what?", "'\\?'"),
        ('say "hi"', "'\"'"),
        ("a|b", "'\\|'"),
        ("CON", "reserved"),
        ("con.txt", "reserved"),
        ("Com1.tar.gz", "reserved"),
        ("LPT\u00b9", "reserved"),
        ("NUL .txt", "reserved"),
        ("trailing.", "ending in a dot"),
        ("trailing ", "ending in a dot or a space"),
    ],
)
def test_windows_problems(name, reason):
    problem = windows_problem(name)
    assert problem is not None
    assert re.search(reason, problem)


@pytest.mark.parametrize("name", ["CONSOLE", "com10", "report.con", "a.b", "NULL"])
def test_names_that_merely_resemble_windows_devices_are_fine(name):
    assert windows_problem(name) is None


def test_to_local_path_maps_under_the_root(tmp_path: Path):
    assert to_local_path(tmp_path, ("Photos", "2024", "a.jpg")) == (
        tmp_path / "Photos" / "2024" / "a.jpg"
    )
    assert to_local_path(tmp_path, ()) == tmp_path


@pytest.mark.parametrize(
    "parts",
    [("..",), ("Photos", "..", ".."), ("/etc",), ("..\\x",), ("a", ""), ("\x00",)],
)
def test_to_local_path_refuses_names_that_escape(tmp_path: Path, parts):
    with pytest.raises(BadPath):
        to_local_path(tmp_path, parts)


def test_to_local_path_applies_windows_rules_when_asked(tmp_path: Path):
    assert to_local_path(tmp_path, ("C:", "Windows"), windows=False) == tmp_path / "C:" / "Windows"
    with pytest.raises(BadPath, match="':'"):
        to_local_path(tmp_path, ("C:", "Windows"), windows=True)
    with pytest.raises(BadPath, match="reserved"):
        to_local_path(tmp_path, ("docs", "aux.txt"), windows=True)


def test_to_local_path_does_not_follow_symlinks(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "Photos").symlink_to(outside)
    with pytest.raises(BadPath, match="symbolic link"):
        to_local_path(root, ("Photos", "a.jpg"))
    (root / "file").symlink_to(outside / "victim")
    with pytest.raises(BadPath, match="symbolic link"):
        to_local_path(root, ("file",))


def test_to_local_path_needs_an_absolute_root():
    with pytest.raises(ValueError, match="absolute"):
        to_local_path(Path("relative"), ("a",))


def test_to_local_path_results_stay_inside_the_root(tmp_path: Path):
    for parts in [("a",), ("a", "b", "c"), ("...",), ("~",)]:
        result = to_local_path(tmp_path, parts)
        assert os.path.commonpath([tmp_path, result]) == str(tmp_path)
