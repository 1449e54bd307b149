from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.formats.typedstream import BadTypedStream, attributed_body_text
from tests.conftest import SAMPLES, missing
from tests.formats.apple_fixtures import attributed_body

SAMPLE_DIR = SAMPLES / "ios-attributed-body"
EXPECTED = {
    "AttributedBodyTextOnly": "Noter test",
    "AttributedBodyTextOnly2": "Test 3",
    "Blank": "",
    "WeirdText": "𝖍𝖊𝖑𝖑𝖔 𝖜𝖔𝖗𝖑𝖉",
    "URL": "https://github.com/ReagentX/Logria",
    "MultiPart": "\ufffctest 1\ufffctest 2 \ufffctest 3",
}


def sample(name: str) -> bytes:
    path = SAMPLE_DIR / name
    if not path.is_file():
        missing(f"sample {path} is absent")
    return path.read_bytes()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_blobs_give_their_text(name: str) -> None:
    assert attributed_body_text(sample(name)) == EXPECTED[name]


def test_every_real_blob_in_the_samples_folder_is_covered() -> None:
    if not SAMPLE_DIR.is_dir():
        missing(f"samples folder {SAMPLE_DIR} is absent")
    assert {p.name for p in SAMPLE_DIR.iterdir()} == set(EXPECTED) | {"ExtraData"}


def test_length_claiming_more_than_the_blob_holds_stops_at_the_string_end() -> None:
    blob = sample("ExtraData")
    declared = blob.index(b"+\x81\x9d\x00")  # the sample's 157-byte claim
    assert len(blob) - declared - 4 < 157
    text = attributed_body_text(blob)
    assert text is not None
    assert text.startswith("This is parsing")
    assert "NSDictionary" not in text and "\ufffd" not in text


@pytest.mark.parametrize("size", [127, 128, 255, 256, 300, 65535, 65536, 70_000])
def test_long_bodies_keep_every_byte(size: int) -> None:
    text = ("0123456789abcdef" * (size // 16 + 1))[:size]
    blob = attributed_body(text)
    assert attributed_body_text(blob) == text


def test_length_prefix_forms_are_as_documented() -> None:
    assert b"+\x81\x2c\x01" in attributed_body("x" * 300)  # 0x81 + uint16 LE
    assert b"+\x82\x70\x11\x01\x00" in attributed_body("x" * 70_000)  # 0x82 + uint32 LE


def test_end_of_object_bytes_inside_the_text_do_not_end_it() -> None:
    # U+1F184 is F0 9F 86 84 in UTF-8: the typedstream end marker 86 84 inside a character.
    text = "before \U0001f184 after " * 20
    assert b"\x86\x84" in text.encode()
    assert attributed_body_text(attributed_body(text)) == text


def test_blob_without_a_string_gives_none() -> None:
    assert attributed_body_text(b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x86") is None
    assert attributed_body_text(b"") is None


@pytest.mark.parametrize(
    ("tail", "where"),
    [(b"", "missing"), (b"\x81\x10", "cut off"), (b"\x82\x01\x02", "cut off"), (b"\x90", "0x90")],
)
def test_unreadable_length_is_a_clear_error(tail: bytes, where: str) -> None:
    blob = b"\x04\x0bstreamtyped\x84\x84\x08NSString\x01\x94\x84\x01+" + tail
    with pytest.raises(BadTypedStream, match=where) as info:
        attributed_body_text(blob)
    assert "attributedBody byte" in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_round_trips(text: str) -> None:
    assert attributed_body_text(attributed_body(text)) == text


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0, max_value=400))
def test_random_and_cut_blobs_give_text_none_or_bad_input(noise: bytes, cut: int) -> None:
    real = attributed_body("hello \U0001f184 world")
    for blob in (noise, real[:cut], real[:cut] + noise, b"NSString\x84\x01+" + noise):
        try:
            result = attributed_body_text(blob)
        except BadTypedStream:
            continue
        assert result is None or isinstance(result, str)
        assert result is None or len(result.encode("utf-8", "surrogatepass")) <= 4 * len(blob)
