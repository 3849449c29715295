"""Webhook usernames: Discord's rules, checked with the emulator's own validator."""

from __future__ import annotations

import pytest

from bridge.convert.m2d.names import webhook_username
from bridge.sandbox.discord.rest.webhooks import check_name

CYR_O, CYR_Y, CYR_E = "\u043e", "\u0443", "\u0435"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Alice", "Alice", id="plain"),
        pytest.param("  Alice  Smith ", "Alice Smith", id="trimmed-and-collapsed"),
        pytest.param("Clyde", f"Cl{CYR_Y}de", id="clyde"),
        pytest.param("xXCLYDEXx", "xXCL\u0423DEXx", id="clyde-upper"),
        pytest.param("Discord fan", f"Disc{CYR_O}rd fan", id="discord"),
        pytest.param("DISCORD", "DISC\u041eRD", id="discord-upper"),
        pytest.param("discordclyde", f"disc{CYR_O}rdcl{CYR_Y}de", id="both"),
        pytest.param("here", f"her{CYR_E}", id="here"),
        pytest.param("Everyone", f"Everyon{CYR_E}", id="everyone"),
        pytest.param("a\x00b\x1fc\x7fd\ne\tf", "abcd e f", id="control-characters"),
        pytest.param("🏳️‍🌈 Zoë", "🏳️‍🌈 Zoë", id="emoji-joiners-kept"),
        pytest.param("", "alice", id="empty"),
        pytest.param(" \n\t ", "alice", id="whitespace"),
        pytest.param("\u200b\u200b", "alice", id="invisible"),
    ],
)
def test_webhook_username(name: str, expected: str) -> None:
    result = webhook_username(name, "alice")
    assert result == expected
    assert check_name(result) == result


def test_long_names_are_cut_to_80() -> None:
    result = webhook_username("n" * 100, "alice")
    assert result == "n" * 80
    assert check_name(result) == result


def test_cut_never_ends_in_a_space() -> None:
    result = webhook_username("a" * 79 + " b" * 10, "alice")
    assert result == "a" * 79
    assert check_name(result) == result


def test_fallback_is_cleaned_too() -> None:
    assert webhook_username("", "discord") == f"disc{CYR_O}rd"
    assert webhook_username("", "") == "Matrix user"
