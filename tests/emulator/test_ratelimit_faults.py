"""Rate limits (headers, 429, discord.py waiting) and injected REST faults."""

from __future__ import annotations

import time

import aiohttp
import discord

from bridge.sandbox.discord.ratelimit import RateLimitConfig
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild

from .conftest import Bot


async def test_headers_and_429_shape(emulator: DiscordEmulator, bot: Bot, guild: Guild) -> None:
    emulator.ratelimiter.config = RateLimitConfig(routes={"GET /users/@me": (2, 0.5)})
    emulator.ratelimiter.reset()
    try:
        headers = {"Authorization": f"Bot {bot.token}"}
        async with aiohttp.ClientSession() as http:
            statuses = []
            for _ in range(3):
                async with http.get(f"{emulator.api_url}/users/@me", headers=headers) as resp:
                    statuses.append(resp.status)
                    last_headers, body = resp.headers, await resp.json()
        assert statuses == [200, 200, 429]
        assert last_headers["Content-Type"] == "application/json"
        assert (
            last_headers["X-RateLimit-Limit"] == "2"
            and last_headers["X-RateLimit-Remaining"] == "0"
        )
        assert last_headers["X-RateLimit-Scope"] == "user" and "X-RateLimit-Bucket" in last_headers
        assert body["global"] is False and 0 < body["retry_after"] <= 0.5
    finally:
        emulator.ratelimiter.config = RateLimitConfig(enabled=False)


async def test_discord_py_waits_and_succeeds(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    emulator.ratelimiter.config = RateLimitConfig(
        global_limit=1000, routes={"POST /channels/{channel_id}/messages": (2, 0.4)}
    )
    emulator.ratelimiter.reset()
    try:
        channel = await client.fetch_channel(guild.system_channel_id)
        assert isinstance(channel, discord.TextChannel)
        started = time.monotonic()
        sent = [await channel.send(f"n{i}") for i in range(5)]
        elapsed = time.monotonic() - started
    finally:
        emulator.ratelimiter.config = RateLimitConfig(enabled=False)
    assert [m.content for m in sent] == [f"n{i}" for i in range(5)]
    assert elapsed >= 0.7  # two full windows waited for


async def test_global_limit(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    emulator.ratelimiter.config = RateLimitConfig(global_limit=3, global_window=0.3)
    emulator.ratelimiter.reset()
    try:
        started = time.monotonic()
        for _ in range(5):
            await client.fetch_guild(guild.id)
        elapsed = time.monotonic() - started
    finally:
        emulator.ratelimiter.config = RateLimitConfig(enabled=False)
    assert elapsed >= 0.2


async def test_fault_5xx_is_retried(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    emulator.faults.fail_next(1, 502, pattern=r"^GET /guilds/\d+$")
    fetched = await client.fetch_guild(guild.id)  # discord.py retries 5xx after a second
    assert fetched.id == guild.id
    assert not emulator.faults.rules


async def test_fault_error_and_delay(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    emulator.faults.fail_next(None, 403, pattern=r"^GET /users/\d+$")
    try:
        for _ in range(2):
            try:
                await client.fetch_user(client.user.id)  # type: ignore[union-attr]
            except discord.Forbidden:
                pass
            else:
                raise AssertionError("fault not injected")
    finally:
        emulator.faults.clear()
    emulator.faults.delay = 0.2
    started = time.monotonic()
    await client.fetch_guild(guild.id)
    assert time.monotonic() - started >= 0.2
