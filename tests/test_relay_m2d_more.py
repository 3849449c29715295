"""More of the Matrix → Discord relay: avatars through the public address, @room with power,
files over the limit, and history that is not relayed."""

from __future__ import annotations

import re
from types import SimpleNamespace

import aiohttp
import pytest
from mautrix.types import Event

from bridge.actions.m2d import handle as matrix_to_discord
from bridge.actions.m2d.handle import _after_bridging
from bridge.app import Bridge
from bridge.db.rows import PortalRow
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.store import Message
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, eventually, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig
from tests.fixtures.lounge import Lounge


async def newest(store, channel_id: int, predicate) -> Message | None:  # noqa: ANN001
    return next((m for m in store.history(channel_id, limit=50) if predicate(m)), None)


@pytest.mark.slow
async def test_avatars_and_limits_with_a_public_address(
    make_bridge_config: MakeConfig,
    appservice_port: int,
    community: Community,
    sandbox_guild: SandboxGuild,
    make_matrix_user,  # noqa: ANN001
) -> None:
    bridge = Bridge(
        make_bridge_config(
            {
                "bridge.public_address": f"http://127.0.0.1:{appservice_port}",
                "bridge.limits.max_file_size": 2000,
            }
        )
    )
    await bridge.start()
    try:
        space = (await bridge.guilds.bridge_guild(community.guild_id)).space_room_id
        room = await room_of(bridge, community.channels["lounge"])
        marie = await make_matrix_user(displayname="Marie")
        picture = solid_png(250, 100, 0, size=16)
        avatar = await marie.api.upload_media(picture, mime_type="image/png", filename="me.png")
        await marie.api.set_avatar_url(avatar)
        await marie.join(space)
        await marie.join(room)
        store, channel = sandbox_guild.emulator.store, community.channels["lounge"]

        await marie.send_text(room, "with my face")
        message = await eventually(
            lambda: newest(store, channel, lambda m: m.content == "with my face"), "the message"
        )
        assert message.webhook_avatar_url == bridge.avatars.url_for(avatar)
        async with (
            aiohttp.ClientSession() as session,
            session.get(message.webhook_avatar_url) as response,
        ):
            assert response.status == 200
            assert await response.read() == picture

        big = b"x" * 5000
        mxc = await marie.api.upload_media(big, mime_type="application/zip", filename="big.zip")
        await marie.send(
            room,
            {
                "msgtype": "m.file",
                "body": "big.zip",
                "url": mxc,
                "info": {"size": len(big), "mimetype": "application/zip"},
            },
        )
        too_big = await eventually(
            lambda: newest(store, channel, lambda m: "big.zip" in m.content), "the file's line"
        )
        assert too_big.attachments == []
        # The line links to the file, served by the bridge as a download.
        [link] = re.findall(r"\((http[^)\s]+)\)", too_big.content)
        assert link == bridge.file_links.url_for(str(mxc), "big.zip")
        async with aiohttp.ClientSession() as session:
            async with session.get(link) as response:
                assert response.status == 200
                assert response.headers["Content-Disposition"].startswith("attachment;")
                assert response.content_type == "application/octet-stream"
                assert await response.read() == big
            # Another name for the same file is not signed.
            async with session.get(link.rsplit("/", 1)[0] + "/other.zip") as response:
                assert response.status == 404
    finally:
        await bridge.stop()


@pytest.mark.slow
async def test_room_mention_by_someone_with_power_pings_everyone(
    lounge: Lounge,
    make_matrix_user,
    bot_view: MatrixTestClient,  # noqa: ANN001
) -> None:
    boss = await make_matrix_user(displayname="Boss")
    await boss.join(lounge.space)
    await boss.join(lounge.room)
    levels = await bot_view.state_event(lounge.room, "m.room.power_levels")
    levels["users"][boss.user_id] = 50
    await bot_view.send_state(lounge.room, "m.room.power_levels", levels)
    await boss.send(
        lounge.room,
        {"msgtype": "m.text", "body": "@room meeting now", "m.mentions": {"room": True}},
    )
    message = await eventually(
        lambda: newest(lounge.store, lounge.channel_id, lambda m: "meeting" in m.content),
        "the announcement",
    )
    assert message.content == "@everyone meeting now"
    assert message.mention_everyone


def test_events_from_before_the_room_was_bridged_are_not_relayed() -> None:
    portal = PortalRow(1, live_since=1_700_000_000_000)
    assert not _after_bridging(portal, SimpleNamespace(timestamp=1_699_999_999_999))
    assert _after_bridging(portal, SimpleNamespace(timestamp=1_700_000_000_000))
    assert _after_bridging(PortalRow(1), SimpleNamespace(timestamp=1))


@pytest.mark.slow
async def test_events_kept_when_the_bridge_died_are_relayed_once_after_it(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    make_matrix_user,  # noqa: ANN001
) -> None:
    """A transaction is acknowledged as soon as its events are in the inbox. One that the
    bridge never got to relay (it died) goes out when it starts again, and only once."""
    config = make_bridge_config()
    store, channel = sandbox_guild.emulator.store, community.channels["lounge"]
    first = Bridge(config)
    await first.start()
    try:
        space = (await first.guilds.bridge_guild(community.guild_id)).space_room_id
        room = await room_of(first, channel)
        marie = await make_matrix_user(displayname="Marie")
        await marie.join(space)
        await marie.join(room)
        first.m2d = None  # as if the bridge died right after acknowledging the transaction
        event_id = await marie.send_text(room, "said just before a crash")
        inbox = first.database.tables.matrix_inbox
        await eventually(lambda: inbox.get(event_id), "the event in the inbox")
    finally:
        await first.stop()
    assert await newest(store, channel, lambda m: "just before a crash" in m.content) is None

    second = Bridge(config)
    await second.start()
    try:
        relayed = await eventually(
            lambda: newest(store, channel, lambda m: m.content == "said just before a crash"),
            "the kept message on Discord",
        )
        assert relayed.webhook_id is not None

        async def inbox_empty() -> bool | None:
            return True if not await second.database.tables.matrix_inbox.find() else None

        await eventually(inbox_empty, "an empty inbox")
        # The homeserver pushing it again (it never saw the acknowledgement) changes nothing.
        event = Event.deserialize(await marie.event(room, event_id))
        matrix_to_discord.submit(second.m2d, event)
        await second.m2d.queues.idle()
        copies = [m for m in store.history(channel, limit=50) if "just before a crash" in m.content]
        assert len(copies) == 1
    finally:
        await second.stop()


@pytest.mark.slow
async def test_a_room_held_back_by_discord_does_not_hold_back_the_others(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    make_matrix_user,  # noqa: ANN001
) -> None:
    """Discord lets a webhook post 5 messages per 2 s. A burst in one room waits for that,
    while a message in another room goes out at once (transactions are acknowledged as soon
    as their events are kept, not once relayed)."""
    store = sandbox_guild.emulator.store
    busy, quiet = community.channels["lounge"], community.channels["rules"]
    bridge = Bridge(make_bridge_config())
    await bridge.start()
    try:
        space = (await bridge.guilds.bridge_guild(community.guild_id)).space_room_id
        busy_room, quiet_room = await room_of(bridge, busy), await room_of(bridge, quiet)
        marie = await make_matrix_user(displayname="Marie")
        for room in (space, busy_room, quiet_room):
            await marie.join(room)
        for number in range(8):
            await marie.send_text(busy_room, f"burst {number}")
        # The fifth uses up the webhook's window: the rest of the burst now waits for Discord.
        await eventually(
            lambda: newest(store, busy, lambda m: m.content == "burst 4"), "the burst's fifth"
        )
        await marie.send_text(quiet_room, "meanwhile elsewhere")
        elsewhere = await eventually(
            lambda: newest(store, quiet, lambda m: m.content == "meanwhile elsewhere"),
            "the other room's message",
        )
        held = await eventually(
            lambda: newest(store, busy, lambda m: m.content == "burst 5"), "the burst's sixth"
        )
        # Snowflakes order messages by creation: the other room did not wait for the burst.
        assert elsewhere.id < held.id, "the quiet room waited for the busy one"
        await eventually(lambda: newest(store, busy, lambda m: m.content == "burst 7"), "the end")
    finally:
        await bridge.stop()
