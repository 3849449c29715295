"""The module bridge of test_migration_followups.py: double puppeting on, room version 12
where the homeserver has it, the small test community plus two small guilds of the same bot
(for ``handover`` and ``unbridge``), and a member whose ghost spoke before he linked."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from bridge.app import Bridge
from bridge.sandbox.discord.store import Store
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.homeserver_profile import HomeserverProfile
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import SERVER, Community, build_community, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.homeserver import DOUBLE_PUPPET_TOKEN
from tests.fixtures.inprocess import sandbox_config


@dataclass
class World:
    bridge: Bridge
    store: Store
    community: Community
    lounge: str  # the room of #lounge
    viewer: MatrixTestClient  # the bridge bot's view
    boss: MatrixTestClient  # a bridge admin (bridge.permissions)
    dave: int  # a member linked to ``real`` (double puppeted)
    real: MatrixTestClient
    others: dict[str, int]  # "handover", "unbridge": small guilds of the same bot
    before: int = 0  # dave's message sent before linking (by his ghost)

    def say(self, author: int, text: str, **fields: Any) -> int:
        return self.store.create_message(
            self.community.channels["lounge"], author, text, **fields
        ).id

    async def event_of(self, message_id: int) -> dict[str, Any]:
        async def mapped() -> str | None:
            parts = await self.bridge.database.tables.message_parts_of(message_id)  # type: ignore[union-attr]
            return parts[0].event_id if parts else None

        event_id = await eventually(mapped, f"the Matrix event of Discord message {message_id}")
        return await self.viewer.event(self.lounge, event_id)

    async def wait_for(self, room: str, check: Any, what: str) -> Any:
        async def found() -> dict[str, Any] | None:
            events = await self.viewer.timeline(room, types=["m.room.message"])
            return next((event for event in events if check(event)), None)

        return await eventually(found, what)

    async def membership(self, room: str, mxid: str) -> str | None:
        return ((await self.viewer.state_event(room, "m.room.member", mxid)) or {}).get(
            "membership"
        )

    @contextmanager
    def owners(self, *mxids: str) -> Iterator[None]:
        """``bridge.room_owners`` set in the running bridge's config for the block."""
        config = self.bridge.config
        kept = config["bridge.room_owners"]
        config["bridge.room_owners"] = list(mxids)
        try:
            yield
        finally:
            config["bridge.room_owners"] = kept


async def _person(
    synapse: LocalSynapse, clients: list[MatrixTestClient], name: str
) -> MatrixTestClient:
    user_id, token = await synapse.register_user(
        f"{name}_{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    )
    client = MatrixTestClient(synapse.url, token, user_id)
    clients.append(client)
    return client


def has_version_12(profile: HomeserverProfile) -> bool:
    return "12" in (profile.room_versions or {"12": "stable"})


def small_guild(store: Store, name: str, owner_id: int, bot_id: int) -> int:
    """A guild of the same bot: #general, a category and #lounge in it."""
    made = store.create_guild(name, owner_id)
    store.add_member(made.id, bot_id)
    category = store.create_channel(made.id, "Chat", 4, position=1).id
    store.create_channel(made.id, "lounge", parent_id=category, position=0)
    return made.id


@pytest_asyncio.fixture(scope="module", loop_scope="session", name="world")
async def world_fixture(
    guild: SandboxGuild,  # noqa: F811
    synapse: LocalSynapse,
    bridge_config_path: Any,
    appservice_registration: Any,
    appservice_registration_data: dict[str, Any],
    homeserver_profile: HomeserverProfile,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[World]:
    store = guild.emulator.store
    community = build_community(store, guild)
    others = {
        kind: small_guild(store, f"{kind.title()} Guild", guild.owner.id, guild.bot.id)
        for kind in ("handover", "unbridge")
    }
    clients: list[MatrixTestClient] = []
    boss = await _person(synapse, clients, "boss")
    config = sandbox_config(
        bridge_config_path,
        synapse,
        guild,
        tmp_path_factory.mktemp("db") / "bridge.db",
        {
            "bridge.double_puppet.as_token": DOUBLE_PUPPET_TOKEN,
            "bridge.permissions": json.dumps({"*": "relay", SERVER: "user", boss.user_id: "admin"}),
            **(
                {"bridge.room_version": json.dumps("12")}
                if has_version_12(homeserver_profile)
                else {}
            ),
        },
    )
    bridge = Bridge(config)
    try:
        await bridge.start()
        assert bridge.guilds is not None and bridge.puppets is not None
        await bridge.guilds.bridge_guild(community.guild_id)
        lounge = await room_of(bridge, community.channels["lounge"])
        viewer = MatrixTestClient(
            synapse.url,
            appservice_registration_data["as_token"],
            as_user_id=f"@discordbot:{SERVER}",
        )
        clients.append(viewer)
        dave = store.create_user("dave", global_name="Dave").id
        store.add_member(community.guild_id, dave)
        real = await _person(synapse, clients, "dave")
        world = World(bridge, store, community, lounge, viewer, boss, dave, real, others)
        world.before = world.say(dave, "said before linking")
        assert (await world.event_of(world.before))["sender"] == ghost(dave)
        await bridge.puppets.links.link(dave, real.user_id, "matrix")

        async def moved() -> bool | None:
            joined = await world.membership(lounge, real.user_id) == "join"
            return (joined and await world.membership(lounge, ghost(dave)) == "leave") or None

        await eventually(moved, "dave's account in #lounge, his ghost out of it")
        yield world
    finally:
        await bridge.stop()
        for client in clients:
            await client.close()
