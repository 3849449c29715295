"""The image's HEALTHCHECK script: ready when the bridge answers /_matrix/mau/ready."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from pathlib import Path

import pytest

from bridge.app import Bridge
from bridge.config import write_example
from tests.fixtures.inprocess import MakeConfig
from tests.packaging.files import REPO

SCRIPT = REPO / "docker" / "healthcheck.py"


async def _healthcheck(data: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the script as Docker would (without blocking this loop, which may serve the bridge)."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("DISCORD_BRIDGE")
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        env={**environment, "BRIDGE_DATA": str(data), **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode().strip()


async def test_without_a_config_the_container_is_unhealthy(tmp_path: Path) -> None:
    status, output = await _healthcheck(tmp_path)
    assert (status, output) == (
        1,
        f"no config at {tmp_path / 'config.yaml'}: the bridge has not been set up",
    )


async def test_with_nothing_listening_the_container_is_unhealthy(tmp_path: Path) -> None:
    write_example(tmp_path / "config.yaml")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    status, output = await _healthcheck(tmp_path, {"DISCORD_BRIDGE__APPSERVICE__PORT": str(port)})
    assert status == 1
    assert output.startswith(f"GET http://127.0.0.1:{port}/_matrix/mau/ready: ")
    assert "Connection refused" in output


@pytest.mark.slow
async def test_a_started_bridge_is_healthy(
    running_bridge: Bridge, bridge_config_path: Path
) -> None:
    port = running_bridge.config["appservice.port"]
    status, output = await _healthcheck(bridge_config_path.parent)
    assert (status, output) == (0, f"GET http://127.0.0.1:{port}/_matrix/mau/ready: 200")


@pytest.mark.slow
async def test_not_ready_until_the_bridge_has_started(
    make_bridge_config: MakeConfig, bridge_config_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """/_matrix/mau/ready answers 500 while start-up goes on (appservice listening, Discord
    logged in, "Bridge started" not yet logged) and 200 only once it is."""
    data = bridge_config_path.parent
    during: list[tuple[int, str, bool]] = []

    async def probe_during_start_up() -> None:
        status, output = await _healthcheck(data)
        during.append((status, output, "Bridge started" in caplog.text))

    bridge = Bridge(make_bridge_config(), before_connect=probe_during_start_up)
    port = bridge.config["appservice.port"]
    url = f"GET http://127.0.0.1:{port}/_matrix/mau/ready"
    with caplog.at_level(logging.INFO, logger="bridge"):
        try:
            await bridge.start()
            assert "Bridge started" in caplog.text
            after = await _healthcheck(data)
        finally:
            await bridge.stop()
    assert during == [(1, f"{url}: 500, not ready", False)]
    assert after == (0, f"{url}: 200")
    status, output = await _healthcheck(data)  # stopped: no longer healthy
    assert status == 1 and output.startswith(f"{url}: ")
