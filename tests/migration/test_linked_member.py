"""What linking changes in the Matrix rooms (issue #18): the linked account is invited where its
Discord roles see and gets the power they give, follows role changes, is pilled and notified
when mentioned on Discord, and loses that power (but stays) on unlink.

One bridge for the module, on the small test community (alice admin, bob mod, carol; #staff
only mods see). Each test links its own Discord members.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from mautrix.api import Method, Path

from bridge.app import Bridge
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Store
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import SERVER, Community, build_community, eventually, room_of
from tests.fixtures.discord import SandboxGuild, validated_responses
from tests.fixtures.inprocess import sandbox_config

pytestmark = pytest.mark.slow


@dataclass
class World:
    bridge: Bridge
    store: Store
    synapse: LocalSynapse
    community: Community
    rooms: dict[str, str]  # "space" and the channel names of the community → room id
    viewer: MatrixTestClient  # the bridge bot's view
    clients: list[MatrixTestClient]

    async def person(self, name: str) -> MatrixTestClient:
        """A new Matrix user of the test homeserver."""
        localpart = f"{name}_{secrets.token_hex(3)}"
        user_id, token = await self.synapse.register_user(localpart, secrets.token_urlsafe(12))
        client = MatrixTestClient(self.synapse.url, token, user_id)
        self.clients.append(client)
        return client

    async def member(self, name: str, roles: tuple[str, ...] = ()) -> int:
        """A new member of the Discord guild, once the bridge's member cache has them."""
        guild_id = self.community.guild_id
        user = self.store.create_user(name, global_name=name.title())
        self.store.add_member(guild_id, user.id, roles=[self.community.roles[r] for r in roles])

        async def cached() -> bool | None:
            guild = self.bridge.discord.get_guild(guild_id)
            return True if guild and guild.get_member(user.id) else None

        await eventually(cached, f"{name} in the bridge's member cache")
        return user.id

    async def link(self, discord_user: int, client: MatrixTestClient) -> None:
        """Link as a redeemed code does; its follow-ups (the sync, the invites) are awaited."""
        assert self.bridge.puppets is not None
        await self.bridge.puppets.links.link(discord_user, client.user_id, "matrix")

    async def resync(self) -> None:
        """A guild sync as any Discord change starts one, run to its end."""
        assert self.bridge.guilds is not None
        guild = self.bridge.discord.get_guild(self.community.guild_id)
        assert guild is not None
        await self.bridge.guilds.sync(guild)

    async def membership(self, room: str, mxid: str) -> str | None:
        member = await self.viewer.state_event(self.rooms[room], "m.room.member", mxid)
        return (member or {}).get("membership")

    async def level(self, room: str, mxid: str) -> int | None:
        levels = await self.viewer.state_event(self.rooms[room], "m.room.power_levels")
        return levels["users"].get(mxid)


@pytest.fixture(scope="module")
def guild(discord_emulator: DiscordEmulator) -> Iterator[SandboxGuild]:
    """A fresh emulator guild for the module (as ``sandbox_guild`` makes one per test)."""
    store = discord_emulator.store
    owner = store.create_user("owner", global_name="Guild Owner")
    bot, application, token = store.create_bot("Matrix Bridge")
    made = store.create_guild("Sandbox Guild", owner.id)
    store.add_member(made.id, bot.id)
    with validated_responses(discord_emulator):
        yield SandboxGuild(discord_emulator, made, owner, bot, application, token)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(
    guild: SandboxGuild,
    synapse: LocalSynapse,
    bridge_config_path: Any,
    appservice_registration: Any,
    appservice_registration_data: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[World]:
    store = guild.emulator.store
    community = build_community(store, guild)
    config = sandbox_config(
        bridge_config_path, synapse, guild, tmp_path_factory.mktemp("db") / "bridge.db"
    )
    bridge = Bridge(config)
    clients: list[MatrixTestClient] = []
    try:
        await bridge.start()
        assert bridge.guilds is not None
        rooms = {"space": (await bridge.guilds.bridge_guild(community.guild_id)).space_room_id}
        for name in ("Info", "Chat", "announcements", "rules", "lounge", "staff", "help"):
            rooms[name] = await room_of(bridge, community.channels[name])
        viewer = MatrixTestClient(
            synapse.url,
            appservice_registration_data["as_token"],
            as_user_id=f"@discordbot:{SERVER}",
        )
        clients.append(viewer)
        yield World(bridge, store, synapse, community, rooms, viewer, clients)
    finally:
        await bridge.stop()
        for client in clients:
            await client.close()


PUBLIC = ("space", "Info", "Chat", "announcements", "rules", "lounge", "help")


async def test_linking_invites_to_the_visible_rooms_with_the_power_of_the_roles(
    world: World,
) -> None:
    users = world.community.users
    bob_mx, carol_mx, alice_mx = [await world.person(n) for n in ("bob", "carol", "alice")]
    await world.link(users["bob"], bob_mx)
    await world.link(users["carol"], carol_mx)
    await world.link(users["alice"], alice_mx)
    for room in PUBLIC:
        assert await world.membership(room, carol_mx.user_id) == "invite", room
        assert await world.membership(room, bob_mx.user_id) == "invite", room
    assert await world.membership("staff", bob_mx.user_id) == "invite"  # a mod sees #staff
    assert await world.membership("staff", carol_mx.user_id) is None  # carol's roles do not
    posts = world.community.posts.values()  # posts of a public forum: joined from its space
    for post in posts:
        row = await world.bridge.database.tables.portals.get(post)
        assert row and row.room_id
        member = await world.viewer.state_event(row.room_id, "m.room.member", carol_mx.user_id)
        assert member is None
    for room in ("space", "lounge", "staff"):
        assert await world.level(room, bob_mx.user_id) == 50, room
        assert await world.level(room, alice_mx.user_id) == 100, room
    assert await world.level("lounge", carol_mx.user_id) is None

    # Joined or invited: a later sync invites nobody again, and the levels stay.
    await carol_mx.join(world.rooms["space"])
    await carol_mx.join(world.rooms["lounge"])
    await world.resync()
    assert await world.membership("lounge", carol_mx.user_id) == "join"
    assert await world.level("lounge", bob_mx.user_id) == 50


async def test_a_role_change_on_discord_changes_power_and_shows_the_private_room(
    world: World,
) -> None:
    store, guild_id = world.store, world.community.guild_id
    dave = await world.member("dave")
    dave_mx = await world.person("dave")
    await world.link(dave, dave_mx)
    assert await world.membership("lounge", dave_mx.user_id) == "invite"
    assert await world.membership("staff", dave_mx.user_id) is None
    await dave_mx.leave(world.rooms["rules"])  # refuses one invite: not asked again

    store.update_member(guild_id, dave, roles=[world.community.roles["mod"]])

    async def promoted() -> bool | None:
        invited = await world.membership("staff", dave_mx.user_id) == "invite"
        return True if invited and await world.level("lounge", dave_mx.user_id) == 50 else None

    await eventually(promoted, "dave's account invited to #staff with moderator power")
    assert await world.level("staff", dave_mx.user_id) == 50
    assert await world.membership("rules", dave_mx.user_id) == "leave"

    store.update_member(guild_id, dave, roles=[])

    async def demoted() -> bool | None:
        levels = [await world.level(room, dave_mx.user_id) for room in ("lounge", "staff")]
        return True if levels == [None, None] else None

    await eventually(demoted, "dave's account to lose its moderator power")
    assert await world.membership("staff", dave_mx.user_id) == "invite"  # not kicked


async def notified(client: MatrixTestClient, event_id: str) -> dict[str, Any] | None:
    """The user's notification for the event, if the homeserver made one."""
    answer = await client.api.api.request(Method.GET, Path.v3.notifications)
    return next((n for n in answer["notifications"] if n["event"]["event_id"] == event_id), None)


async def test_a_discord_mention_pills_and_notifies_the_linked_account(world: World) -> None:
    store = world.store
    erin = store.create_user("erin", global_name="Erin").id
    erin_mx = await world.person("erin")
    await world.link(erin, erin_mx)  # before she is in the guild: nothing to invite to yet
    store.add_member(world.community.guild_id, erin)

    async def invited() -> bool | None:
        return True if await world.membership("lounge", erin_mx.user_id) == "invite" else None

    await eventually(invited, "erin's account invited once she joined the Discord guild")
    await erin_mx.join(world.rooms["space"])
    await erin_mx.join(world.rooms["lounge"])
    lounge, alice = world.community.channels["lounge"], world.community.users["alice"]
    tables = world.bridge.database.tables

    async def event_of(message_id: int) -> dict[str, Any] | None:
        parts = await tables.message_parts_of(message_id)
        if not parts:
            return None
        return await world.viewer.event(world.rooms["lounge"], parts[0].event_id)

    pill = f'<a href="https://matrix.to/#/{erin_mx.user_id}">Erin</a>'
    for mention in (f"<@{erin}>", f"<@!{erin}>"):
        message = store.create_message(lounge, alice, f"{mention} look at this")
        event = await eventually(lambda m=message: event_of(m.id), "the mention in Matrix")
        content = event["content"]
        assert content["formatted_body"] == f"{pill} look at this"
        assert content["body"] == "@Erin look at this"
        assert content["m.mentions"] == {"user_ids": [erin_mx.user_id]}
        note = await eventually(
            lambda e=event: notified(erin_mx, e["event_id"]), "erin's notification"
        )
        assert "highlight" in str(note["actions"])

    # A reply to her Discord message pings her: the reply mentions her real account.
    hers = store.create_message(lounge, erin, "my question")
    await eventually(lambda: event_of(hers.id), "erin's message in Matrix")
    reply = store.create_message(lounge, alice, "answered", reply_to=hers.id)
    event = await eventually(lambda: event_of(reply.id), "the reply in Matrix")
    assert event["content"]["m.mentions"] == {"user_ids": [erin_mx.user_id]}


async def test_unlink_takes_the_power_back_and_keeps_the_account_in_the_rooms(
    world: World,
) -> None:
    frank = await world.member("frank", roles=("mod",))
    frank_mx = await world.person("frank")
    await world.link(frank, frank_mx)
    await frank_mx.join(world.rooms["space"])
    await frank_mx.join(world.rooms["staff"])
    assert await world.level("staff", frank_mx.user_id) == 50

    assert world.bridge.puppets is not None
    await world.bridge.puppets.links.unlink_discord(frank)
    for room in ("space", "lounge", "staff"):
        assert await world.level(room, frank_mx.user_id) is None, room
    assert await world.membership("staff", frank_mx.user_id) == "join"  # not kicked
    await world.resync()
    assert await world.level("staff", frank_mx.user_id) is None  # a sync gives nothing back
