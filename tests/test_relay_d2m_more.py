"""More of the Discord → Matrix relay: emoji, stickers, image packs, webhooks, typing,
embed-only updates, bulk deletion, resends and catching up after a restart."""

from __future__ import annotations

import asyncio

import pytest

from bridge.actions.d2m.routing import destination
from bridge.app import Bridge
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow


async def test_custom_emoji_inline_in_reactions_and_in_the_image_pack(
    lounge: Lounge, sandbox_guild: SandboxGuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    guild_id = lounge.community.guild_id
    emoji = lounge.store.create_emoji(guild_id, "party", solid_png(255, 0, 255))
    message = lounge.store.create_message(
        lounge.channel_id, lounge.user("alice"), f"time to <:party:{emoji.id}>"
    )
    event = await lounge.wait_for(lambda e: "time to" in e["content"].get("body", ""), "emoji")
    assert event["content"]["body"] == "time to :party:"
    assert 'data-mx-emoticon src="mxc://' in event["content"]["formatted_body"]

    lounge.store.add_reaction(
        lounge.channel_id, message.id, lounge.user("bob"), f"party:{emoji.id}"
    )
    reaction = await lounge.wait_for(
        lambda e: e["content"]["m.relates_to"]["event_id"] == event["event_id"],
        "the custom reaction",
        event_type="m.reaction",
    )
    assert reaction["content"]["m.relates_to"]["key"].startswith("mxc://")
    assert reaction["content"]["com.beeper.reaction.shortcode"] == ":party:"

    async def pack() -> dict | None:
        older = await lounge.viewer.state_event(lounge.room, "im.ponies.room_emotes")
        stable = await lounge.viewer.state_event(lounge.room, "m.room.image_pack")
        if older and stable and "party" in older.get("images", {}) and stable == older:
            return older
        return None

    content = await eventually(pack, "the guild's emoji in the room's image pack (both types)")
    assert content["images"]["party"]["url"].startswith("mxc://")

    # The emoji again: its upload is remembered, not looked up in the database again.
    assert lounge.bridge.guilds is not None
    await lounge.bridge.guilds.wait_idle()
    media = lounge.bridge.database.tables.media
    lookups = []
    get = media.get

    async def counted_get(*key: object) -> object:
        lookups.append(key)
        return await get(*key)

    monkeypatch.setattr(media, "get", counted_get)
    lounge.store.create_message(lounge.channel_id, lounge.user("bob"), f"<:party:{emoji.id}> again")
    await lounge.wait_for(lambda e: e["content"].get("body") == ":party: again", "the emoji again")
    assert lookups == []


async def test_a_sticker_is_an_m_sticker(lounge: Lounge) -> None:
    sticker = lounge.store.create_sticker(
        lounge.community.guild_id, "wave", solid_png(0, 200, 0), tags="wave"
    )
    lounge.store.create_message(
        lounge.channel_id, lounge.user("carol"), "", sticker_ids=[sticker.id]
    )
    event = await lounge.wait_for(lambda e: True, "the sticker", event_type="m.sticker")
    assert event["content"]["body"] == "wave"
    assert event["content"]["url"].startswith("mxc://")


async def test_other_webhooks_get_a_ghost_per_name(lounge: Lounge) -> None:
    webhook = lounge.store.create_webhook(lounge.channel_id, "GitHub")
    for name in ("CI bot", "Release bot"):
        lounge.store.create_message(
            lounge.channel_id,
            webhook.id,
            f"hello from {name}",
            webhook_id=webhook.id,
            webhook_name=name,
        )
    first = await lounge.wait_for(lambda e: e["content"].get("body") == "hello from CI bot", "1")
    second = await lounge.wait_for(
        lambda e: e["content"].get("body") == "hello from Release bot", "2"
    )
    assert first["sender"] != second["sender"]
    assert first["sender"].startswith("@discord_w")
    profile = await lounge.viewer.api.get_profile(first["sender"])
    assert profile.displayname.startswith("CI bot")


async def test_typing_shows_on_the_ghost(lounge: Lounge, matrix_user: MatrixTestClient) -> None:
    await matrix_user.join(lounge.space)
    await matrix_user.join(lounge.room)
    since = (await matrix_user.api.sync(timeout=0))["next_batch"]
    lounge.store.trigger_typing(lounge.channel_id, lounge.user("alice"))

    async def typing() -> bool | None:
        nonlocal since
        # Incremental syncs: Synapse may serve a cached answer to a repeated initial sync.
        sync = await matrix_user.api.sync(since=since, timeout=1000)
        since = sync["next_batch"]
        room = sync.get("rooms", {}).get("join", {}).get(lounge.room, {})
        for event in room.get("ephemeral", {}).get("events", []):
            if (
                event["type"] == "m.typing"
                and ghost(lounge.user("alice")) in event["content"]["user_ids"]
            ):
                return True
        return None

    await eventually(typing, "alice's ghost to be typing")


async def test_an_update_without_an_edit_sends_nothing(lounge: Lounge) -> None:
    message = lounge.store.create_message(
        lounge.channel_id, lounge.user("alice"), "see https://example.org"
    )
    await lounge.event_of(message.id)
    lounge.store.resolve_embeds(
        lounge.channel_id,
        message.id,
        [{"type": "link", "url": "https://example.org", "title": "Example"}],
    )
    marker = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "marker")
    await lounge.event_of(marker.id)
    edits = [
        e
        for e in await lounge.events()
        if e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace"
    ]
    assert edits == []


async def test_bulk_deletion_redacts_every_message(lounge: Lounge) -> None:
    ids = [
        lounge.store.create_message(lounge.channel_id, lounge.user("bob"), f"spam {i}").id
        for i in range(3)
    ]
    events = [await lounge.event_of(message_id) for message_id in ids]
    lounge.store.bulk_delete(lounge.channel_id, ids)

    async def all_redacted() -> bool | None:
        for event_id in events:
            event = await lounge.viewer.event(lounge.room, event_id)
            if "redacted_because" not in event.get("unsigned", {}):
                return None
        return True

    await eventually(all_redacted, "every deleted message to be redacted")


async def test_a_resend_is_deduplicated_by_its_transaction_id(lounge: Lounge) -> None:
    from bridge.actions.d2m.messages import relay_new
    from bridge.discord.message_snapshots import message_snapshot

    message = lounge.store.create_message(lounge.channel_id, lounge.user("alice"), "only once")
    event_id = await lounge.event_of(message.id)
    # Forget the mapping, as if the bridge had crashed after sending, then send again.
    await lounge.bridge.database.tables.message_parts.delete(message.id, 0)
    channel = lounge.bridge.discord.get_channel(lounge.channel_id)
    fetched = await channel.fetch_message(message.id)
    where = await destination(
        lounge.bridge.database.tables, lounge.bridge.discord, lounge.channel_id
    )
    rows = await relay_new(lounge.bridge.relay, message_snapshot(fetched), where, False)
    assert rows[0].event_id == event_id
    bodies = [
        e["content"]["body"]
        for e in await lounge.events()
        if e["content"].get("body") == "only once"
    ]
    assert bodies == ["only once"]


async def test_messages_sent_while_the_bridge_was_down_arrive_after_a_restart(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> None:
    store = sandbox_guild.emulator.store
    channel_id = community.channels["lounge"]
    bridge = Bridge(make_bridge_config())
    await bridge.start()
    try:
        await bridge.guilds.bridge_guild(community.guild_id)
        room = await room_of(bridge, channel_id)
        first = store.create_message(channel_id, community.users["alice"], "before the restart")
        await eventually(lambda: _mapped(bridge, first.id), "the first message")
    finally:
        await bridge.stop()
    missed = [
        store.create_message(channel_id, community.users["bob"], f"missed {i}").id for i in range(3)
    ]
    bridge = Bridge(make_bridge_config())
    await bridge.start()
    try:
        for message_id in missed:  # caught up in the background, before live events
            await eventually(
                lambda m=message_id: _mapped(bridge, m), f"missed message {message_id}"
            )
        bodies = [
            e["content"].get("body")
            for e in await bot_view.timeline(room, types=["m.room.message"])
        ]
        assert [b for b in bodies if b and b.startswith("missed")] == [
            "missed 0",
            "missed 1",
            "missed 2",
        ]
    finally:
        await bridge.stop()
    await asyncio.sleep(0)


async def _mapped(bridge: Bridge, message_id: int) -> bool | None:
    return True if await bridge.database.tables.message_parts_of(message_id) else None
