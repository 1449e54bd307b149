"""Conversations in exports are their participants, whatever order a source lists them in."""

from __future__ import annotations

import re

from strongroom.formats.conversations import conversation_key, conversation_name, is_group
from tests.formats.export_builders import ALICE, BOB, T0, group_mms, sms


def test_the_key_depends_on_the_participants_only():
    group = group_mms("x", T0, BOB, [])
    reordered = group_mms("y", T0 + 5, None, [], participants=[BOB, ALICE, BOB], group_title=None)
    assert conversation_key(group) == conversation_key(reordered)
    assert conversation_key(group) != conversation_key(sms("x", T0))
    assert re.fullmatch(r"c[0-9a-f]{12}", conversation_key(group))


def test_names_and_groups():
    assert conversation_name(group_mms("x", T0, BOB, [])) == "Hikers"
    untitled = group_mms("x", T0, BOB, [], group_title=None)
    assert conversation_name(untitled) == f"{ALICE}, {BOB}" and is_group(untitled)
    assert conversation_name(sms("x", T0)) == ALICE and not is_group(sms("x", T0))
