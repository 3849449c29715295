"""Unicode reactions: the emulator, like Discord, accepts each emoji in Discord's spelling only."""

from __future__ import annotations

import discord
import pytest

from bridge.sandbox.discord.errors import DiscordError
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild

# Spellings Discord refuses: a U+FE0F where Unicode's fully-qualified form has none (the first
# three are the field reports), and fully-qualified emoji written without their U+FE0F.
REFUSED = [
    "👍\ufe0f",
    "🎃\ufe0f",
    "🙂\ufe0f",
    "☝\ufe0f🏽",  # no selector before a skin tone
    "👨\ufe0f\u200d💻",  # nor on an emoji-presentation part of a ZWJ sequence
    "1\u20e3",  # keycap without its selector
    "❤",  # text-presentation heart
]
ACCEPTED = ["👍", "❤\ufe0f", "1\ufe0f\u20e3", "👍🏽", "🏳\ufe0f\u200d🌈", "🧑\u200d⚕\ufe0f", "🎉"]


async def _message(client: discord.Client, guild: Guild, emulator: DiscordEmulator):  # noqa: ANN202
    channel = await client.fetch_channel(guild.system_channel_id)
    assert isinstance(channel, discord.TextChannel)
    target = emulator.store.create_message(channel.id, guild.owner_id, "react to me")
    return await channel.fetch_message(target.id)


@pytest.mark.parametrize("emoji", REFUSED)
async def test_a_non_canonical_spelling_is_unknown_emoji(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild, emoji: str
) -> None:
    msg = await _message(client, guild, emulator)
    with pytest.raises(discord.HTTPException) as raised:
        await msg.add_reaction(emoji)
    assert (raised.value.status, raised.value.code, raised.value.text) == (
        400,
        10014,
        "Unknown Emoji",
    )
    assert emulator.store.messages[msg.id].reactions == []


async def test_a_discord_user_cannot_react_with_one_either(
    emulator: DiscordEmulator, guild: Guild
) -> None:
    store = emulator.store
    target = store.create_message(guild.system_channel_id, guild.owner_id, "react to me")
    with pytest.raises(DiscordError) as raised:
        store.add_reaction(guild.system_channel_id, target.id, guild.owner_id, "👍\ufe0f")
    assert raised.value.body() == {"message": "Unknown Emoji", "code": 10014}


async def test_discords_spellings_are_accepted(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    msg = await _message(client, guild, emulator)
    for emoji in ACCEPTED:
        await msg.add_reaction(emoji)
    names = [r.name for r in emulator.store.messages[msg.id].reactions]
    assert names == ACCEPTED
    assert client.user is not None
    await msg.remove_reaction("❤\ufe0f", discord.Object(client.user.id))
    assert "❤\ufe0f" not in [r.name for r in emulator.store.messages[msg.id].reactions]
