"""An import of a guild the bot is not in ends at once with the guilds it is in; Ctrl-C ends
every command at once, cleanly: exit status 130, no traceback, the appservice port free."""

from __future__ import annotations

import signal
import socket

import pytest

from bridge.sandbox.homeserver import LocalSynapse
from tests.fixtures.bridge import BridgeProcess, StartBridge
from tests.fixtures.community import Community
from tests.fixtures.discord import SandboxGuild
from tests.test_import import seed_plain

pytestmark = pytest.mark.slow
NOT_A_GUILD_OF_THE_BOT = 111111111111111111
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process Ctrl-C ended


def assert_port_free(port: int) -> None:
    """The process that listened on ``port`` let it go: binding it again works."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def the_guilds_line(sandbox_guild: SandboxGuild) -> str:
    return (
        f"the bot is not in guild {NOT_A_GUILD_OF_THE_BOT}; it is in: "
        f"{sandbox_guild.guild.name} ({sandbox_guild.guild.id})"
    )


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
async def test_an_import_of_a_guild_the_bot_is_not_in_names_the_guilds_it_is_in(
    dry_run: bool,
    synapse: LocalSynapse,
    community: Community,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    appservice_port: int,
) -> None:
    overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
    # Bridged messages in the database: the next start queues a catch-up behind the gateway.
    lounge = community.channels["lounge"]
    seed_plain(sandbox_guild.emulator.store, lounge, [community.users["alice"]], 3, "old")
    earlier = start_bridge(overrides, ("import", "--guild", str(community.guild_id)))
    assert await earlier.wait_exit(timeout=120) == 0, earlier.output
    args = ("import", "--guild", str(NOT_A_GUILD_OF_THE_BOT), *(["--dry-run"] if dry_run else []))
    run = start_bridge(overrides, args)
    code = await run.wait_exit(timeout=30)
    assert code == 1, run.output
    assert the_guilds_line(sandbox_guild) in run.output, run.output
    assert "Traceback" not in run.output, run.output
    assert_port_free(appservice_port)


async def interrupt(run: BridgeProcess, appservice_port: int) -> None:
    """Ctrl-C once: the process ends with 130, says nothing of a traceback, frees the port."""
    run.process.send_signal(signal.SIGINT)
    assert await run.wait_exit(timeout=20) == EXIT_INTERRUPTED, run.output
    assert "Traceback" not in run.output, run.output
    assert "Interrupted" in run.output, run.output
    assert_port_free(appservice_port)


async def test_ctrl_c_ends_a_running_import(
    synapse: LocalSynapse,
    community: Community,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    appservice_port: int,
) -> None:
    lounge = community.channels["lounge"]
    authors = [community.users[name] for name in ("alice", "bob", "carol")]
    seed_plain(sandbox_guild.emulator.store, lounge, authors, 400, "old")
    overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
    run = start_bridge(overrides, ("import", "--guild", str(community.guild_id)))
    await run.wait_for_output("Bridge started", timeout=60)
    await interrupt(run, appservice_port)
    assert "run the same command again to resume" in run.output


async def test_ctrl_c_ends_a_running_bridge(
    synapse: LocalSynapse,
    community: Community,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    appservice_port: int,
) -> None:
    overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
    run = start_bridge(overrides)
    await run.wait_for_output("Bridge started", timeout=60)
    await interrupt(run, appservice_port)


async def test_ctrl_c_ends_an_api_dry_run(
    synapse: LocalSynapse,
    community: Community,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    appservice_port: int,
) -> None:
    lounge = community.channels["lounge"]
    authors = [community.users[name] for name in ("alice", "bob", "carol")]
    # Enough pages (100 messages each, under Discord's rate limits) to be counting still.
    seed_plain(sandbox_guild.emulator.store, lounge, authors, 3000, "old")
    overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
    run = start_bridge(overrides, ("import", "--guild", str(community.guild_id), "--dry-run"))
    await run.wait_for_output("Counting", timeout=60)
    await interrupt(run, appservice_port)
