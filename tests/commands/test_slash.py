"""Discord's /matrix command, end to end: registered in the bot's guilds, run by members in
the emulator, answered ephemerally; bridging and unbridging the guild for real."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.app import Bridge
from bridge.sandbox.discord.store import Message, Store
from bridge.sandbox.discord.store.interactions import LOADING
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import SERVER, eventually
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow

EPHEMERAL = 1 << 6


async def matrix_command(
    sandbox: SandboxGuild,
    user_id: int,
    channel_id: int,
    command: str,
    timeout: float = 20,
    **options: Any,
) -> Message:
    """A member runs ``command`` (e.g. ``"matrix info"``) in the channel; the bot's answer
    once it is complete (not "thinking" any more). It must be ephemeral."""
    store, app_id = sandbox.emulator.store, sandbox.application.id
    data = store.command_data(
        app_id, command, options, guild_id=store.get_channel(channel_id).guild_id, user_id=user_id
    )
    interaction = store.create_interaction(app_id, user_id, data, channel_id=channel_id)

    async def answered() -> Message | None:
        replies = store.interaction_messages(interaction)
        return replies[-1] if replies and not replies[-1].flags & LOADING else None

    answer = await eventually(answered, f"the answer to /{command}", timeout)
    assert answer.flags & EPHEMERAL, answer.content
    return answer


async def registered(store: Store, app_id: int, guild_id: int) -> list[str] | None:
    commands = store.list_commands(app_id, guild_id)
    return [o["name"] for c in commands if c.name == "matrix" for o in c.options] or None


async def test_matrix_command_bridges_and_unbridges(
    sandbox_guild: SandboxGuild, running_bridge: Bridge, bot_view: MatrixTestClient
) -> None:
    store, guild = sandbox_guild.emulator.store, sandbox_guild.guild
    owner, app_id = sandbox_guild.owner.id, sandbox_guild.application.id
    general = guild.system_channel_id
    assert general is not None and running_bridge.database is not None
    tables = running_bridge.database.tables
    member = store.create_user("dana").id
    store.add_member(guild.id, member)
    history = list(store.channel_messages.get(general, []))

    subcommands = await eventually(
        lambda: registered(store, app_id, guild.id), "/matrix registered in the guild"
    )
    assert subcommands == ["info", "bridge", "unbridge", "link", "unlink", "migration"]

    answer = await matrix_command(sandbox_guild, member, general, "matrix info")
    assert "is not bridged to Matrix" in answer.content and "/matrix bridge" in answer.content
    answer = await matrix_command(sandbox_guild, member, general, "matrix bridge")
    assert "needs the **Manage Server** permission" in answer.content
    answer = await matrix_command(sandbox_guild, owner, general, "matrix unbridge")
    assert answer.content.startswith("Could not do that:"), answer.content
    assert await tables.guilds.get(guild.id) is None

    answer = await matrix_command(sandbox_guild, owner, general, "matrix bridge", timeout=90)
    assert answer.content.startswith("Bridged **Sandbox Guild**"), answer.content
    row = await tables.guilds.get(guild.id)
    assert row is not None and row.space_room_id and row.bridged_by == f"discord:{owner}"
    create = await bot_view.state_event(row.space_room_id, "m.room.create")
    assert create is not None and create.get("type") == "m.space"
    assert f"https://matrix.to/#/{row.space_room_id}?via={SERVER}" in answer.content

    answer = await matrix_command(sandbox_guild, member, general, "matrix info")
    portal = await tables.portals.get(general)
    assert portal is not None and portal.room_id
    alias = running_bridge.admin.alias_of(general)  # type: ignore[union-attr]
    assert alias == f"#discord_{general}:{SERVER}"
    resolved = await bot_view.api.resolve_room_alias(alias)  # type: ignore[arg-type]
    assert resolved.room_id == portal.room_id
    for needed in (
        f"`{alias}` <https://matrix.to/#/{alias}>",
        f"`{portal.room_id}`",
        f"https://matrix.to/#/{row.space_room_id}?via={SERVER}",
        f"`/join {alias}`",
    ):
        assert needed in answer.content, (needed, answer.content)

    answer = await matrix_command(sandbox_guild, owner, general, "matrix unbridge", timeout=90)
    assert answer.content.startswith("Unbridged **Sandbox Guild**"), answer.content
    assert "archive" in answer.content
    assert await tables.guilds.get(guild.id) is None
    # Only the members who ran them saw the answers: nothing was posted in the channel.
    assert store.channel_messages.get(general, []) == history


async def test_matrix_command_is_registered_in_a_guild_the_bot_joins(
    sandbox_guild: SandboxGuild, running_bridge: Bridge
) -> None:
    store, app_id = sandbox_guild.emulator.store, sandbox_guild.application.id
    await eventually(
        lambda: registered(store, app_id, sandbox_guild.guild.id), "/matrix at start-up"
    )
    other = store.create_guild("Second Guild", sandbox_guild.owner.id)
    assert await registered(store, app_id, other.id) is None
    store.add_member(other.id, sandbox_guild.bot.id)  # GUILD_CREATE to the bot
    await eventually(lambda: registered(store, app_id, other.id), "/matrix in the new guild")
    assert other.system_channel_id is not None
    answer = await matrix_command(sandbox_guild, other.owner_id, other.system_channel_id, "matrix info")  # fmt: skip
    assert "**Second Guild** is not bridged" in answer.content


async def test_a_refused_registration_is_logged_and_the_bridge_runs(
    sandbox_guild: SandboxGuild, make_bridge_config: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord answers 403 to a bot invited without the applications.commands scope."""
    emulator = sandbox_guild.emulator
    app_id = sandbox_guild.application.id
    pattern = f"PUT /applications/{app_id}/guilds/.*/commands"
    rule = emulator.faults.fail_next(count=None, status=403, pattern=pattern)
    bridge = Bridge(make_bridge_config())
    try:
        await bridge.start()

        async def logged() -> bool | None:
            return True if "applications.commands scope" in caplog.text else None

        await eventually(logged, "the refused registration in the log")
        guild_id, store = sandbox_guild.guild.id, emulator.store
        assert await registered(store, app_id, guild_id) is None
        assert bridge.discord.is_ready()
        # Registered by an earlier run: /matrix still answers.
        store.overwrite_commands(app_id, [bridge.slash.group.to_dict(bridge.slash.tree)], guild_id)
        channel_id = sandbox_guild.guild.system_channel_id
        assert channel_id is not None
        answer = await matrix_command(sandbox_guild, sandbox_guild.owner.id, channel_id, "matrix info")  # fmt: skip
        assert "is not bridged to Matrix" in answer.content
    finally:
        emulator.faults.rules.remove(rule)
        await bridge.stop()
