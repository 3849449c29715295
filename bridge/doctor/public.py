"""Doctor check 6: bridge.public_address reaches the bridge's public routes (the proxy)."""

from __future__ import annotations

import aiohttp

from ..config import Config
from ..web.probe import PATH, probe_body
from .result import CheckResult

LABEL = "public address"
TIMEOUT = aiohttp.ClientTimeout(total=15)


async def check_public_address(session: aiohttp.ClientSession, config: Config) -> CheckResult:
    """GET <bridge.public_address>/_discord_bridge/ping must answer this bridge's probe_body."""
    base = str(config["bridge.public_address"] or "").rstrip("/")
    if not base:
        return CheckResult.skip(LABEL, "not set: avatars on Discord and large-file links are off")
    url = base + PATH
    fix = (
        f"make the reverse proxy pass {base}/_discord_bridge/ (all paths under it) to "
        f"appservice.hostname:appservice.port ({config['appservice.hostname']}:"
        f"{config['appservice.port']}), or correct bridge.public_address"
    )
    try:
        async with session.get(url, timeout=TIMEOUT) as response:
            status = response.status
            body = await response.json(content_type=None) if status == 200 else None
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
        return CheckResult.fail(LABEL, f"GET {url} failed: {error or type(error).__name__}", fix)
    if status != 200:
        return CheckResult.fail(LABEL, f"GET {url} answered {status}, not the bridge", fix)
    if body != probe_body(config["appservice.id"]):
        return CheckResult.fail(
            LABEL, f"GET {url} answered {body!r}, not this bridge ({config['appservice.id']})", fix
        )
    return CheckResult.ok(LABEL, f"{base} serves the bridge's routes")
