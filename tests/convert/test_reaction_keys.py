"""Reaction keys in Discord's form (convert.reaction_keys), checked against Unicode's list."""

from __future__ import annotations

import emoji
import pytest
from mautrix.util import variation_selector

from bridge.convert.reaction_keys import discord_form, matrix_key, same_reaction

VS = "\ufe0f"

CASES = [
    # (what a Matrix client may send, Discord's form)
    ("👍\ufe0f", "👍"),  # Element's quick reaction
    ("👍", "👍"),
    ("🎃\ufe0f", "🎃"),
    ("🙂\ufe0f", "🙂"),
    ("❤", "❤\ufe0f"),  # text presentation by default: Discord's form keeps the selector
    ("❤\ufe0f", "❤\ufe0f"),
    ("❤\ufe0f\ufe0f", "❤\ufe0f"),
    ("1\u20e3", "1\ufe0f\u20e3"),  # keycaps
    ("1\ufe0f\u20e3", "1\ufe0f\u20e3"),
    ("#\u20e3", "#\ufe0f\u20e3"),
    ("👍🏽", "👍🏽"),  # skin tones: no selector before the modifier
    ("👍\ufe0f🏽", "👍🏽"),
    ("☝🏽", "☝🏽"),
    ("☝\ufe0f🏽", "☝🏽"),
    ("☝", "☝\ufe0f"),
    ("🏳\u200d🌈", "🏳\ufe0f\u200d🌈"),  # ZWJ sequences: each text-default part
    ("🏳\ufe0f\u200d🌈\ufe0f", "🏳\ufe0f\u200d🌈"),
    ("🧑\u200d⚕", "🧑\u200d⚕\ufe0f"),
    ("👁\u200d🗨", "👁\ufe0f\u200d🗨\ufe0f"),
    ("🐈\ufe0f\u200d⬛\ufe0f", "🐈\u200d⬛"),
    ("👨\u200d💻\ufe0f", "👨\u200d💻"),
    ("❤\u200d🔥", "❤\ufe0f\u200d🔥"),
    ("🇫🇷", "🇫🇷"),  # flags
    ("lol", "lol"),  # plain text is left alone
    ("+1", "+1"),
    ("12", "12"),  # digits without a keycap are text
    ("blob:123456789", "blob:123456789"),  # a custom emoji
    ("mxc://example.org/abc123", "mxc://example.org/abc123"),
    ("", ""),
]


@pytest.mark.parametrize(("key", "expected"), CASES)
def test_discord_form(key: str, expected: str) -> None:
    assert discord_form(key) == expected
    assert discord_form(expected) == expected


def test_every_fully_qualified_emoji_in_any_spelling() -> None:
    """Unicode's fully-qualified list (emoji-test.txt, as the ``emoji`` package ships it) is
    Discord's spelling: the bare, the selector-everywhere and the listed form all map to it."""
    qualified = [
        key
        for key, data in emoji.EMOJI_DATA.items()
        if data["status"] == emoji.STATUS["fully_qualified"]
    ]
    assert len(qualified) > 3000
    wrong = {
        variant: key
        for key in qualified
        for variant in (key, variation_selector.remove(key), variation_selector.add(key))
        if discord_form(variant) != key
    }
    assert wrong == {}


def test_same_reaction() -> None:
    assert same_reaction("👍\ufe0f", "👍")
    assert same_reaction("❤", "❤\ufe0f")
    assert not same_reaction("👍", "👎")
    assert not same_reaction("👍", "👍🏽")


def test_matrix_key_joins_the_key_in_use() -> None:
    assert matrix_key("👍", ["🎉", "👍\ufe0f"]) == "👍\ufe0f"
    assert matrix_key("❤\ufe0f", ["❤"]) == "❤"
    assert matrix_key("👍", ["🎉", "blob:1"]) == "👍"
    assert matrix_key("👍", []) == "👍"
    assert matrix_key("👍", ["👍\ufe0f", "👍"]) == "👍"  # Discord's spelling is in use too
