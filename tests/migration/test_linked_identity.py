"""One person, not two (issue #18): a linked member's Matrix messages reach Discord under their
Discord name and avatar, pills of their Matrix account ping them on Discord, and their ghost's
name shows the Matrix account until they unlink.

One bridge for the module: Alice is linked to her Matrix account for the whole module; Bob
links and unlinks in his own test.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from mautrix.types import UserID

from bridge.app import Bridge
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Message, Store
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import SERVER, Community, build_community, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild, validated_responses
from tests.fixtures.inprocess import sandbox_config

pytestmark = pytest.mark.slow


@dataclass
class World:
    """The bridged community, its #lounge room, and Matrix people in it."""

    bridge: Bridge
    store: Store
    community: Community
    cdn_url: str
    room: str
    alice_mx: MatrixTestClient  # linked to Discord's alice (nick "Ali", her own avatar)
    marie: MatrixTestClient  # a Matrix user with no link
    bob_mx: MatrixTestClient  # links to Discord's bob (nick "Bobby") in his test
    viewer: MatrixTestClient  # the bridge bot's view

    @property
    def channel_id(self) -> int:
        return self.community.channels["lounge"]

    def user(self, name: str) -> int:
        return self.community.users[name]

    async def on_discord(self, predicate: Callable[[Message], bool], what: str) -> Message:
        async def check() -> Message | None:
            history = self.store.history(self.channel_id, limit=50)
            return next((m for m in history if predicate(m)), None)

        return await eventually(check, what)


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


async def _person(synapse: LocalSynapse, name: str, clients: list[MatrixTestClient]) -> Any:
    localpart = f"{name.lower()}_{secrets.token_hex(3)}"
    user_id, token = await synapse.register_user(
        localpart, secrets.token_urlsafe(12), displayname=name
    )
    client = MatrixTestClient(synapse.url, token, user_id)
    clients.append(client)
    return client


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
    store.update_user(community.users["alice"], avatar=solid_png(20, 120, 220))
    store.update_member(guild.guild.id, community.users["alice"], nick="Ali")
    store.update_member(guild.guild.id, community.users["bob"], nick="Bobby")
    config = sandbox_config(
        bridge_config_path, synapse, guild, tmp_path_factory.mktemp("db") / "bridge.db"
    )
    clients: list[MatrixTestClient] = []
    bridge = Bridge(config)
    try:
        await bridge.start()
        assert bridge.guilds is not None and bridge.puppets is not None
        space = (await bridge.guilds.bridge_guild(community.guild_id)).space_room_id
        room = await room_of(bridge, community.channels["lounge"])
        people = [await _person(synapse, name, clients) for name in ("Alicia", "Marie", "Rob")]
        for person in people:
            await person.join(space)
            await person.join(room)
        viewer = MatrixTestClient(
            synapse.url,
            appservice_registration_data["as_token"],
            as_user_id=f"@discordbot:{SERVER}",
        )
        clients.append(viewer)
        await bridge.puppets.links.link(community.users["alice"], people[0].user_id, "matrix")
        yield World(bridge, store, community, guild.emulator.cdn_url, room, *people, viewer=viewer)
    finally:
        await bridge.stop()
        for client in clients:
            await client.close()


async def send_html(client: MatrixTestClient, room: str, body: str, html: str) -> str:
    content = {"msgtype": "m.text", "body": body, "format": "org.matrix.custom.html"}
    return await client.send(room, {**content, "formatted_body": html})


async def test_a_linked_member_speaks_on_discord_as_their_discord_self(world: World) -> None:
    alice = world.store.users[world.user("alice")]
    event_id = await world.alice_mx.send_text(world.room, "hello from Matrix")
    sent = await world.on_discord(lambda m: m.content == "hello from Matrix", "alice's message")
    assert sent.webhook_id is not None
    assert sent.webhook_name == "Ali"  # her nick in the guild, not "Alicia"
    assert sent.webhook_avatar_url == (
        f"{world.cdn_url.rstrip('/')}/avatars/{alice.id}/{alice.avatar}.png?size=1024"
    )
    await world.marie.send_text(world.room, "and from Marie")
    other = await world.on_discord(lambda m: m.content == "and from Marie", "marie's message")
    assert other.webhook_name == "Marie"

    # Edits keep working; a reply to her message names her as Discord knows her.
    await world.alice_mx.send(
        world.room,
        {
            "msgtype": "m.text",
            "body": "* hello again",
            "m.new_content": {"msgtype": "m.text", "body": "hello again"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        },
    )
    await world.on_discord(lambda m: m.id == sent.id and m.content == "hello again", "the edit")
    await world.marie.send(
        world.room,
        {
            "msgtype": "m.text",
            "body": "indeed",
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}},
        },
    )
    reply = await world.on_discord(lambda m: m.content.endswith("\nindeed"), "marie's reply")
    assert reply.content.startswith("> **Ali**")


async def test_a_pill_of_a_linked_account_pings_the_member_on_discord(world: World) -> None:
    alice, mxid = world.user("alice"), world.alice_mx.user_id
    await send_html(
        world.marie,
        world.room,
        "Alicia: look",
        f'<a href="https://matrix.to/#/{mxid}">Alicia</a>: look',
    )
    message = await world.on_discord(lambda m: m.content.endswith(": look"), "the mention")
    assert message.content == f"<@{alice}>: look"
    assert message.mentions == [alice]  # allowed_mentions let it ping her


async def test_the_ghost_shows_the_linked_account_until_the_unlink(world: World) -> None:
    bob, mxid = world.user("bob"), world.bob_mx.user_id
    ghost_mxid = UserID(ghost(bob))
    posted = world.store.create_message(world.channel_id, bob, "hi from Discord")

    async def ghost_said_hi() -> bool | None:
        return True if await world.bridge.database.tables.message_parts_of(posted.id) else None

    await eventually(ghost_said_hi, "bob's message in Matrix")

    async def names(global_name: str, room_name: str) -> bool | None:
        profile = await world.viewer.api.get_profile(ghost_mxid)
        member = await world.viewer.state_event(world.room, "m.room.member", ghost_mxid)
        shown = (profile.displayname, (member or {}).get("displayname"))
        return True if shown == (global_name, room_name) else None

    await world.bridge.puppets.links.link(bob, mxid, "matrix")
    linked = ("Bob (Discord) · " + mxid, "Bobby (Discord) · " + mxid)
    await eventually(lambda: names(*linked), "the ghost's names with the Matrix account")

    # The usual profile sync keeps the rule: a new global name on Discord.
    world.store.update_user(bob, global_name="Robert")
    renamed = ("Robert (Discord) · " + mxid, "Bobby (Discord) · " + mxid)
    await eventually(lambda: names(*renamed), "the renamed ghost, still with the account")

    await world.bridge.puppets.links.unlink_discord(bob)
    await eventually(lambda: names("Robert (Discord)", "Bobby (Discord)"), "the plain names")
