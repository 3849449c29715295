"""Relay cases that depend on options or rarer inputs: captions, Lottie stickers, and on the
Matrix side locations, notices and messages into an existing Discord thread."""

from __future__ import annotations

import json

import pytest

from bridge.app import Bridge
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.store import Attachment
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, eventually, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow


async def test_captions_and_a_lottie_sticker(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> None:
    store, lounge = sandbox_guild.emulator.store, community.channels["lounge"]
    bridge = Bridge(make_bridge_config({"bridge.messages.captions": "true"}))
    await bridge.start()
    try:
        await bridge.guilds.bridge_guild(community.guild_id)
        room = await room_of(bridge, lounge)
        picture = Attachment(
            store.ids.next(), "sunset.png", solid_png(200, 90, 10, size=4), "image/png"
        )
        store.create_message(
            lounge, community.users["alice"], "look at **this**", attachments=[picture]
        )
        lottie = json.dumps(
            {"v": "5.5.2", "fr": 30, "ip": 0, "op": 30, "w": 64, "h": 64, "layers": []}
        )
        sticker = store.create_sticker(community.guild_id, "dance", lottie.encode(), format_type=3)
        store.create_message(lounge, community.users["bob"], "", sticker_ids=[sticker.id])

        async def arrived() -> list | None:
            events = await bot_view.timeline(room, types=["m.room.message", "m.sticker"])
            return events if len(events) >= 2 else None

        events = await eventually(arrived, "the captioned image and the sticker")
    finally:
        await bridge.stop()
    captioned, fallback = events[0]["content"], events[1]
    assert captioned["msgtype"] == "m.image"
    assert captioned["filename"] == "sunset.png"
    assert captioned["body"] == "look at **this**"
    assert captioned["formatted_body"] == "look at <strong>this</strong>"
    # A Lottie sticker has no image to show: a text fallback, not an m.sticker.
    assert fallback["type"] == "m.room.message" and "dance" in fallback["content"]["body"]


async def test_location_notice_and_a_message_into_an_existing_thread(
    lounge: Lounge, make_matrix_user
) -> None:  # noqa: ANN001
    marie = await make_matrix_user(displayname="Marie")
    await marie.join(lounge.space)
    await marie.join(lounge.room)
    await marie.send(
        lounge.room, {"msgtype": "m.location", "body": "The office", "geo_uri": "geo:52.52,13.405"}
    )
    await marie.send(lounge.room, {"msgtype": "m.notice", "body": "an automated note"})
    starter = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "start here")
    thread = lounge.store.create_thread(
        lounge.channel_id, "existing", lounge.user("alice"), message_id=starter.id
    )
    root = await lounge.event_of(starter.id)
    await marie.send(
        lounge.room,
        {
            "msgtype": "m.text",
            "body": "joining the thread",
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": root},
            },
        },
    )

    def find(channel_id: int, predicate) -> object | None:  # noqa: ANN001
        return next((m for m in lounge.store.history(channel_id, limit=50) if predicate(m)), None)

    async def all_arrived() -> bool | None:
        location = find(lounge.channel_id, lambda m: "openstreetmap.org" in m.content)
        notice = find(lounge.channel_id, lambda m: m.content == "an automated note")
        threaded = find(thread.id, lambda m: m.content == "joining the thread")
        return True if location and notice and threaded else None

    await eventually(all_arrived, "the location, the notice and the thread message")
    location = find(lounge.channel_id, lambda m: "openstreetmap.org" in m.content)
    assert "The office" in location.content and "mlat=52.52" in location.content
