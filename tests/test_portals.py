"""A guild bridged into Synapse: the space tree a human sees, and syncs that send nothing."""

from __future__ import annotations

from typing import Any

import pytest
from mautrix.errors import MatrixRequestError

from bridge.app import Bridge
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import SERVER, Community, ghost, room_of

pytestmark = pytest.mark.slow


async def test_bridged_guild_is_a_space_tree(
    running_bridge: Bridge,
    community: Community,
    matrix_user: MatrixTestClient,
    bot_view: MatrixTestClient,
) -> None:
    assert running_bridge.guilds is not None
    result = await running_bridge.guilds.bridge_guild(community.guild_id)
    space = result.space_room_id
    rooms = {
        name: await room_of(running_bridge, cid)
        for name, cid in community.channels.items()
        if name != "voice"
    }
    posts = {title: await room_of(running_bridge, pid) for title, pid in community.posts.items()}
    assert community.channels["voice"] not in [
        r.discord_id for r in await running_bridge.database.tables.portals.find()
    ]

    # A human joins the public space and sees the guild as Discord shows it.
    await matrix_user.join(space)
    assert (await matrix_user.state_event(space, "m.room.name"))["name"] == "Sandbox Guild"
    assert (await matrix_user.state_event(space, "m.room.topic"))["topic"] == "A test community"
    avatar = await matrix_user.state_event(space, "m.room.avatar")
    assert avatar and avatar["url"].startswith("mxc://")
    top = await matrix_user.space_children(space)
    assert [child["room_id"] for child in top] == [rooms["general"], rooms["Info"], rooms["Chat"]]

    info_children = await matrix_user.space_children(rooms["Info"])
    assert [c["room_id"] for c in info_children] == [rooms["announcements"], rooms["rules"]]
    # The private channel is not listed for someone who cannot join it.
    chat_children = [c["room_id"] for c in await matrix_user.space_children(rooms["Chat"])]
    assert chat_children == [rooms["lounge"], rooms["help"]]
    help_children = [c["room_id"] for c in await matrix_user.space_children(rooms["help"])]
    assert set(help_children) == set(posts.values())

    # Public channels: joinable by the space's members; the private one: invite only.
    lounge_rule = await bot_view.state_event(rooms["lounge"], "m.room.join_rules")
    assert lounge_rule["join_rule"] == "restricted"
    assert lounge_rule["allow"] == [{"type": "m.room_membership", "room_id": space}]
    assert (await bot_view.state_event(rooms["staff"], "m.room.join_rules"))[
        "join_rule"
    ] == "invite"
    await matrix_user.join(rooms["lounge"])
    with pytest.raises(MatrixRequestError):
        await matrix_user.join(rooms["staff"])

    # Room state: topic, history, alias, bridge info, power levels from Discord roles.
    assert (await matrix_user.state_event(rooms["lounge"], "m.room.topic"))["topic"] == "Talk here"
    history = await matrix_user.state_event(rooms["lounge"], "m.room.history_visibility")
    assert history["history_visibility"] == "shared"
    alias = f"#discord_{community.channels['lounge']}:{SERVER}"
    assert await matrix_user.join(alias) == rooms["lounge"]
    bridge_info = await matrix_user.state_event(
        rooms["lounge"],
        "m.bridge",
        f"discord://discord/{community.guild_id}/{community.channels['lounge']}",
    )
    assert bridge_info["channel"]["id"] == str(community.channels["lounge"])
    assert bridge_info["network"]["id"] == str(community.guild_id)
    levels = (await matrix_user.state_event(rooms["lounge"], "m.room.power_levels"))["users"]
    assert levels[ghost(community.users["alice"])] == 100
    assert levels[ghost(community.users["bob"])] == 50
    assert ghost(community.users["carol"]) not in levels
    # The bot created the room: from room version 12 (MSC4289) its power is implied and not
    # listed; before (conduwuit's default 10), it is listed with 100.
    version = (await matrix_user.state_event(rooms["lounge"], "m.room.create"))["room_version"]
    if int(version) >= 12:
        assert "@discordbot:sandbox.local" not in levels
    else:
        assert levels["@discordbot:sandbox.local"] == 100


async def test_second_sync_with_nothing_changed_sends_nothing(
    running_bridge: Bridge, community: Community
) -> None:
    assert running_bridge.guilds is not None and running_bridge.appservice is not None
    await running_bridge.guilds.bridge_guild(community.guild_id)
    session = running_bridge.appservice.http_session
    sent: list[str] = []
    original = session._request

    async def counting(method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(f"{method} {url}")
        return await original(method, url, *args, **kwargs)

    session._request = counting  # type: ignore[method-assign]
    try:
        guild = running_bridge.discord.get_guild(community.guild_id)
        assert guild is not None
        result = await running_bridge.guilds.sync(guild)
    finally:
        session._request = original  # type: ignore[method-assign]
    assert result.rooms_created == 0 and result.state_events_sent == 0
    assert sent == []
