"""History import from DiscordChatExporter files, as a Matrix client sees the result."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bridge.db.connect import open_database
from bridge.db.url import resolve_database_url
from bridge.importer.export_import import run_export_import
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "importer" / "fixtures"
GUILD_ID = 1000000000000000001
GENERAL, MEDIA = 1100000000000000001, 1100000000000000002


def local_copy(tmp_path: Path, loopback_cdn: str) -> Path:
    """The fixtures, with Discord's CDN URLs pointed at the emulator (nothing leaves the
    machine; those files are simply not found, as when an export's URLs have expired)."""
    target = tmp_path / "exports"
    shutil.copytree(FIXTURES, target)
    for path in target.rglob("*.json"):
        path.write_text(path.read_text().replace("https://cdn.discordapp.com", loopback_cdn))
    return target


async def rooms_and_events(config, ids: list[int]) -> dict[int, str]:  # noqa: ANN001
    database = await open_database(
        resolve_database_url(config["appservice.database.url"], config.directory)
    )
    try:
        return {i: (await database.tables.portals.get(i)).room_id for i in ids}
    finally:
        await database.close()


async def test_exports_of_a_guild_the_bot_cannot_see(
    make_bridge_config: MakeConfig,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    matrix_user: MatrixTestClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exports = local_copy(tmp_path, sandbox_guild.emulator.cdn_url)
    config = make_bridge_config()
    assert await run_export_import(config, [exports]) == 0
    out = capsys.readouterr().out
    assert "#general:" in out and "#media:" in out

    rooms = await rooms_and_events(config, [GENERAL, MEDIA])
    general = await bot_view.timeline(rooms[GENERAL], types=["m.room.message"])
    bodies = [e["content"]["body"] for e in general]
    assert bodies.index("Thanks!") > bodies.index(next(b for b in bodies if b.startswith("Hello")))
    hello = next(e for e in general if e["content"]["body"].startswith("Hello"))
    assert hello["sender"] == "@discord_2100000000000000001:sandbox.local"
    thanks = next(e for e in general if e["content"]["body"] == "Thanks!")
    assert thanks["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == hello["event_id"]
    threaded = [
        e for e in general if e["content"].get("m.relates_to", {}).get("rel_type") == "m.thread"
    ]
    assert threaded, "the thread's messages are a Matrix thread"
    pins = await bot_view.state_event(rooms[GENERAL], "m.room.pinned_events")
    assert pins["pinned"] == [hello["event_id"]]

    media = await bot_view.timeline(rooms[MEDIA], types=["m.room.message"])
    images = [e for e in media if e["content"].get("msgtype") == "m.image"]
    assert images, "the image exported with --media is uploaded from disk"
    local = next((exports / "media").rglob("pixel-*.png"))
    assert await matrix_user.api.download_media(images[0]["content"]["url"]) == local.read_bytes()
    # The custom emoji, inline and as a reaction, come from the export's files (the CDN
    # here has no such emoji: fetched from there, they would have become text).
    emoji_bytes = next((exports / "media").rglob("3100000000000000002-*.png")).read_bytes()
    pixel = next(e for e in media if e["content"]["body"].startswith("A pixel"))
    inline = pixel["content"]["formatted_body"].split('src="', 1)[1].split('"', 1)[0]
    assert await matrix_user.api.download_media(inline) == emoji_bytes
    [reaction] = await bot_view.timeline(rooms[MEDIA], types=["m.reaction"])
    assert await matrix_user.api.download_media(reaction["content"]["m.relates_to"]["key"]) == (
        emoji_bytes
    )
    # A path that leaves the export's folder is never read.
    assert all(
        "hostname" not in e["content"].get("body", "") or "url" not in e["content"] for e in media
    )

    # Running it again does nothing more.
    count = len(general)
    assert await run_export_import(make_bridge_config(), [exports]) == 0
    assert "already imported" in capsys.readouterr().out
    assert len(await bot_view.timeline(rooms[GENERAL], types=["m.room.message"])) == count


async def test_a_file_that_is_not_an_export_is_named(
    make_bridge_config: MakeConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": "world"}')
    assert await run_export_import(make_bridge_config(), [bad]) == 1
    assert "notes.json" in capsys.readouterr().out
