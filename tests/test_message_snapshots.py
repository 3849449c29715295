"""discord.py messages → MessageSnapshot, from payloads the Discord emulator makes.

Messages are created in the emulator's store and serialised by its own payload code (what it
answers over REST and the gateway), each checked against Discord's OpenAPI description, then
parsed by an unmodified discord.py. Fields the emulator does not make (polls, forwards, voice
messages) are added to those payloads in Discord's documented shape and validated the same
way. No server or socket is needed: only the parsing is under test.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import discord
import pytest

from bridge.convert.d2m.puppet import user_ghost_id, webhook_ghost_id
from bridge.convert.message_model import (
    AttachmentSnapshot,
    EmbedFieldSnapshot,
    EmbedSnapshot,
    MentionSnapshot,
    MessageType,
    PollAnswerSnapshot,
    PollSnapshot,
    ReferenceSnapshot,
    StickerFormat,
)
from bridge.discord.message_snapshots import message_snapshot
from bridge.sandbox.discord import payloads_messages
from bridge.sandbox.discord.events import PRIVILEGED_INTENTS, Intents
from bridge.sandbox.discord.store import Attachment, Channel, Guild, Message, Store, User
from tests.emulator.openapi import validate_component

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
VOICE_FLAG = 1 << 13


@dataclass
class World:
    store: Store
    guild: Guild
    channel: Channel
    alice: User  # the owner, nick "Ally"
    bob: User  # a member without nick
    carol: User  # not a member

    def parse(self, msg: Message, **extra: Any) -> discord.Message:
        """The message as a discord.py client receives it (MESSAGE_CREATE), with ``extra``
        fields merged in; the REST shape is validated against the OpenAPI description."""
        rest = payloads_messages.message(self.store, msg)
        rest.update(extra)
        validate_component("MessageResponse", rest)
        data = payloads_messages.message_event(self.store, msg)
        data.update(extra)
        client = discord.Client(intents=discord.Intents.all())
        state = client._connection
        guild_data = self.store.guild_create_payload(
            self.guild.id, intents=Intents.GUILDS | PRIVILEGED_INTENTS, user_id=self.alice.id
        )
        guild = discord.Guild(data=guild_data, state=state)  # type: ignore[arg-type]
        state._add_guild(guild)
        channel = guild.get_channel_or_thread(msg.channel_id)
        assert channel is not None
        return discord.Message(state=state, channel=channel, data=data)  # type: ignore[arg-type]


@pytest.fixture
def world() -> Iterator[World]:
    store = Store()
    alice = store.create_user("alice", global_name="Alice")
    bob = store.create_user("bob", global_name="Bob")
    carol = store.create_user("carol")
    guild = store.create_guild("Test Guild", alice.id)
    guild.members[alice.id].nick = "Ally"
    store.add_member(guild.id, bob.id, join_message=False)
    channel = store.create_channel(guild.id, "chat", emit=False)
    yield World(store, guild, channel, alice, bob, carol)


def test_plain_message_by_a_member(world: World) -> None:
    msg = world.store.create_message(world.channel.id, world.alice.id, "hello **world**")
    world.store.edit_message(world.channel.id, msg.id, content="hello **world**!")
    snap = message_snapshot(world.parse(msg))
    assert snap.id == msg.id and snap.channel_id == world.channel.id
    assert snap.guild_id == world.guild.id
    assert snap.ghost_id == user_ghost_id(world.alice.id)
    assert (snap.author.username, snap.author.global_name) == ("alice", "Alice")
    assert snap.member is not None and snap.member.nick == "Ally"
    assert snap.type == MessageType.DEFAULT
    assert snap.content == "hello **world**!"
    assert snap.timestamp_ms == ((msg.id >> 22) + 1420070400000)
    assert snap.edited_ms is not None and snap.edited_ms >= snap.timestamp_ms
    assert (snap.webhook_id, snap.reference, snap.poll, snap.forwarded) == (None, None, None, None)


def test_two_edits_in_one_millisecond_keep_their_microseconds(world: World) -> None:
    msg = world.store.create_message(world.channel.id, world.alice.id, "draft")
    edits = []
    for microsecond in (250100, 250900):
        when = datetime(2026, 11, 30, 7, 0, 12, microsecond, tzinfo=UTC)
        world.store.edit_message(world.channel.id, msg.id, content="x", edited_at=when)
        edits.append(message_snapshot(world.parse(msg)))
    assert [snap.edited_ms for snap in edits] == [1796022012250, 1796022012250]
    assert [snap.edited_us for snap in edits] == [1796022012250100, 1796022012250900]


def test_attachments_with_spoiler_and_alt_text(world: World) -> None:
    files = [
        Attachment(1, "cat.png", PNG, "image/png", description="a cat", width=64, height=48),
        Attachment(2, "SPOILER_ending.txt", b"it was him", "text/plain"),
    ]
    msg = world.store.create_message(world.channel.id, world.alice.id, attachments=files)
    cat, ending = message_snapshot(world.parse(msg)).attachments
    assert cat == AttachmentSnapshot(
        id=1,
        filename="cat.png",
        url=cat.url,
        size=len(PNG),
        content_type="image/png",
        width=64,
        height=48,
        description="a cat",
    )
    assert cat.url.startswith(world.store.cdn_url)
    assert ending.spoiler and not cat.spoiler
    assert not ending.voice_message


def test_voice_message(world: World) -> None:
    voice = Attachment(3, "voice-message.ogg", b"OggS" + b"\x00" * 20, "audio/ogg")
    msg = world.store.create_message(
        world.channel.id, world.alice.id, attachments=[voice], flags=VOICE_FLAG
    )
    rest = payloads_messages.message(world.store, msg)
    [attachment] = rest["attachments"]
    attachment.update(duration_secs=3.5, waveform=base64.b64encode(bytes(20)).decode())
    [snap] = message_snapshot(world.parse(msg, attachments=[attachment])).attachments
    assert snap.voice_message and snap.duration_seconds == 3.5


def test_stickers(world: World) -> None:
    png = world.store.create_sticker(world.guild.id, "wave", PNG)
    lottie = world.store.create_sticker(world.guild.id, "dance", b'{"v":"5"}', format_type=3)
    msg = world.store.create_message(
        world.channel.id, world.alice.id, sticker_ids=[png.id, lottie.id]
    )
    first, second = message_snapshot(world.parse(msg)).stickers
    assert (first.id, first.name, first.format) == (png.id, "wave", StickerFormat.PNG)
    assert first.url.endswith(f"{png.id}.png")
    assert (second.format, second.url.endswith(".json")) == (StickerFormat.LOTTIE, True)


def test_embeds(world: World) -> None:
    embed = {
        "type": "rich",
        "title": "Release",
        "description": "Now **faster**",
        "url": "https://example.com/r",
        "color": 0x00FF00,
        "author": {"name": "Bot", "url": "https://example.com/bot"},
        "footer": {"text": "CI"},
        "image": {"url": "https://example.com/i.png"},
        "thumbnail": {"url": "https://example.com/t.png"},
        "fields": [{"name": "Status", "value": "ok", "inline": True}],
    }
    preview = {
        "type": "article",
        "url": "https://news.example.com/a",
        "title": "News",
        "provider": {"name": "Example News"},
    }
    msg = world.store.create_message(world.channel.id, world.alice.id, embeds=[embed, preview])
    rich, article = message_snapshot(world.parse(msg)).embeds
    assert rich == EmbedSnapshot(
        type="rich",
        title="Release",
        description="Now **faster**",
        url="https://example.com/r",
        author_name="Bot",
        author_url="https://example.com/bot",
        footer_text="CI",
        image_url="https://example.com/i.png",
        thumbnail_url="https://example.com/t.png",
        color=0x00FF00,
        fields=(EmbedFieldSnapshot("Status", "ok", inline=True),),
    )
    assert (article.type, article.provider_name, article.color) == ("article", "Example News", None)


def _poll_payload(finished: bool) -> dict[str, Any]:
    return {
        "question": {"text": "Lunch?"},
        "answers": [
            {"answer_id": 1, "poll_media": {"text": "Pizza", "emoji": {"id": None, "name": "🍕"}}},
            {"answer_id": 2, "poll_media": {"text": "Salad"}},
        ],
        "expiry": "2030-01-01T00:00:00+00:00",
        "allow_multiselect": True,
        "layout_type": 1,
        "results": {
            "is_finalized": finished,
            "answer_counts": [
                {"id": 1, "count": 3, "me_voted": False},
                {"id": 2, "count": 1, "me_voted": False},
            ],
        },
    }


@pytest.mark.parametrize("finished", [False, True])
def test_poll(world: World, finished: bool) -> None:
    msg = world.store.create_message(world.channel.id, world.alice.id)
    snap = message_snapshot(world.parse(msg, poll=_poll_payload(finished)))
    assert snap.poll == PollSnapshot(
        question="Lunch?",
        answers=(PollAnswerSnapshot("Pizza", "🍕", 3), PollAnswerSnapshot("Salad", None, 1)),
        multiple=True,
        finished=finished,
    )


def test_reply_and_its_ping(world: World) -> None:
    first = world.store.create_message(world.channel.id, world.bob.id, "question")
    reply = world.store.create_message(
        world.channel.id, world.alice.id, "answer", reply_to=first.id
    )
    snap = message_snapshot(world.parse(reply))
    assert snap.type == MessageType.REPLY
    assert snap.reference == ReferenceSnapshot(first.id, world.channel.id, world.guild.id)
    assert MentionSnapshot(world.bob.id, "Bob") in snap.mentions


def test_forward(world: World) -> None:
    original = world.store.create_message(
        world.channel.id,
        world.bob.id,
        "forward me",
        attachments=[Attachment(5, "doc.txt", b"hi", "text/plain")],
    )
    source = payloads_messages.message(world.store, original)
    reference = {
        "type": 1,
        "message_id": str(original.id),
        "channel_id": str(world.channel.id),
        "guild_id": str(world.guild.id),
    }
    forwarded = {
        key: source[key]
        for key in (
            "type",
            "content",
            "embeds",
            "attachments",
            "timestamp",
            "edited_timestamp",
            "flags",
            "components",
            "mentions",
            "mention_roles",
        )
    }
    msg = world.store.create_message(world.channel.id, world.alice.id, message_reference=reference)
    snap = message_snapshot(world.parse(msg, message_snapshots=[{"message": forwarded}]))
    assert snap.reference is not None and snap.reference.forward
    assert snap.reference.message_id == original.id
    assert snap.forwarded is not None
    assert snap.forwarded.content == "forward me"
    assert [a.filename for a in snap.forwarded.attachments] == ["doc.txt"]
    assert snap.forwarded.timestamp_ms == (original.id >> 22) + 1420070400000


def test_mentions_use_the_name_discord_shows(world: World) -> None:
    role = world.store.create_role(world.guild.id, "mods", mentionable=True, emit=False)
    content = f"<@{world.alice.id}> <@{world.bob.id}> <@{world.carol.id}> <@&{role.id}> @everyone"
    msg = world.store.create_message(world.channel.id, world.alice.id, content)
    snap = message_snapshot(world.parse(msg))
    assert set(snap.mentions) == {
        MentionSnapshot(world.alice.id, "Ally"),  # nick
        MentionSnapshot(world.bob.id, "Bob"),  # global name
        MentionSnapshot(world.carol.id, "carol"),  # username (not a member)
    }
    assert snap.role_mention_ids == (role.id,)
    assert snap.mention_everyone


def test_webhook_message(world: World) -> None:
    hook = world.store.create_webhook(world.channel.id, "GitHub", user_id=world.alice.id)
    msg = world.store.create_message(
        world.channel.id, hook.id, "pushed 3 commits", webhook_id=hook.id, webhook_name="GitHub"
    )
    snap = message_snapshot(world.parse(msg))
    assert snap.webhook_id == hook.id
    assert snap.ghost_id == webhook_ghost_id(hook.id, "GitHub")
    assert snap.author.is_bot and snap.member is None


def test_system_message_pinned_and_thread(world: World) -> None:
    msg = world.store.create_message(world.channel.id, world.alice.id, "start here")
    world.store.pin(world.channel.id, msg.id, world.alice.id)
    thread = world.store.create_thread(world.channel.id, "Plans", world.alice.id, message_id=msg.id)
    snap = message_snapshot(world.parse(msg))
    assert snap.pinned
    assert snap.thread_id == thread.id == msg.id
    notices = [
        m for m in world.store.messages.values() if m.type == MessageType.CHANNEL_PINNED_MESSAGE
    ]
    [notice] = notices
    assert message_snapshot(world.parse(notice)).type == MessageType.CHANNEL_PINNED_MESSAGE
