"""The image pack every room of a guild carries: the bridge keeps one copy of equal room
state in memory (``RoomStateCache``), and each room still follows every change."""

from __future__ import annotations

import pytest

from bridge.app import Bridge
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, eventually
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow


async def test_an_emoji_change_reaches_the_pack_of_every_room(
    running_bridge: Bridge,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> None:
    assert running_bridge.guilds is not None
    store = sandbox_guild.emulator.store
    party = store.create_emoji(community.guild_id, "party", solid_png(255, 0, 255))
    await running_bridge.guilds.bridge_guild(community.guild_id)
    rooms = await running_bridge.guilds.guild_room_ids(community.guild_id)
    assert len(rooms) > 3

    async def packs() -> list[list[str]]:
        found = []
        for room in rooms:
            pack = await bot_view.state_event(room, "m.room.image_pack") or {}
            found.append(sorted(pack.get("images") or {}))
        return found

    assert await packs() == [["party"]] * len(rooms)
    store.create_emoji(community.guild_id, "wave", solid_png(0, 255, 255))

    async def both() -> bool | None:
        return True if await packs() == [["party", "wave"]] * len(rooms) else None

    await eventually(both, "every room's pack to show the new emoji")
    store.delete_emoji(community.guild_id, party.id)

    async def only_wave() -> bool | None:
        return True if await packs() == [["wave"]] * len(rooms) else None

    await eventually(only_wave, "every room's pack to lose the deleted emoji")
    # The bridge's own view agrees with the homeserver's, room by room.
    state = running_bridge.guilds.state
    for room in rooms:
        cached = (await state.get(room))[("m.room.image_pack", "")]
        assert sorted(cached["images"]) == ["wave"]
