"""The SMS Backup & Restore XML reader, on files each test builds: every real-world quirk."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from strongroom.formats.base import BadInput, ReadOptions
from strongroom.formats.sbr_xml import SbrXmlReader
from strongroom.formats.sbr_xml_writer import sms_attributes
from strongroom.messages.records import FileContent, InlineContent
from tests.formats.builders import (
    PNG,
    call,
    calls,
    mms,
    part,
    read_all,
    sms,
    smses,
    write,
)

READER = SbrXmlReader()
PNG64 = base64.b64encode(PNG).decode()
BIG = bytes(range(256)) * 1200  # 300 KiB: over the in-memory limit, so it is spooled
BIG64 = base64.b64encode(BIG).decode()


def read(tmp_path: Path, text: str, encoding: str = "utf-8", **options: object):
    return read_all(READER, write(tmp_path / "sms.xml", text, encoding), **options)


# --- characters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["&#55357;&#56832;", "&#xD83D;&#xDE00;", "&#xd83d;&#xde00;", "&#128512;"]
)
def test_emoji_written_as_surrogate_pair_references_becomes_one_character(tmp_path, body):
    result = read(tmp_path, smses(sms(body=f"hi {body}!")))
    assert result.messages[0].body == "hi \U0001f600!"
    assert not result.problems


def test_lone_surrogate_reference_becomes_replacement_character(tmp_path):
    result = read(tmp_path, smses(sms(body="a&#55357;b"), sms(body="c&#56832;d")))
    assert [m.body for m in result.messages] == ["a\ufffdb", "c\ufffdd"]


def test_forbidden_control_character_references_are_dropped(tmp_path):
    result = read(tmp_path, smses(sms(body="a&#x11;b&#0;c&#27;d&#10;e")))
    assert result.messages[0].body == "abcd\ne"


def test_raw_control_bytes_are_dropped(tmp_path):
    result = read(tmp_path, smses(sms(body="a\x01b\x1fc")))
    assert result.messages[0].body == "abc"


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    result = read(tmp_path, "\ufeff" + smses(sms(body="é")))
    assert result.messages[0].body == "é"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_from_converters_are_read(tmp_path, encoding):
    text = smses(sms(body="Zoë \U0001f600")).replace("UTF-8", "UTF-16")
    result = read(tmp_path, text, encoding=encoding)
    assert result.messages[0].body == "Zoë \U0001f600"
    assert not result.problems


def test_file_labelled_utf16_but_written_in_utf8_is_read(tmp_path):
    result = read(tmp_path, smses(sms(body="ü")).replace("UTF-8", "UTF-16"))
    assert result.messages[0].body == "ü"


def test_invalid_utf8_bytes_are_reported_at_their_line_keeping_what_came_before(tmp_path):
    path = tmp_path / "sms.xml"
    text = smses(sms(body="fine"), sms(body="XX"), sms(body="after"))
    path.write_bytes(text.encode().replace(b"XX", b"a\xffb"))
    result = read_all(READER, path)
    assert [m.body for m in result.messages] == ["fine"]
    assert result.problems[0].where == "sms.xml line 4"


def test_latin1_declared_encoding_is_honoured(tmp_path):
    text = smses(sms(body="café")).replace("UTF-8", "ISO-8859-1")
    result = read(tmp_path, text, encoding="latin-1")
    assert result.messages[0].body == "café"


def test_references_split_across_read_chunks_are_joined(tmp_path, monkeypatch):
    from strongroom.formats import xml_repair

    monkeypatch.setattr(xml_repair, "CHUNK", 7)
    result = read(tmp_path, smses(sms(body="x&#55357;&#56832;y&#x11;z&amp;")))
    assert result.messages[0].body == "x\U0001f600yz&"


# --- fields -----------------------------------------------------------------------------------


def test_sms_fields_map_faithfully(tmp_path):
    result = read(
        tmp_path,
        smses(
            sms(address="+15550100001", date="1700000000123", type="2", body="sent", read="0"),
            sms(subject="Re: hi", date_sent="1699999999000", service_center="+1555000"),
        ),
    )
    sent, received = result.messages
    assert (sent.kind, sent.direction, sent.status, sent.read) == ("sms", "out", "sent", False)
    assert sent.sender is None and sent.participants == ["+15550100001"]
    assert (sent.date_ms, sent.date_precision, sent.source) == (1700000000123, "ms", "sbr-xml")
    assert received.direction == "in" and received.sender == "+15550100001"
    assert received.subject == "Re: hi" and received.date_sent_ms == 1699999999000
    assert received.extra["service_center"] == "+1555000"


@pytest.mark.parametrize(
    ("code", "direction", "status"),
    [
        ("1", "in", "received"),
        ("2", "out", "sent"),
        ("3", "out", "draft"),
        ("4", "out", "outbox"),
        ("5", "out", "failed"),
        ("6", "out", "queued"),
    ],
)
def test_sms_type_and_mms_box_give_direction_and_status(tmp_path, code, direction, status):
    result = read(
        tmp_path,
        smses(sms(type=code), mms([part()], [("+15550100001", 137)], msg_box=code)),
    )
    assert [(m.direction, m.status) for m in result.messages] == [(direction, status)] * 2


def test_literal_null_in_optional_fields_means_absent(tmp_path):
    result = read(tmp_path, smses(sms(subject="null", date_sent="null", toa="null")))
    message = result.messages[0]
    assert message.subject is None and message.date_sent_ms is None
    assert "toa" not in message.extra  # the app's default: an export writes it anyway
    assert 'toa="null"' in sms_attributes(message)


def test_date_sent_zero_means_unknown(tmp_path):
    assert read(tmp_path, smses(sms(date_sent="0"))).messages[0].date_sent_ms is None


def test_mms_date_in_ms_and_date_sent_in_seconds(tmp_path):
    result = read(
        tmp_path,
        smses(mms([part()], [("+15550100001", 137)], date="1721161764000", date_sent="1721161755")),
    )
    message = result.messages[0]
    assert message.date_ms == 1721161764000 and message.date_precision == "ms"
    assert message.date_sent_ms == 1721161755000


def test_a_date_in_seconds_is_scaled_and_marked_as_second_precision(tmp_path):
    result = read(tmp_path, smses(mms([part()], [("+15550100001", 137)], date="1721161764")))
    assert (result.messages[0].date_ms, result.messages[0].date_precision) == (1721161764000, "s")


@pytest.mark.parametrize("separator", ["~", ","])
def test_address_lists_are_split(tmp_path, separator):
    address = separator.join(["+15550100001", "+15550100002", "+15550100003"])
    result = read(tmp_path, smses(mms([part()], [], address=address, msg_box="2")))
    assert result.messages[0].participants == ["+15550100001", "+15550100002", "+15550100003"]


def test_comma_inside_an_alphanumeric_sender_is_not_a_separator(tmp_path):
    result = read(tmp_path, smses(sms(address="ACME, Inc")))
    assert result.messages[0].participants == ["ACME, Inc"]


def test_unknown_attributes_are_kept_for_export(tmp_path):
    result = read(
        tmp_path,
        smses(sms(sim_slot="2", rcs_flag="x"), mms([part(sef_type="3")], [("+15550100001", 137)])),
    )
    assert result.messages[0].extra["sim_slot"] == "2"
    assert result.messages[0].extra["rcs_flag"] == "x"
    assert result.messages[1].parts[0].extra["sef_type"] == "3"


def test_calls_file_maps_every_call_type(tmp_path):
    codes = {"1": "incoming", "2": "outgoing", "3": "missed", "4": "voicemail"}
    codes |= {"5": "rejected", "6": "blocked"}
    text = calls(*(call(type=c, contact_name="Ann") for c in codes), call(contact_name="(Unknown)"))
    result = read_all(READER, write(tmp_path / "calls.xml", text))
    assert [c.type for c in result.calls] == [*codes.values(), "incoming"]
    first = result.calls[0]
    assert (first.number, first.duration_s, first.date_ms) == ("+15550100001", 61, 1700000200000)
    assert first.name == "Ann" and result.calls[-1].name is None
    assert not result.problems


def test_unknown_call_type_is_a_problem_not_a_crash(tmp_path):
    result = read_all(READER, write(tmp_path / "calls.xml", calls(call(type="99"), call())))
    assert len(result.calls) == 1
    assert "unknown type" in result.problem_text


# --- MMS addresses and the owner ----------------------------------------------------------


OWNER, ANN, BOB, CAT = "+15550100007", "+15550100001", "+15550100002", "+15550100003"


def test_addr_types_give_sender_and_participants_without_the_owner(tmp_path):
    received = mms([part()], [(ANN, 137), (OWNER, 151), (BOB, 130), (CAT, 129)], address=ANN)
    result = read(tmp_path, smses(received))
    message = result.messages[0]
    assert message.sender == ANN
    assert sorted(message.participants) == [ANN, BOB, CAT]


def test_sender_listed_twice_counts_once(tmp_path):
    result = read(
        tmp_path, smses(mms([part()], [(ANN, 130), (ANN, 137), (OWNER, 151)], address=ANN))
    )
    assert result.messages[0].participants == [ANN]


def test_owner_as_insert_address_token_on_sent_mms(tmp_path):
    sent = mms(
        [part()],
        [("insert-address-token", 137), (ANN, 151), (BOB, 151)],
        msg_box="2",
        address=f"{ANN}~{BOB}",
    )
    message = read(tmp_path, smses(sent)).messages[0]
    assert message.direction == "out" and message.sender is None
    assert message.participants == [ANN, BOB]


def test_owner_learned_from_one_message_keeps_a_group_together(tmp_path):
    """The first group MMS alone cannot tell the owner from the others; a later 1:1 MMS does."""
    group = [(ANN, 137), (OWNER, 151), (BOB, 151)]
    text = smses(
        mms([part(text="g1")], group, address="group_1@rcs.google.com"),
        mms([part(text="g2")], [(BOB, 137), (OWNER, 151), (ANN, 130)], address="x@rcs"),
        mms([part(text="1:1")], [(CAT, 137), (OWNER, 151)], address=CAT),
    )
    result = read(tmp_path, text)
    by_body = {m.body: m for m in result.messages}
    assert sorted(by_body["g1"].participants) == sorted(by_body["g2"].participants) == [ANN, BOB]
    assert by_body["g1"].sender == ANN and by_body["g2"].sender == BOB
    assert by_body["1:1"].participants == [CAT]
    assert not result.problems


def test_owner_numbers_given_in_another_notation_are_recognised(tmp_path):
    group = mms([part()], [(ANN, 137), ("+1 (555) 010-0007", 151), (BOB, 151)], address="g@rcs")
    result = read(tmp_path, smses(group), owner_numbers=("(555) 010-0007",))
    assert sorted(result.messages[0].participants) == [ANN, BOB]


def test_owner_found_as_the_address_every_waiting_mms_shares(tmp_path):
    text = smses(
        mms([part(text="a")], [(ANN, 137), (OWNER, 151), (BOB, 151)], address="g@rcs"),
        mms([part(text="b")], [(BOB, 137), (OWNER, 151), (CAT, 151)], address="h@rcs"),
    )
    result = read(tmp_path, text)
    assert sorted(result.messages[0].participants) == [ANN, BOB]
    assert sorted(result.messages[1].participants) == [BOB, CAT]


def test_undecidable_owner_keeps_everyone_and_says_so(tmp_path):
    text = smses(mms([part()], [(ANN, 137), (OWNER, 151), (BOB, 151)], address="g@rcs"))
    result = read(tmp_path, text)
    assert sorted(result.messages[0].participants) == [ANN, BOB, OWNER]
    assert "owner's own number" in result.problem_text


def test_rcs_group_address_is_kept_for_export_not_made_a_participant(tmp_path):
    text = smses(
        mms([part()], [(ANN, 137), (OWNER, 151)], address=ANN),
        mms([part()], [(BOB, 130), (ANN, 137), (OWNER, 151)], address="group_8@rcs.google.com"),
    )
    message = read(tmp_path, text).messages[1]
    assert sorted(message.participants) == [ANN, BOB]
    assert message.extra["address"] == "group_8@rcs.google.com"


# --- parts ------------------------------------------------------------------------------------


def test_mms_parts_keep_order_type_name_and_bytes_and_text_makes_the_body(tmp_path):
    parts = [
        part(seq="-1", ct="application/smil", name="null", cl="smil.xml", text="&lt;smil/&gt;"),
        part(ct="image/png", name="pic.png", text="null", data=PNG64),
        part(ct="text/plain", name="text_1.txt", text="look&#10;here"),
    ]
    message = read(tmp_path, smses(mms(parts, [(ANN, 137)]))).messages[0]
    assert [(p.content_type, p.filename) for p in message.parts] == [
        ("application/smil", "smil.xml"),
        ("image/png", "pic.png"),
        ("text/plain", "text_1.txt"),
    ]
    assert message.parts[1].content.read() == PNG
    assert message.parts[0].content.read() == b"<smil/>"
    assert message.body == "look\nhere"


def test_attachments_are_spooled_into_the_scratch_folder(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    big = bytes(range(256)) * 40000  # 10 MB, several decoding slices
    encoded = base64.b64encode(big).decode()
    text = smses(mms([part(ct="video/mp4", data=encoded)], [(ANN, 137)]))
    records = list(READER.read(write(tmp_path / "sms.xml", text), ReadOptions(scratch=scratch)))
    content = records[0].parts[0].content
    assert isinstance(content, FileContent) and content.path.parent == scratch
    assert content.read() == big
    content.discard()
    assert not any(scratch.iterdir())


def test_small_attachments_stay_in_memory_and_large_ones_are_spooled(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    text = smses(
        mms([part(ct="image/png", data=PNG64), part(ct="image/jpeg", data=BIG64)], [(ANN, 137)])
    )
    records = list(READER.read(write(tmp_path / "sms.xml", text), ReadOptions(scratch=scratch)))
    small, large = (p.content for p in records[0].parts)
    assert isinstance(small, InlineContent) and small.read() == PNG
    assert isinstance(large, FileContent) and large.read() == BIG
    assert list(scratch.iterdir()) == [large.path]
    large.discard()


def test_base64_with_line_breaks_is_decoded(tmp_path):
    wrapped = "&#10;".join(PNG64[i : i + 20] for i in range(0, len(PNG64), 20))
    message = read(tmp_path, smses(mms([part(ct="image/png", data=wrapped)], [(ANN, 137)])))
    assert message.messages[0].parts[0].content.read() == PNG


def test_invalid_base64_is_a_problem_and_the_message_keeps_its_text(tmp_path):
    parts = [part(ct="image/png", name="x.png", data="not-valid-base64!!"), part(text="caption")]
    result = read(tmp_path, smses(mms(parts, [(ANN, 137)])))
    message = result.messages[0]
    assert message.body == "caption" and [p.content_type for p in message.parts] == ["text/plain"]
    assert "x.png" in result.problem_text and "not valid base64" in result.problem_text
    assert "sms.xml line 3" in result.problem_text


def test_missing_content_type_is_a_problem_and_guessed_from_the_name(tmp_path):
    result = read(tmp_path, smses(mms([part(ct="null", name="p.png", data=PNG64)], [(ANN, 137)])))
    assert result.messages[0].parts[0].content_type == "image/png"
    assert "no usable content type" in result.problem_text


def test_a_text_part_that_is_not_utf8_is_a_problem_and_kept_as_it_came(tmp_path):
    """Found by the fuzzer: a part without its content type, named .txt, whose data is a
    picture, was read as the message's text and stopped the whole file."""
    parts = [part(ct="null", name="note.txt", data=PNG64), part(text="caption")]
    result = read(tmp_path, smses(mms(parts, [(ANN, 137)]), sms(body="after")))
    message = result.messages[0]
    assert message.body.startswith("\ufffd") and message.body.endswith("\ncaption")
    assert message.parts[0].content_type == "text/plain"
    assert message.parts[0].content.read() == PNG
    assert "note.txt) is not UTF-8 text" in result.problem_text
    assert [m.body for m in result.messages] == [message.body, "after"]


def test_part_without_data_or_text_is_a_problem(tmp_path):
    result = read(tmp_path, smses(mms([part(ct="image/jpeg", text="null")], [(ANN, 137)])))
    assert result.messages[0].parts == []
    assert "neither data nor text" in result.problem_text


# --- counts, repeats, truncation ------------------------------------------------------------


def test_count_that_disagrees_with_the_records_is_a_problem(tmp_path):
    result = read(tmp_path, smses(sms(), sms(body="2"), count=5))
    assert len(result.messages) == 2
    assert "says it holds 5 records but 2 were found" in result.problem_text


def test_byte_identical_records_are_read_once_and_noted(tmp_path):
    result = read(tmp_path, smses(sms(), sms(body="other"), sms(), sms(date="1700000000124")))
    assert [m.body for m in result.messages] == ["hello", "other", "hello"]
    assert [m.date_ms for m in result.messages] == [1700000000123, 1700000000123, 1700000000124]
    assert "repeats the one at line 3" in result.problem_text
    assert result.problems[0].where == "sms.xml line 5"
    assert "holds" not in result.problem_text  # the repeat still counts as a record found


def test_identical_mms_are_read_once_and_their_spooled_parts_freed(tmp_path):
    one = mms([part(ct="image/png", data=BIG64)], [(ANN, 137)])
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = read(tmp_path, smses(one, one), scratch=scratch)
    assert len(result.messages) == 1 and "repeats" in result.problem_text
    assert len(result.spooled) == 1
    assert list(scratch.iterdir()) == []  # the repeat's spooled picture was removed too


def test_truncated_file_keeps_complete_records_and_names_the_line(tmp_path):
    text = smses(sms(body="1"), sms(body="2"), mms([part()], [(ANN, 137)]), sms(body="4"))
    cut = text.index('body="4"')
    result = read(tmp_path, text[:cut])
    assert [m.body for m in result.messages] == ["1", "2", "hi"]
    assert "ends early or is damaged" in result.problem_text
    assert result.problems[0].where == "sms.xml line 13"
    assert "holds 4 records but 3 were found" in result.problem_text


def test_empty_smses_gives_nothing_and_no_problem(tmp_path):
    result = read(tmp_path, smses())
    assert result.messages == [] and result.problems == []


# --- refused --------------------------------------------------------------------------------


def test_a_root_other_than_smses_or_calls_is_refused(tmp_path):
    with pytest.raises(BadInput, match=r"sms.xml: line 1: the root element is <html>"):
        read(tmp_path, "<html><body/></html>")


def test_not_xml_at_all_is_refused(tmp_path):
    with pytest.raises(BadInput, match="sms.xml: line 1"):
        read(tmp_path, "just some text\n")


def test_bad_xml_after_a_record_is_a_problem_naming_the_line(tmp_path):
    result = read(tmp_path, "<smses count='2'>\n" + sms() + "<sms <<< /></smses>")
    assert len(result.messages) == 1
    assert result.problems[0].where == "sms.xml line 3"


def test_bad_xml_before_any_record_is_refused_naming_the_line(tmp_path):
    with pytest.raises(BadInput, match="sms.xml: line 2: not readable XML"):
        read(tmp_path, "<smses count='1'>\n<sms <<< /></smses>")


def test_bad_xml_before_the_root_is_refused(tmp_path):
    with pytest.raises(BadInput, match="sms.xml: line 2: not readable XML"):
        read(tmp_path, "<?xml version='1.0'?>\n<smses count='1' <<<>")


def test_sniff_recognises_utf16_files(tmp_path):
    path = write(tmp_path / "x.xml", smses(sms()), "utf-16")
    assert READER.sniff(path)
    assert not READER.sniff(write(tmp_path / "y.xml", "<html/>"))
    assert not READER.sniff(tmp_path)


def test_decoding_declared_in_an_unknown_encoding_is_refused(tmp_path):
    with pytest.raises(BadInput, match="unknown encoding"):
        read(tmp_path, smses(sms()).replace("UTF-8", "x-klingon"))


def test_a_cut_inside_an_mms_leaves_no_spooled_files_behind(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    text = smses(mms([part(ct="image/png", data=BIG64), part(text="x")], [(ANN, 137)]))
    cut = text.index('<part seq="0" ct="text/plain"')
    result = read(tmp_path, text[:cut], scratch=scratch)
    assert result.messages == [] and result.problems
    assert list(scratch.iterdir()) == []


def test_closing_the_reader_early_deletes_waiting_attachments(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    waiting = mms([part(ct="image/png", data=BIG64)], [(ANN, 137), (OWNER, 151), (BOB, 151)])
    path = write(
        tmp_path / "w.xml", smses(waiting.replace(f'address="{ANN}"', 'address="g@x"'), sms())
    )
    records = READER.read(path, ReadOptions(scratch=scratch))
    assert next(records).kind == "sms"  # the MMS waits for its owner to be known
    records.close()
    assert list(scratch.iterdir()) == []
