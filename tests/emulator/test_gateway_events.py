"""Every dispatch the store emits reaches an unmodified discord.py client as the matching event,
with payloads that validate against Discord's OpenAPI component schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
import pytest_asyncio

from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.gateway_store import emit_thread_list_sync
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import ChannelType, Guild, Store, User

from .conftest import Bot
from .gateway_client import RecordingClient, connected_client
from .openapi import validate_component

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(60)]


@pytest_asyncio.fixture(loop_scope="session")
async def gw(emulator: DiscordEmulator, bot: Bot, guild: Guild) -> AsyncIterator[RecordingClient]:
    async with connected_client(emulator, bot.token) as client:
        yield client


def without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def general(guild: Guild) -> int:
    assert guild.system_channel_id is not None
    return guild.system_channel_id


async def test_message_events(
    emulator: DiscordEmulator, gw: RecordingClient, guild: Guild, owner: User
) -> None:
    store, channel_id = emulator.store, general(guild)
    first = store.create_message(channel_id, owner.id, "hello **world**")
    (message,) = await gw.next_event("message", lambda m: m.id == first.id)
    assert message.content == "hello **world**" and message.author.id == owner.id
    validate_component(
        "MessageResponse", without(gw.dispatches("MESSAGE_CREATE")[-1], "guild_id", "member")
    )
    reply = store.create_message(channel_id, owner.id, "a reply", reply_to=first.id)
    (got,) = await gw.next_event("message", lambda m: m.id == reply.id)
    assert got.reference is not None and got.reference.message_id == first.id

    store.edit_message(channel_id, first.id, content="edited")
    before, after = await gw.next_event("message_edit", lambda b, a: a.id == first.id)
    assert (before.content, after.content) == ("hello **world**", "edited")

    store.delete_message(channel_id, reply.id)
    (deleted,) = await gw.next_event("raw_message_delete", lambda e: e.message_id == reply.id)
    assert deleted.channel_id == channel_id and deleted.guild_id == guild.id

    ids = [store.create_message(channel_id, owner.id, f"bulk {n}").id for n in range(3)]
    store.bulk_delete(channel_id, ids)
    (bulk,) = await gw.next_event("raw_bulk_message_delete", lambda e: e.message_ids == set(ids))
    assert bulk.channel_id == channel_id


async def test_reaction_events(
    emulator: DiscordEmulator, gw: RecordingClient, guild: Guild, owner: User
) -> None:
    store, channel_id = emulator.store, general(guild)
    emoji = store.create_emoji(guild.id, "blob", solid_png(1, 2, 3))
    msg = store.create_message(channel_id, owner.id, "react to me")
    store.add_reaction(channel_id, msg.id, owner.id, "👍")
    (added,) = await gw.next_event("raw_reaction_add", lambda e: e.message_id == msg.id)
    assert str(added.emoji) == "👍" and added.user_id == owner.id
    assert added.member is not None and added.member.id == owner.id
    store.add_reaction(channel_id, msg.id, owner.id, f"blob:{emoji.id}")
    await gw.next_event("raw_reaction_add", lambda e: e.emoji.id == emoji.id)
    store.remove_reaction(channel_id, msg.id, owner.id, "👍")
    (removed,) = await gw.next_event("raw_reaction_remove", lambda e: e.message_id == msg.id)
    assert str(removed.emoji) == "👍"
    store.remove_emoji_reactions(channel_id, msg.id, f"blob:{emoji.id}")
    (cleared,) = await gw.next_event("raw_reaction_clear_emoji", lambda e: e.message_id == msg.id)
    assert cleared.emoji.id == emoji.id
    store.add_reaction(channel_id, msg.id, owner.id, "🎉")
    store.remove_all_reactions(channel_id, msg.id)
    await gw.next_event("raw_reaction_clear", lambda e: e.message_id == msg.id)


async def test_channel_and_thread_events(
    emulator: DiscordEmulator, gw: RecordingClient, guild: Guild, owner: User
) -> None:
    store = emulator.store
    channel = store.create_channel(guild.id, "new-channel", topic="a topic")
    (created,) = await gw.next_event("guild_channel_create", lambda c: c.id == channel.id)
    assert isinstance(created, discord.TextChannel) and created.topic == "a topic"
    validate_component("GuildChannelResponse", gw.dispatches("CHANNEL_CREATE")[-1])
    store.update_channel(channel.id, name="renamed")
    _, after = await gw.next_event("guild_channel_update", lambda b, a: a.id == channel.id)
    assert after.name == "renamed"

    msg = store.create_message(channel.id, owner.id, "pin me")
    store.pin(channel.id, msg.id, owner.id)
    pinned_channel, _ = await gw.next_event(
        "guild_channel_pins_update", lambda c, t: c.id == channel.id
    )
    assert pinned_channel.id == channel.id

    thread = store.create_thread(channel.id, "a thread", owner.id, message_id=msg.id)
    (got,) = await gw.next_event("thread_create", lambda t: t.id == thread.id)
    assert got.name == "a thread" and got.parent_id == channel.id
    validate_component(
        "ThreadResponse", without(gw.dispatches("THREAD_CREATE")[-1], "newly_created")
    )
    store.update_channel(thread.id, archived=True)
    (raw_update,) = await gw.next_event("raw_thread_update", lambda e: e.thread_id == thread.id)
    assert raw_update.data["thread_metadata"]["archived"] is True

    hidden = store.create_thread(channel.id, "synced", owner.id, emit=False)
    emit_thread_list_sync(store, guild.id)
    (joined,) = await gw.next_event("thread_join", lambda t: t.id == hidden.id)
    assert joined.name == "synced"

    store.delete_channel(hidden.id)
    await gw.next_event("raw_thread_delete", lambda e: e.thread_id == hidden.id)
    forum = store.create_channel(guild.id, "forum", ChannelType.FORUM)
    post = store.create_thread(forum.id, "a post", owner.id, content="first")
    (got_post,) = await gw.next_event("thread_create", lambda t: t.id == post.id)
    assert isinstance(got_post.parent, discord.ForumChannel)
    store.delete_channel(channel.id)
    (gone,) = await gw.next_event("guild_channel_delete", lambda c: c.id == channel.id)
    assert gone.name == "renamed"


async def test_guild_member_role_and_expression_events(
    emulator: DiscordEmulator, gw: RecordingClient, guild: Guild
) -> None:
    store: Store = emulator.store
    store.update_guild(guild.id, name="Renamed Guild", description="hi")
    _, after = await gw.next_event("guild_update", lambda b, a: a.id == guild.id)
    assert after.name == "Renamed Guild"

    user = store.create_user("newcomer", avatar=solid_png(9, 9, 9))
    store.add_member(guild.id, user.id, nick="Newbie")
    (member,) = await gw.next_event("member_join", lambda m: m.id == user.id)
    assert member.nick == "Newbie" and member.avatar is not None
    validate_component(
        "GuildMemberResponse", without(gw.dispatches("GUILD_MEMBER_ADD")[-1], "guild_id")
    )

    role = store.create_role(guild.id, "Helpers", color=0x123456)
    (got_role,) = await gw.next_event("guild_role_create", lambda r: r.id == role.id)
    assert got_role.name == "Helpers"
    validate_component("GuildRoleResponse", gw.dispatches("GUILD_ROLE_CREATE")[-1]["role"])
    store.update_role(guild.id, role.id, name="Helpers+")
    _, role_after = await gw.next_event("guild_role_update", lambda b, a: a.id == role.id)
    assert role_after.name == "Helpers+"
    store.update_member(guild.id, user.id, roles=[role.id])
    _, member_after = await gw.next_event("member_update", lambda b, a: a.id == user.id)
    assert [r.id for r in member_after.roles[1:]] == [role.id]
    store.delete_role(guild.id, role.id)
    await gw.next_event("guild_role_delete", lambda r: r.id == role.id)

    store.remove_member(guild.id, user.id)
    await gw.next_event("raw_member_remove", lambda e: e.user.id == user.id)

    emoji = store.create_emoji(guild.id, "party", solid_png(5, 5, 5))
    _, _, emojis = await gw.next_event(
        "guild_emojis_update", lambda g, b, a: any(e.id == emoji.id for e in a)
    )
    validate_component("EmojiResponse", gw.dispatches("GUILD_EMOJIS_UPDATE")[-1]["emojis"][-1])
    assert [e.name for e in emojis] == ["party"]
    sticker = store.create_sticker(guild.id, "Hi", solid_png(7, 7, 7, 32), tags="hi")
    _, _, stickers = await gw.next_event("guild_stickers_update", lambda g, b, a: len(a) == 1)
    assert stickers[0].id == sticker.id
    validate_component(
        "GuildStickerResponse", gw.dispatches("GUILD_STICKERS_UPDATE")[-1]["stickers"][0]
    )


async def test_typing_webhooks_and_interactions(
    emulator: DiscordEmulator, gw: RecordingClient, bot: Bot, guild: Guild, owner: User
) -> None:
    store, channel_id = emulator.store, general(guild)
    store.trigger_typing(channel_id, owner.id)
    (typing,) = await gw.next_event("raw_typing", lambda e: e.channel_id == channel_id)
    assert typing.user_id == owner.id

    store.create_webhook(channel_id, "Hooky")
    (hook_channel,) = await gw.next_event("webhooks_update", lambda c: c.id == channel_id)
    assert hook_channel.guild.id == guild.id

    other_bot, other_app, _ = store.create_bot("Other")
    store.create_interaction(
        other_app.id, owner.id, {"id": "1", "name": "other", "type": 1}, channel_id=channel_id
    )
    store.create_interaction(
        bot.application.id, owner.id, {"id": "2", "name": "ping", "type": 1}, channel_id=channel_id
    )
    (interaction,) = await gw.next_event("interaction", lambda i: True)
    assert interaction.data["name"] == "ping" and interaction.user.id == owner.id
    assert [d["data"]["name"] for d in gw.dispatches("INTERACTION_CREATE")] == ["ping"]


async def test_no_events_from_channels_the_bot_cannot_view(
    emulator: DiscordEmulator, gw: RecordingClient, guild: Guild, owner: User
) -> None:
    """As on Discord: a channel hidden from the bot sends it no messages, reactions or
    typing; once it may view the channel, they come."""
    store = emulator.store
    bot_role = next(r for r in store.guilds[guild.id].roles.values() if r.managed)
    store.update_role(guild.id, bot_role.id, permissions=perms.DEFAULT_EVERYONE)
    hidden = store.create_channel(
        guild.id,
        "staff",
        permission_overwrites=[
            {"id": str(bot_role.id), "type": 0, "allow": "0", "deny": str(perms.VIEW_CHANNEL)}
        ],
    )
    secret = store.create_message(hidden.id, owner.id, "not for bots")
    store.add_reaction(hidden.id, secret.id, owner.id, "👍")
    store.trigger_typing(hidden.id, owner.id)
    visible = store.create_message(general(guild), owner.id, "for everyone")
    await gw.next_event("message", lambda m: m.id == visible.id)
    for name in ("MESSAGE_CREATE", "MESSAGE_REACTION_ADD", "TYPING_START"):
        assert all(d.get("channel_id") != str(hidden.id) for d in gw.dispatches(name)), name

    store.update_channel(hidden.id, permission_overwrites=[])
    shown = store.create_message(hidden.id, owner.id, "now visible")
    await gw.next_event("message", lambda m: m.id == shown.id)
