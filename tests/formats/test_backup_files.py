from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.formats.backup_files import BackupFiles, UnsafeBackupName, file_id


def test_file_id_is_sha1_of_domain_dash_path() -> None:
    # As the sms.db of every iPhone backup is named.
    assert file_id("HomeDomain", "Library/SMS/sms.db") == "3d0d7e5fb2ce288813306e4d4636395e047a3d28"


@pytest.mark.parametrize("fid", ["../../etc/passwd", "/etc/passwd", "3D0D" + "0" * 36, "ab"])
def test_file_ids_that_are_not_40_hex_digits_are_refused(tmp_path: Path, fid: str) -> None:
    with pytest.raises(UnsafeBackupName, match="refused"):
        BackupFiles(tmp_path).stored(fid)


def test_a_stored_file_symlinked_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "backup"
    fid = "ab" + "0" * 38
    (folder / "ab").mkdir(parents=True)
    (tmp_path / "outside").write_bytes(b"x")
    (folder / "ab" / fid).symlink_to(tmp_path / "outside")
    with pytest.raises(UnsafeBackupName, match="leaves the backup folder"):
        BackupFiles(folder).stored(fid)


def test_a_manifest_plist_claiming_absurd_sizes_is_bad_input(tmp_path: Path) -> None:
    import struct

    import pytest

    from strongroom.formats.backup_files import load_manifest_plist
    from strongroom.formats.base import BadInput

    # A binary plist whose one object is an array claiming 2**40 elements, with a trailer
    # pointing at it: plistlib would try to allocate that many references.
    body = b"bplist00" + b"\xaf\x13" + struct.pack(">Q", 2**40)
    offsets = struct.pack(">B", 8)
    trailer = struct.pack(">6xBBQQQ", 1, 1, 1, 0, len(body))
    (tmp_path / "Manifest.plist").write_bytes(body + offsets + trailer)
    with pytest.raises(BadInput, match="Manifest.plist"):
        load_manifest_plist(tmp_path)
    (tmp_path / "Manifest.plist").write_bytes(b"x" * (16 * 1024 * 1024 + 1))
    with pytest.raises(BadInput, match="too large"):
        load_manifest_plist(tmp_path)
