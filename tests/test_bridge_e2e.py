"""The real bridge process against a real Synapse and the Discord emulator."""

from __future__ import annotations

import pytest
from mautrix.errors import MatrixRequestError

from bridge.sandbox.discord.gateway import get_hub
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient, wait_until
from tests.fixtures.bridge import StartBridge
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.postgres import fresh_postgres_database

pytestmark = pytest.mark.slow
BOT = "@discordbot:sandbox.local"


def connected_sessions(emulator: DiscordEmulator, bot_id: int) -> list:
    """Gateway sessions of this bot that are connected right now."""
    return [
        session
        for session in get_hub(emulator.app).sessions.values()
        if session.bot_id == bot_id and session.connection is not None
    ]


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_bridge_starts_registers_its_bot_connects_to_discord_and_stops(
    database: str,
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    matrix_user: MatrixTestClient,
) -> None:
    overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
    async with fresh_postgres_database() as postgres_url:
        if database == "postgres":
            overrides["appservice.database.url"] = postgres_url
        bridge = start_bridge(overrides)
        await bridge.wait_for_output(f"Bridge started as {BOT}")
        assert "Connected to Discord as Matrix Bridge" in bridge.output
        # No guild configured or bridged yet: the log says how to get one's ID and bridge it.
        assert "No guild is bridged yet and bridge.guilds is empty" in bridge.output
        assert "Copy Server ID" in bridge.output
        assert f"write `bridge <guild ID>` to {BOT} in a direct chat" in bridge.output
        # discord.py is connected: the emulator has a live gateway session for the bot.
        assert len(connected_sessions(sandbox_guild.emulator, sandbox_guild.bot.id)) == 1
        # The bot is registered on the homeserver, with the configured name.
        profile = await matrix_user.api.get_profile(BOT)
        assert profile.displayname == "Discord bridge bot"
        assert await bridge.stop() == 0
        assert "Stopping the bridge" in bridge.output
        assert "Traceback" not in bridge.output
        await wait_until(
            lambda: _true_if(not connected_sessions(sandbox_guild.emulator, sandbox_guild.bot.id)),
            timeout=10,
            what="the gateway connection to close",
        )


async def _true_if(condition: bool) -> bool | None:
    return True if condition else None


async def test_sigint_stops_cleanly_and_a_restart_reuses_the_database(
    synapse: LocalSynapse, sandbox_guild: SandboxGuild, start_bridge: StartBridge
) -> None:
    overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
    first = start_bridge(overrides)
    await first.wait_for_output("Bridge started as")
    first.process.send_signal(2)  # SIGINT, as Ctrl-C
    assert await first.wait_exit() == 130  # 128 + SIGINT, as a shell reports Ctrl-C
    second = start_bridge(overrides)
    await second.wait_for_output("Bridge started as")
    assert "Migrating the database schema" not in second.output
    assert await second.stop() == 0


async def test_bot_accepts_invites_from_allowed_users_only(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    make_matrix_user,  # noqa: ANN001
) -> None:
    boss = await make_matrix_user("boss_" + str(sandbox_guild.guild.id)[-6:])
    stranger = await make_matrix_user()
    bridge = start_bridge(
        {
            "homeserver.address": synapse.url,
            "bridge.permissions": f'{{"*": relay, "{boss.user_id}": user}}',
            **sandbox_guild.bridge_overrides(),
        }
    )
    await bridge.wait_for_output("Bridge started as")
    allowed_room = await boss.create_room(name="with the bot", invite=[BOT])
    refused_room = await stranger.create_room(name="without the bot", invite=[BOT])

    async def membership(client: MatrixTestClient, room_id: str) -> str | None:
        try:
            member = await client.state_event(room_id, "m.room.member", BOT)
        except MatrixRequestError:
            return None
        return member.get("membership") if member else None

    async def settled(client: MatrixTestClient, room_id: str, wanted: str) -> bool | None:
        return True if await membership(client, room_id) == wanted else None

    await wait_until(lambda: settled(boss, allowed_room, "join"), timeout=15, what="bot joins")
    await wait_until(
        lambda: settled(stranger, refused_room, "leave"), timeout=15, what="bot refuses"
    )
    assert await bridge.stop() == 0


async def test_refused_bot_token_is_explained(
    synapse: LocalSynapse, sandbox_guild: SandboxGuild, start_bridge: StartBridge
) -> None:
    overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
    overrides["discord.bot_token"] = "MTIz.not.the-token"
    bridge = start_bridge(overrides)
    assert await bridge.wait_exit() == 1
    assert "Error: Discord refused discord.bot_token (401 Unauthorized)" in bridge.output
    assert "Traceback" not in bridge.output


async def test_missing_privileged_intents_are_explained(
    synapse: LocalSynapse, discord_emulator: DiscordEmulator, start_bridge: StartBridge
) -> None:
    store = discord_emulator.store
    owner = store.create_user("owner2")
    bot, application, token = store.create_bot("No Intents Bot", privileged_intents=0)
    guild = store.create_guild("Intentless", owner.id)
    store.add_member(guild.id, bot.id)
    sandbox = SandboxGuild(discord_emulator, guild, owner, bot, application, token)
    bridge = start_bridge({"homeserver.address": synapse.url, **sandbox.bridge_overrides()})
    assert await bridge.wait_exit() == 1
    assert "4014" in bridge.output
    assert "SERVER MEMBERS INTENT and MESSAGE CONTENT INTENT" in bridge.output
    assert "Traceback" not in bridge.output
