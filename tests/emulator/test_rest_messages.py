"""Messages, reactions, pins and threads through an unmodified discord.py client."""

from __future__ import annotations

import io

import discord
import pytest

from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Attachment, Guild, User

from .conftest import Bot


async def _general(client: discord.Client, guild: Guild) -> discord.TextChannel:
    channel = await client.fetch_channel(guild.system_channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_login_and_application(client: discord.Client, bot: Bot) -> None:
    assert client.user is not None and client.user.id == bot.user.id
    info = await client.application_info()
    assert info.id == bot.application.id
    assert info.owner.id == bot.application.owner_id


async def test_send_edit_delete(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    store = emulator.store
    channel = await _general(client, guild)
    msg = await channel.send("hello **world**")
    assert store.messages[msg.id].content == "hello **world**"
    assert msg.author.id == client.user.id  # type: ignore[union-attr]
    edited = await msg.edit(content="changed")
    assert edited.edited_at is not None and store.messages[msg.id].content == "changed"
    fetched = await channel.fetch_message(msg.id)
    assert fetched.content == "changed"
    await msg.delete()
    assert msg.id not in store.messages
    with pytest.raises(discord.NotFound) as info:
        await channel.fetch_message(msg.id)
    assert info.value.code == 10008


async def test_files_are_stored_and_served(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    channel = await _general(client, guild)
    msg = await channel.send(
        "with file",
        files=[discord.File(io.BytesIO(b"\x89PNG fake"), "pic.png", description="a picture")],
    )
    [att] = msg.attachments
    assert att.filename == "pic.png" and att.size == 9 and att.description == "a picture"
    assert f"/attachments/{channel.id}/{att.id}/pic.png?ex=" in att.url
    assert await att.read() == b"\x89PNG fake"


async def test_file_size_limit(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    channel = await _general(client, guild)
    emulator.store.max_file_size = 1000
    try:
        with pytest.raises(discord.HTTPException) as info:
            await channel.send(file=discord.File(io.BytesIO(b"x" * 1001), "big.bin"))
    finally:
        emulator.store.max_file_size = 10 * 1024 * 1024
    assert info.value.status == 413 and info.value.code == 40005


async def test_content_too_long_and_empty(client: discord.Client, guild: Guild) -> None:
    channel = await _general(client, guild)
    with pytest.raises(discord.HTTPException) as info:
        await channel.send("x" * 2001)
    assert info.value.status == 400 and info.value.code == 50035
    assert "content" in str(info.value)
    with pytest.raises(discord.HTTPException) as info:
        await client.http.send_message(
            channel.id, params=discord.http.MultipartParameters({}, None, None)
        )  # type: ignore[arg-type]
    assert info.value.code == 50006


async def test_reply_and_mentions(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    store = emulator.store
    channel = await _general(client, guild)
    original = store.create_message(channel.id, guild.owner_id, "question")
    reply = await channel.send(
        f"answer <@{guild.owner_id}>", reference=channel.get_partial_message(original.id)
    )
    assert reply.type == discord.MessageType.reply
    assert reply.reference is not None and reply.reference.message_id == original.id
    assert [u.id for u in reply.mentions] == [guild.owner_id]
    quiet = await channel.send(
        "no ping",
        reference=channel.get_partial_message(original.id),
        allowed_mentions=discord.AllowedMentions(replied_user=False),
    )
    assert quiet.mentions == []


async def test_history_paging(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    from datetime import UTC, datetime, timedelta

    channel = await _general(client, guild)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    ids = emulator.store.seed_history(
        channel.id,
        (
            {
                "author_id": guild.owner_id,
                "timestamp": start + timedelta(minutes=i),
                "content": f"m{i}",
            }
            for i in range(250)
        ),
    )
    newest_first = [m async for m in channel.history(limit=None)]
    assert [m.id for m in newest_first] == list(reversed(ids))
    assert newest_first[-1].created_at == start
    oldest_first = [m.content async for m in channel.history(limit=5, oldest_first=True)]
    assert oldest_first == ["m0", "m1", "m2", "m3", "m4"]
    around = [m.content async for m in channel.history(limit=3, around=discord.Object(ids[100]))]
    assert around == ["m101", "m100", "m99"]
    before = [m.content async for m in channel.history(limit=3, before=discord.Object(ids[10]))]
    assert before == ["m9", "m8", "m7"]
    after = [m.content async for m in channel.history(limit=3, after=discord.Object(ids[10]))]
    assert after == ["m11", "m12", "m13"]  # discord.py turns "after" into oldest first
    # What the API itself returns is newest first, whatever the anchor.
    for anchor in ("before", "after", "around"):
        page = await client.http.logs_from(channel.id, 3, **{anchor: ids[10]})
        assert [int(m["id"]) for m in page] == sorted((int(m["id"]) for m in page), reverse=True)


async def test_reactions(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild, bot: Bot
) -> None:
    store = emulator.store
    channel = await _general(client, guild)
    emoji = store.create_emoji(guild.id, "blob", b"\x89PNG emoji")
    target = store.create_message(channel.id, guild.owner_id, "react to me")
    store.add_reaction(channel.id, target.id, guild.owner_id, "👍")
    msg = await channel.fetch_message(target.id)
    await msg.add_reaction("👍")
    await msg.add_reaction(f"<:blob:{emoji.id}>")
    msg = await channel.fetch_message(target.id)
    counts = {str(r.emoji): (r.count, r.me) for r in msg.reactions}
    assert counts == {"👍": (2, True), f"<:blob:{emoji.id}>": (1, True)}
    users = [u.id async for u in msg.reactions[0].users()]
    assert sorted(users) == sorted([guild.owner_id, bot.user.id])
    await msg.remove_reaction("👍", discord.Object(guild.owner_id))
    await msg.clear_reaction(f"<:blob:{emoji.id}>")
    assert [(r.name, r.user_ids) for r in store.messages[target.id].reactions] == [
        ("👍", [bot.user.id])
    ]
    await msg.clear_reactions()
    assert store.messages[target.id].reactions == []


async def test_pins_make_a_system_message(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    channel = await _general(client, guild)
    msg = await channel.send("pin me")
    await msg.pin()
    pins = [p async for p in channel.pins()]
    assert [p.id for p in pins] == [msg.id]
    last = [m async for m in channel.history(limit=1)][0]
    assert last.type == discord.MessageType.pins_add
    assert last.reference is not None and last.reference.message_id == msg.id
    later = await channel.send("pin me too")
    await later.pin()
    pins = [p async for p in channel.pins()]
    assert [p.id for p in pins] == [later.id, msg.id]  # most recently pinned first
    assert pins[0].pinned_at is not None
    assert [p.id async for p in channel.pins(before=pins[0].pinned_at)] == [msg.id]
    await msg.unpin()
    await later.unpin()
    assert [p async for p in channel.pins()] == []


async def test_pinning_needs_pin_messages_not_manage_messages(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    """Discord split PIN_MESSAGES from MANAGE_MESSAGES (January 2026)."""
    store = emulator.store
    channel = await _general(client, guild)
    msg = await channel.send("pin me")
    bot_role = next(r for r in store.guilds[guild.id].roles.values() if r.managed)
    base = perms.VIEW_CHANNEL | perms.SEND_MESSAGES | perms.READ_MESSAGE_HISTORY
    store.update_role(guild.id, bot_role.id, permissions=base | perms.MANAGE_MESSAGES)
    with pytest.raises(discord.Forbidden) as refused:
        await msg.pin()
    assert refused.value.code == 50013
    store.update_role(guild.id, bot_role.id, permissions=base | perms.PIN_MESSAGES)
    await msg.pin()
    await msg.unpin()
    assert [p async for p in channel.pins()] == []


async def test_bulk_delete_and_typing(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    channel = await _general(client, guild)
    msgs = [await channel.send(f"m{i}") for i in range(3)]
    await channel.delete_messages(msgs)
    assert all(m.id not in emulator.store.messages for m in msgs)
    events: list[str] = []
    unsubscribe = emulator.store.events.subscribe(lambda e: events.append(e.name))
    await channel.typing()
    async with channel.typing():
        pass
    unsubscribe()
    assert events == ["TYPING_START", "TYPING_START"]


async def test_threads(emulator: DiscordEmulator, client: discord.Client, guild: Guild) -> None:
    store = emulator.store
    channel = await _general(client, guild)
    starter = await channel.send("start a thread here")
    thread = await starter.create_thread(name="from message")
    assert thread.id == starter.id
    first = [m async for m in thread.history(limit=5, oldest_first=True)][0]
    assert first.type == discord.MessageType.thread_starter_message
    standalone = await channel.create_thread(
        name="standalone", type=discord.ChannelType.public_thread
    )
    created = [m async for m in channel.history(limit=1)][0]
    assert created.type == discord.MessageType.thread_created
    await standalone.send("inside")
    assert store.channels[standalone.id].message_count == 1
    active = await channel.guild.active_threads()
    assert {t.id for t in active} >= {thread.id, standalone.id}
    await standalone.edit(archived=True)
    archived = [t.id async for t in channel.archived_threads()]
    assert archived == [standalone.id]
    private = await channel.create_thread(name="secret", type=discord.ChannelType.private_thread)
    assert store.channels[private.id].type == 12
    await private.edit(archived=True)
    assert [t.id async for t in channel.archived_threads(private=True)] == [private.id]
    assert [t.id async for t in channel.archived_threads(private=True, joined=True)] == [private.id]
    assert private.id not in {t.id for t in await channel.guild.active_threads()}
    forum = store.create_channel(guild.id, "forum", 15)
    forum_channel = await client.fetch_channel(forum.id)
    assert isinstance(forum_channel, discord.ForumChannel)
    post = await forum_channel.create_thread(name="a post", content="post body")
    assert post.thread.id == post.message.id and post.message.content == "post body"


async def test_voice_messages_polls_and_forwards(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild, owner: User
) -> None:
    store = emulator.store
    channel = await _general(client, guild)
    voice = Attachment(
        store.ids.next(),
        "voice-message.ogg",
        b"OggS",
        "audio/ogg",
        duration_secs=2.5,
        waveform="AAAA",
    )
    spoken = store.create_message(channel.id, owner.id, "", attachments=[voice], flags=1 << 13)
    fetched = await channel.fetch_message(spoken.id)
    assert fetched.flags.voice and fetched.attachments[0].is_voice_message()
    assert fetched.attachments[0].duration == 2.5
    asked = store.create_message(
        channel.id,
        owner.id,
        "",
        poll={
            "question": {"text": "Lunch?"},
            "answers": [{"poll_media": {"text": "Pizza", "emoji": {"name": "🍕"}}}],
            "allow_multiselect": True,
        },
    )
    poll = (await channel.fetch_message(asked.id)).poll
    assert poll is not None and poll.question == "Lunch?" and poll.multiple
    assert [a.text for a in poll.answers] == ["Pizza"]
    forward = store.create_message(
        channel.id,
        owner.id,
        "",
        message_reference={"type": 1, "message_id": spoken.id, "channel_id": channel.id},
    )
    forwarded = await channel.fetch_message(forward.id)
    assert forwarded.reference is not None
    assert forwarded.reference.type is discord.MessageReferenceType.forward
    [copy] = forwarded.message_snapshots
    assert copy.attachments[0].filename == "voice-message.ogg"
