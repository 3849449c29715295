"""What the bridge's log shows at INFO: no line per appservice request, no voice warning.

The bridge runs as a process with the example config's ``logging`` section (root INFO);
access lines appear only when ``aiohttp.access`` is set to DEBUG (issue #15, point 10).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bridge.config import write_example
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient, wait_until
from tests.fixtures.bridge import BridgeProcess
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow
BOT = "@discordbot:sandbox.local"


def config_with_example_logging(source: Path, folder: Path, levels: dict[str, str]) -> Path:
    """The test config with the example config's ``logging`` section, plus these levels."""
    yaml = YAML()
    example_path = folder / "example.yaml"
    write_example(example_path)
    data = yaml.load(source)
    data["logging"] = yaml.load(example_path)["logging"]
    for logger, level in levels.items():
        data["logging"]["loggers"][logger] = {"level": level}
    path = folder / "config.yaml"
    with path.open("w") as stream:
        yaml.dump(data, stream)
    return path


async def run_bridge_through_a_transaction(
    config: Path, tmp_path: Path, synapse: LocalSynapse, guild: SandboxGuild, user: MatrixTestClient
) -> str:
    """Start the bridge, have the homeserver push a transaction (an invite the bot accepts),
    stop it; returns its output."""
    overrides = {
        "homeserver.address": synapse.url,
        "appservice.database.url": f"sqlite:{tmp_path / 'bridge.db'}",
        **guild.bridge_overrides(),
    }
    env = {"DISCORD_BRIDGE__" + k.upper().replace(".", "__"): str(v) for k, v in overrides.items()}
    bridge = BridgeProcess(config, env, tmp_path / "bridge.log")
    try:
        await bridge.wait_for_output(f"Bridge started as {BOT}")
        room_id = await user.create_room(invite=[BOT], is_direct=True)

        async def joined() -> bool | None:
            members = await user.api.get_joined_members(room_id)  # type: ignore[arg-type]
            return True if BOT in members else None

        await wait_until(joined, timeout=30, what="the bot joining the direct chat")
        assert await bridge.stop() == 0
    finally:
        bridge.kill()
    return bridge.output


async def test_info_log_has_no_access_lines_and_no_voice_warning(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    bridge_config_path: Path,
    appservice_registration: Path,
    matrix_user: MatrixTestClient,
    tmp_path: Path,
) -> None:
    config = config_with_example_logging(bridge_config_path, tmp_path, {})
    output = await run_bridge_through_a_transaction(
        config, tmp_path, synapse, sandbox_guild, matrix_user
    )
    assert "Connected to Discord as Matrix Bridge" in output  # INFO lines are there
    assert "aiohttp.access" not in output
    assert "/_matrix/app/v1/transactions/" not in output
    assert "davey" not in output
    assert "Traceback" not in output


async def test_access_lines_appear_at_debug(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    bridge_config_path: Path,
    appservice_registration: Path,
    matrix_user: MatrixTestClient,
    tmp_path: Path,
) -> None:
    config = config_with_example_logging(bridge_config_path, tmp_path, {"aiohttp.access": "DEBUG"})
    output = await run_bridge_through_a_transaction(
        config, tmp_path, synapse, sandbox_guild, matrix_user
    )
    access = [line for line in output.splitlines() if "[aiohttp.access]" in line]
    assert any('"PUT /_matrix/app/v1/transactions/' in line for line in access), output[-3000:]
    assert all(" DEBUG [aiohttp.access] " in line for line in access)
    assert "davey" not in output
