"""Bulk seeding of members (``store.seed_members``), as the scale bench uses it."""

from __future__ import annotations

import discord
import pytest

from bridge.sandbox.discord import errors
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild


async def test_seeded_members_are_listed_with_their_roles_and_emit_nothing(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    store = emulator.store
    role = store.create_role(guild.id, "seeded", emit=False)
    emitted: list[str] = []
    unsubscribe = store.events.subscribe(lambda event: emitted.append(event.name))
    try:
        ids = store.seed_members(guild.id, [("seed-a", [role.id]), ("seed-b", [])])
    finally:
        unsubscribe()
    assert emitted == []  # no GUILD_MEMBER_ADD, no join message
    assert [store.users[i].username for i in ids] == ["seed-a", "seed-b"]
    fetched = await client.fetch_guild(guild.id)
    first = await fetched.fetch_member(ids[0])
    assert [r.id for r in first.roles if r.id != guild.id] == [role.id]
    listed = {m.id async for m in fetched.fetch_members(limit=None)}
    assert set(ids) <= listed


def test_seeding_refuses_an_unknown_role(emulator: DiscordEmulator, guild: Guild) -> None:
    with pytest.raises(errors.DiscordError):
        emulator.store.seed_members(guild.id, [("seed-c", [12345])])
