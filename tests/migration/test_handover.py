"""The community owns its rooms (issue #18, point 5): ``bridge.room_owners`` are creators of the
rooms the bridge makes from room version 12, at power level 100 before, and ``handover``
gives them the rooms made earlier: a room upgrade in version 12, power 100 before."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from mautrix.errors import MForbidden
from mautrix.types import RoomAlias

from bridge.app import Bridge
from bridge.sandbox.homeserver_profile import HomeserverProfile
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.commands.conftest import Chat, open_chat
from tests.fixtures.community import SERVER, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Guild:
    """A small guild: a category with one channel, and a member who is no admin."""

    sandbox: SandboxGuild
    guild_id: int
    category: int
    lounge: int
    alice: int

    def say(self, text: str) -> None:
        self.sandbox.emulator.store.create_message(self.lounge, self.alice, text)


@pytest.fixture
def guild(sandbox_guild: SandboxGuild) -> Guild:
    store, guild_id = sandbox_guild.emulator.store, sandbox_guild.guild.id
    alice = store.create_user("alice", global_name="Alice")
    store.add_member(guild_id, alice.id)
    category = store.create_channel(guild_id, "Chat", 4, position=1).id
    lounge = store.create_channel(guild_id, "lounge", parent_id=category, position=0).id
    return Guild(sandbox_guild, guild_id, category, lounge, alice.id)


@asynccontextmanager
async def running(make_config: MakeConfig, overrides: dict[str, object]) -> AsyncIterator[Bridge]:
    bridge = Bridge(make_config(overrides))
    try:
        await bridge.start()
        yield bridge
    finally:
        await bridge.stop()


def config(version: str, admin: str, member: str, owners: list[str]) -> dict[str, object]:
    return {
        "bridge.room_version": json.dumps(version),
        "bridge.permissions": json.dumps({admin: "admin", member: "user"}),
        "bridge.room_owners": json.dumps(owners),
    }


async def creators_of(view: MatrixTestClient, room_id: str) -> list[str]:
    create = await view.state_event(room_id, "m.room.create") or {}
    return list(create.get("additional_creators") or [])


async def membership(view: MatrixTestClient, room_id: str, mxid: str) -> str | None:
    content = await view.state_event(room_id, "m.room.member", mxid)
    return content.get("membership") if content else None


async def test_a_version_12_guild_is_handed_over_by_a_room_upgrade(
    make_bridge_config: MakeConfig,
    guild: Guild,
    bot_view: MatrixTestClient,
    make_matrix_user: Any,
    homeserver_profile: HomeserverProfile,
) -> None:
    if "12" not in (homeserver_profile.room_versions or {"12": "stable"}):
        pytest.skip(f"{homeserver_profile.name} has no room version 12")
    owner = await make_matrix_user()
    member = await make_matrix_user()
    settings = config("12", owner.user_id, member.user_id, [])
    async with running(make_bridge_config, settings) as bridge:  # before owners were set
        chat = await open_chat(owner)
        refused = await chat.command(f"handover {guild.guild_id}")
        assert "`bridge.room_owners`" in refused["body"], refused["body"]
        assert bridge.guilds is not None
        old_space = (await bridge.guilds.bridge_guild(guild.guild_id)).space_room_id
        old_room = await room_of(bridge, guild.lounge)
        assert await creators_of(bot_view, old_room) == []

    settings = config("12", owner.user_id, member.user_id, [owner.user_id])
    async with running(make_bridge_config, settings) as bridge:
        store = guild.sandbox.emulator.store
        news = store.create_channel(guild.guild_id, "news", parent_id=guild.category).id

        async def news_room() -> str | None:
            row = await bridge.database.tables.portals.get(news)  # type: ignore[union-attr]
            return row.room_id if row else None

        created = await eventually(news_room, "a room for the new channel")
        assert await creators_of(bot_view, created) == [owner.user_id]  # a new room: theirs
        levels = await bot_view.state_event(created, "m.room.power_levels") or {}
        assert owner.user_id not in levels["users"]
        assert await membership(bot_view, created, owner.user_id) == "invite"

        await member.join(old_space)  # a Matrix member of the old room
        await member.join(old_room)
        chat = Chat(owner, chat.room_id)
        reply = await chat.command(f"handover {guild.guild_id}")
        body = reply["body"]
        assert "**lounge**: upgraded to a new room (version 12)" in body, body
        assert "**news**: the owners are its creators already" in body, body
        new_room = await room_of(bridge, guild.lounge)
        assert new_room != old_room
        new_space = (await bridge.database.tables.guilds.get(guild.guild_id)).space_room_id  # type: ignore[union-attr]
        assert new_space != old_space
        create = await bot_view.state_event(new_room, "m.room.create") or {}
        assert create["additional_creators"] == [owner.user_id]
        assert create["predecessor"]["room_id"] == old_room
        tombstone = await bot_view.state_event(old_room, "m.room.tombstone") or {}
        assert tombstone.get("replacement_room") == new_room
        alias = await bot_view.api.resolve_room_alias(
            RoomAlias(f"#discord_{guild.lounge}:{SERVER}")
        )
        assert alias.room_id == new_room

        async def linked() -> bool | None:  # the guild sync after the upgrades
            category = await room_of(bridge, guild.category)
            child = await bot_view.state_event(category, "m.space.child", new_room)
            parent = await bot_view.state_event(new_room, "m.space.parent", category)
            info = await bot_view.state(new_room, "m.bridge")
            return bool(child and parent and info and info[0]["content"]) or None

        await eventually(linked, "the new room in its space")
        assert await membership(bot_view, new_room, owner.user_id) == "invite"
        assert await membership(bot_view, new_room, member.user_id) == "invite"

        # The owner, a creator now, lowers a level the bridge bot set: the guild owner's
        # ghost at 100, which nobody at 100 could lower.
        await owner.join(new_room)
        levels = await owner.state_event(new_room, "m.room.power_levels") or {}
        guild_owner = ghost(guild.sandbox.owner.id)
        assert levels["users"][guild_owner] == 100
        users = {**levels["users"], guild_owner: 50}
        await owner.send_state(new_room, "m.room.power_levels", {**levels, "users": users})

        guild.say("after the handover")
        await owner.wait_for_message(new_room, "after the handover", timeout=15)

        again = await chat.command(f"handover {guild.guild_id}")
        assert again["body"].count("handed over before") == 4, again["body"]
        assert await room_of(bridge, guild.lounge) == new_room
        assert await bot_view.state_event(new_room, "m.room.tombstone") is None

        # An owner added later (here while running; a restart in real life) is not a creator
        # of the handed-over room yet: handover upgrades it once more, with both as creators.
        second = await make_matrix_user()
        bridge.config["bridge.room_owners"] = [owner.user_id, second.user_id]
        more = await chat.command(f"handover {guild.guild_id}")
        assert "handed over before" not in more["body"], more["body"]
        newer = await room_of(bridge, guild.lounge)
        assert newer != new_room
        create = await bot_view.state_event(newer, "m.room.create") or {}
        assert set(create["additional_creators"]) >= {owner.user_id, second.user_id}

        stranger = await open_chat(member)
        refused = await stranger.command(f"handover {guild.guild_id}")
        assert refused["body"].startswith("You may not use `handover`"), refused["body"]


async def test_an_older_version_guild_gives_the_owners_power_100(
    make_bridge_config: MakeConfig,
    guild: Guild,
    bot_view: MatrixTestClient,
    make_matrix_user: Any,
) -> None:
    owner = await make_matrix_user()
    member = await make_matrix_user()
    settings = config("10", owner.user_id, member.user_id, [owner.user_id])
    async with running(make_bridge_config, settings) as bridge:
        assert bridge.guilds is not None
        await bridge.guilds.bridge_guild(guild.guild_id)
        room = await room_of(bridge, guild.lounge)
        levels = await bot_view.state_event(room, "m.room.power_levels") or {}
        assert levels["users"][owner.user_id] == 100  # made with the owner at 100
        assert await membership(bot_view, room, owner.user_id) == "invite"

        chat = await open_chat(owner)
        reply = await chat.command(f"handover {guild.guild_id}")
        body = reply["body"]
        assert "**lounge**: the owners got power level 100 (room version 10)" in body, body
        assert "upgraded" not in body
        assert await room_of(bridge, guild.lounge) == room
        assert await bot_view.state_event(room, "m.room.tombstone") is None
        await owner.join(room)
        levels = await owner.state_event(room, "m.room.power_levels") or {}
        assert levels["users"][owner.user_id] == 100
        # At 100 like the bot, the owner still cannot lower another user at 100.
        guild_owner = ghost(guild.sandbox.owner.id)
        with pytest.raises(MForbidden):
            users = {**levels["users"], guild_owner: 50}
            await owner.send_state(room, "m.room.power_levels", {**levels, "users": users})

        again = await chat.command(f"handover {guild.guild_id}")
        assert "handed over before (power level 100)" in again["body"], again["body"]
        assert "got power level 100" not in again["body"]
        rows = await bridge.database.tables.room_handovers.find()  # type: ignore[union-attr]
        assert {row.method for row in rows} == {"power"} and len(rows) == 4
