"""The text for a guild the bot is not in: the guilds it is in, by name and id."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bridge.discord.membership import not_in_guild_text


def guild(name: str, guild_id: int) -> Any:
    return SimpleNamespace(name=name, id=guild_id)


def test_the_guilds_the_bot_is_in_are_named_with_their_ids() -> None:
    text = not_in_guild_text(42, [guild("Zeta", 2), guild("Alpha", 1)])
    assert text == "the bot is not in guild 42; it is in: Alpha (1), Zeta (2)"


def test_a_bot_in_no_guild_is_told_to_invite_it() -> None:
    text = not_in_guild_text(42, [])
    assert text.startswith("the bot is not in guild 42; it is in no guild yet: invite the bot")
