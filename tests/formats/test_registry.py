"""The format registry: names, and --format auto."""

from __future__ import annotations

import pytest

import strongroom.formats as formats
from strongroom.formats import READERS, WRITERS, BadInput, detect
from tests.formats.builders import sms, smses, write
from tests.formats.mail_builders import sms_mail, write_mbox


def test_names_from_the_command_line_are_registered():
    assert {"sbr-xml", "mbox", "sbp-mbox", "eml"} <= set(READERS)
    assert {"sbr-xml", "sbr-calls-xml", "sbp-mbox", "mbox"} <= set(WRITERS)
    assert READERS["sbp-mbox"] is READERS["mbox"]
    assert all(hasattr(formats, name) for name in formats.__all__)


def test_detect_picks_the_reader_from_names_and_first_bytes(tmp_path):
    assert detect(write(tmp_path / "sms-1.xml", smses(sms()))).name == "sbr-xml"
    assert detect(write(tmp_path / "backup.dat", smses(sms()), "utf-16")).name == "sbr-xml"
    assert detect(write_mbox(tmp_path / "SMS.mbox", sms_mail())).name == "mbox"
    folder = tmp_path / "label"
    folder.mkdir()
    (folder / "1.eml").write_text(sms_mail())
    assert detect(folder).name == "eml"


def test_detect_refuses_what_it_does_not_know(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not a backup")
    with pytest.raises(BadInput, match="photo.jpg: not a format"):
        detect(path)
