"""Export formats by name, written to a stream or to a path (files, folders, sibling files)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from strongroom.formats import WRITERS
from strongroom.formats.exports import (
    FORMATS,
    OutputNotWritable,
    UnknownFormat,
    calls_path,
    export_format,
    write_path,
    write_stream,
)
from strongroom.formats.sbr_xml import SbrXmlReader
from strongroom.messages.records import CallRecord, MessageRecord
from tests.formats.builders import read_all
from tests.formats.export_builders import T0, account


class ListSource:
    """Records held in a list, as an export source."""

    def __init__(self, records, owner_number=None) -> None:
        self.records = records
        self.owner_number = owner_number

    def __iter__(self):
        return iter(self.records)

    def messages(self):
        return (r for r in self.records if isinstance(r, MessageRecord))

    def calls(self):
        return (r for r in self.records if isinstance(r, CallRecord))

    def message_count(self) -> int:
        return sum(1 for _ in self.messages())


def test_every_export_format_is_a_registered_writer():
    assert set(FORMATS) <= set(WRITERS)
    assert {"sbr-xml", "sbp-mbox", "html", "txt", "csv", "json", "archive"} == set(FORMATS)
    assert export_format(" HTML ").name == "html"
    with pytest.raises(UnknownFormat, match="no export format 'pdf'; use one of sbr-xml"):
        export_format("pdf")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_writes_to_a_stream_and_counts(name):
    out = io.BytesIO()
    report = write_stream(name, ListSource(account()), out)
    assert out.getvalue() and report.messages == 5
    if FORMATS[name].media_type == "application/zip":
        assert zipfile.ZipFile(out).testzip() is None


def test_sbr_xml_on_disk_puts_the_calls_beside_the_messages(tmp_path):
    path = tmp_path / "sms-20240131.xml"
    report = write_path("sbr-xml", ListSource(account()), path)
    calls = tmp_path / "calls-20240131.xml"
    assert report.paths == [path, calls] and (report.messages, report.calls) == (5, 2)
    assert len(read_all(SbrXmlReader(), path).messages) == 5
    assert [c.number for c in read_all(SbrXmlReader(), calls).calls] == [
        "+15550100001",
        "+15550100002",
    ]
    none = tmp_path / "messages-only.xml"
    assert write_path("sbr-xml", ListSource(account()[:2]), none).paths == [none]
    assert not calls_path(none).exists()


def test_calls_files_are_named_like_the_apps():
    assert calls_path(Path("sms-1.xml")).name == "calls-1.xml"
    assert calls_path(Path("/x/SMS_backup.xml")).name == "calls_backup.xml"
    assert calls_path(Path("mine.xml")).name == "calls-mine.xml"


def test_html_on_disk_is_a_folder_that_must_be_new_or_empty(tmp_path):
    target = tmp_path / "pages"
    write_path("html", ListSource(account()), target)
    assert (target / "index.html").is_file()
    with pytest.raises(OutputNotWritable, match="not an empty folder"):
        write_path("html", ListSource(account()), target)
    (tmp_path / "empty").mkdir()
    write_path("html", ListSource(account()), tmp_path / "empty")
    assert (tmp_path / "empty" / "style.css").is_file()


def test_a_file_appears_whole_or_not_at_all(tmp_path):
    class Broken(ListSource):
        def __iter__(self):
            yield from self.records[:2]
            raise RuntimeError("the vault went away")

    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        write_path("json", Broken(account()), target)
    assert list(tmp_path.iterdir()) == []
    write_path("json", ListSource(account()), target)
    assert len(json.loads(target.read_bytes())["messages"]) == 5


def test_an_unwritable_destination_is_one_clear_error(tmp_path):
    with pytest.raises(OutputNotWritable, match="cannot write .*missing"):
        write_path("csv", ListSource(account()), tmp_path / "missing" / "out.csv")


def test_download_names():
    assert FORMATS["sbr-xml"].download_name("alice", T0) == "sms-20231114221320.xml"
    assert FORMATS["html"].download_name("alice", T0) == "strongroom-alice-html-2023-11-14.zip"
    assert FORMATS["txt"].download_name("../bob", T0) == "strongroom-bob-txt-2023-11-14.txt"
