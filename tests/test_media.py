"""The media repository: Discord files to mxc URIs, once each, from allowed hosts only."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from bridge.app import Bridge
from bridge.matrix.media import MediaError, MediaRepo, allowed_media_hosts
from bridge.sandbox.discord.cdn import solid_png
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow
RED = solid_png(200, 0, 0)


async def test_media_repo_refuses_other_hosts_big_files_and_missing_files(
    running_bridge: Bridge,
    sandbox_guild: SandboxGuild,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert running_bridge.appservice and running_bridge.database
    tables = running_bridge.database.tables
    bot = running_bridge.appservice.intent
    uploaded: list[int] = []
    upload_media = bot.upload_media

    async def counting_upload(data: bytes, *args: Any, **kwargs: Any) -> Any:
        uploaded.append(len(data))
        return await upload_media(data, *args, **kwargs)

    monkeypatch.setattr(bot, "upload_media", counting_upload)
    hosts = allowed_media_hosts(running_bridge.config)
    assert {"cdn.discordapp.com", "media.discordapp.net"} <= hosts
    cdn = sandbox_guild.emulator.cdn_url
    owner = sandbox_guild.emulator.store.create_user("pic", avatar=RED)
    url = f"{cdn}/avatars/{owner.id}/{owner.avatar}.png?size=64"

    repo = MediaRepo(tables, hosts, max_size=len(RED) - 1)
    try:
        for bad in (
            "https://example.com/cat.png",
            "http://127.0.0.1:1/cat.png",
            "file:///etc/passwd",
        ):
            with pytest.raises(MediaError, match="not a"):
                await repo.upload_from_url(bad, bot)
        with pytest.raises(MediaError, match=f"larger than the limit of {len(RED) - 1} bytes"):
            await repo.upload_from_url(url, bot)
        with pytest.raises(MediaError, match="HTTP 404"):
            await repo.upload_from_url(f"{cdn}/avatars/{owner.id}/nope.png", bot)
    finally:
        await repo.close()
    assert uploaded == [] and await tables.media.get(url) is None

    repo = MediaRepo(tables, hosts, max_size=len(RED))
    try:
        row = await repo.upload_from_url(url, bot)
        again = await repo.upload_from_url(url.replace("size=64", "size=4096"), bot)
        assert again == row and row.mimetype == "image/png" and row.size == len(RED)
        assert uploaded == [len(RED)]  # once, for both sizes
    finally:
        await repo.close()


async def test_media_repo_stops_a_stream_beyond_the_limit(running_bridge: Bridge) -> None:
    """A server that does not announce the size is cut off once the limit is passed."""
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        await response.prepare(request)
        for _ in range(1000):
            await response.write(b"x" * 65536)
            sent += 65536
        return response

    app = web.Application()
    app.router.add_get("/attachments/1/2/big.png", endless)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    assert running_bridge.appservice and running_bridge.database
    repo = MediaRepo(running_bridge.database.tables, frozenset({f"127.0.0.1:{port}"}), 100_000)
    try:
        with pytest.raises(MediaError, match="larger than the limit of 100000 bytes"):
            await repo.upload_from_url(
                f"http://127.0.0.1:{port}/attachments/1/2/big.png", running_bridge.appservice.intent
            )
    finally:
        await repo.close()
        await runner.cleanup()
    assert sent < 1000 * 65536
