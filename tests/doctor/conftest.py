"""Fixtures for doctor's tests: a well-known server to point --well-known-url at, and a
setup (sandbox Synapse, Discord emulator guild, bridge config) that passes every check."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from bridge.doctor.render import render
from bridge.doctor.result import CheckResult
from bridge.doctor.runner import run_doctor
from bridge.sandbox.homeserver import LocalSynapse, free_port
from tests.fixtures.discord import SandboxGuild


@dataclass
class WebServer:
    """A loopback server answering ``routes[path] = (status, body text, headers)``."""

    url: str = ""
    routes: dict[str, tuple[int, str, dict[str, str]]] = field(default_factory=dict)

    async def answer(self, request: web.Request) -> web.Response:
        status, text, headers = self.routes.get(request.path, (404, "Not found", {}))
        return web.Response(status=status, text=text, headers=headers)


@pytest_asyncio.fixture
async def web_server() -> AsyncIterator[WebServer]:
    """A fresh loopback web server (the well-known host, a misconfigured proxy…)."""
    server = WebServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    server.url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


@dataclass
class Setup:
    """A working setup: environment overrides of the session's bridge config, and the
    well-known server; ``run()`` gives doctor's lines."""

    config_path: Path
    overrides: dict[str, Any]
    well_known: WebServer

    def environ(self, **changes: Any) -> dict[str, str]:
        """The environment overrides for this setup with ``changes`` (config key → value)."""
        values = {**self.overrides, **changes}
        return {
            "DISCORD_BRIDGE__" + key.upper().replace(".", "__"): str(value)
            for key, value in values.items()
        }

    async def run(self, **changes: Any) -> tuple[list[CheckResult], str]:
        results = await run_doctor(self.config_path, self.well_known.url, self.environ(**changes))
        return results, render(results)


def serve_delegation(server: WebServer, client_base: str, federation_host: str) -> None:
    """Serve both .well-known files as a correct setup does."""
    cors = {"Access-Control-Allow-Origin": "*", "Content-Type": "application/json"}
    server.routes["/.well-known/matrix/client"] = (
        200,
        json.dumps({"m.homeserver": {"base_url": client_base}}),
        cors,
    )
    server.routes["/.well-known/matrix/server"] = (
        200,
        json.dumps({"m.server": federation_host}),
        {"Content-Type": "application/json"},
    )


@pytest_asyncio.fixture
async def good_setup(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    bridge_config_path: Path,
    appservice_port: int,
    web_server: WebServer,
    tmp_path: Path,
) -> Setup:
    """Everything right: the bridge's public address is its own listener (no proxy)."""
    serve_delegation(web_server, synapse.url, synapse.url.removeprefix("http://"))
    overrides: dict[str, Any] = {
        "homeserver.address": synapse.url,
        "bridge.guilds": f"[{sandbox_guild.guild.id}]",
        "bridge.public_address": f"http://127.0.0.1:{appservice_port}",
        "appservice.database.url": f"sqlite:{tmp_path / 'bridge.db'}",
        **sandbox_guild.bridge_overrides(),
    }
    return Setup(bridge_config_path, overrides, web_server)


def line(report: str, label: str) -> str:
    """The report's line for ``label`` (fails the test when there is none)."""
    for text in report.splitlines():
        if text[2:].startswith((label + ":", label + " ")):
            return text
    pytest.fail(f"no line for {label!r} in:\n{report}")
