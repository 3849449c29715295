"""DCE exports → ExportedChannel: a message's authors, types, times, content, files,
stickers, embeds and reactions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.convert.d2m.puppet import user_ghost_id, webhook_ghost_id
from bridge.convert.message_model import (
    AttachmentSnapshot,
    EmbedFieldSnapshot,
    ForwardedSnapshot,
    MentionSnapshot,
    MessageType,
    ReferenceSnapshot,
    StickerFormat,
    StickerSnapshot,
)
from bridge.convert.model import MemberSnapshot, UserSnapshot
from bridge.importer.export_reader import read_export
from bridge.importer.model import ExportedChannel, ImportedReaction
from tests.importer.export_helpers import (
    ALICE_AVATAR,
    ALICE_ID,
    BOB_ID,
    CAROL_ID,
    GENERAL_ID,
    GUILD_ID,
    HELPER_ID,
    HOOK_ID,
    THREAD_ID,
    item,
    one_message,
    variant,
)

# ---- messages: authors ------------------------------------------------------------------------


def test_author_with_nick_roles_and_avatar(general: ExportedChannel) -> None:
    message = item(general, 1200000000000000002).message
    assert message.author == UserSnapshot(
        id=ALICE_ID,
        username="alice",
        avatar_url=f"https://cdn.discordapp.com/avatars/{ALICE_ID}/{ALICE_AVATAR}.png?size=512",
        avatar_hash=ALICE_AVATAR,
    )
    assert message.ghost_id == user_ghost_id(ALICE_ID)
    assert message.member == MemberSnapshot(
        user_id=ALICE_ID, role_ids=(6100000000000000001,), nick="Alice A."
    )
    assert message.webhook_id is None


def test_author_without_nick_or_custom_avatar(general: ExportedChannel) -> None:
    message = item(general, 1200000000000000003).message
    assert message.author == UserSnapshot(id=BOB_ID, username="bob")
    assert message.member == MemberSnapshot(user_id=BOB_ID)


def test_guild_avatar_goes_to_the_member(general: ExportedChannel) -> None:
    message = item(general, 1200000000000000005).message
    assert message.author.avatar_url is None
    assert message.member is not None
    assert message.member.nick == "Caz"
    assert message.member.guild_avatar_hash == "a_fedcba9876543210fedcba9876543210"
    assert message.member.guild_avatar_url is not None
    assert f"/guilds/{GUILD_ID}/users/{CAROL_ID}/avatars/" in message.member.guild_avatar_url


def test_bot_author(general: ExportedChannel) -> None:
    message = item(general, 1200000000000000008).message
    assert message.author.is_bot
    assert message.ghost_id == user_ghost_id(HELPER_ID)
    assert message.webhook_id is None


def test_webhook_author_gets_a_webhook_ghost(general: ExportedChannel) -> None:
    message = item(general, 1200000000000000010).message
    assert message.webhook_id == HOOK_ID
    assert message.ghost_id == webhook_ghost_id(HOOK_ID, "GitHub")
    assert message.author == UserSnapshot(id=HOOK_ID, username="GitHub", is_bot=True)
    assert message.member is None


# ---- messages: types, times, content -----------------------------------------------------------


def test_timestamps_exact_to_the_millisecond(general: ExportedChannel) -> None:
    message = item(general, 1200000000000000002).message
    assert message.timestamp_ms == 1704099660123  # 2024-01-01T09:01:00.123Z
    assert message.edited_ms is None
    edited = item(general, 1200000000000000004).message
    assert edited.timestamp_ms == 1704099780000
    assert edited.edited_ms == 1704099930500


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-01-01T09:01:00.1234567+00:00", 1704099660123),  # .NET's seven digits
        ("2024-01-01T11:01:00+02:00", 1704099660000),  # exported without --utc
        ("2024-01-01T09:01:00Z", 1704099660000),
        ("2024-01-01T09:01:00", 1704099660000),  # naive: taken as UTC
    ],
)
def test_timestamp_forms(tmp_path: Path, written: str, expected: int) -> None:
    assert one_message(tmp_path, timestamp=written).message.timestamp_ms == expected


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("Default", MessageType.DEFAULT),
        ("Reply", MessageType.REPLY),
        ("ChannelPinnedMessage", MessageType.CHANNEL_PINNED_MESSAGE),
        ("GuildMemberJoin", MessageType.USER_JOIN),
        ("ThreadCreated", MessageType.THREAD_CREATED),
        ("ThreadStarterMessage", MessageType.THREAD_STARTER_MESSAGE),
        ("RecipientAdd", MessageType.RECIPIENT_ADD),
        ("Call", MessageType.CALL),
        ("ChannelNameChange", MessageType.CHANNEL_NAME_CHANGE),
        ("ChannelIconChange", MessageType.CHANNEL_ICON_CHANGE),
        ("8", MessageType.GUILD_BOOST),  # .NET writes an enum value without a name as a number
        ("46", MessageType.POLL_RESULT),
        ("NotAKindYet", MessageType.DEFAULT),
    ],
)
def test_message_types(tmp_path: Path, name: str, number: int) -> None:
    message = one_message(tmp_path, type=name).message
    assert message.type == number
    assert type(message.type) is int


def test_missing_type_is_default(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        del data["messages"][0]["type"]

    assert read_export(variant(tmp_path, change)).items[0].message.type == MessageType.DEFAULT


def test_system_fallback_text_is_dropped(general: ExportedChannel) -> None:
    """DCE writes "Pinned a message." and the like; Discord's content is empty there."""
    join = item(general, 1200000000000000001).message
    assert (join.type, join.content) == (MessageType.USER_JOIN, "")
    pin = item(general, 1200000000000000007).message
    assert (pin.type, pin.content) == (MessageType.CHANNEL_PINNED_MESSAGE, "")
    assert pin.reference == ReferenceSnapshot(1200000000000000002, GENERAL_ID, GUILD_ID)
    created = item(general, 1200000000000000011).message
    assert (created.type, created.content) == (MessageType.THREAD_CREATED, "")
    assert created.reference == ReferenceSnapshot(None, THREAD_ID, GUILD_ID)


def test_system_content_that_is_not_the_fallback_stays(tmp_path: Path) -> None:
    message = one_message(tmp_path, type="ThreadCreated", content="Planning").message
    assert message.content == "Planning"


def test_raw_tokens_and_mentions(general: ExportedChannel) -> None:
    message = item(general, 1200000000000000002).message
    assert message.content == "Hello <@2100000000000000002>, welcome! <:wave:3100000000000000001>"
    assert message.mentions == (MentionSnapshot(BOB_ID, "bob"),)
    assert message.pinned
    assert not message.mention_everyone
    reply = item(general, 1200000000000000003).message
    assert reply.mentions == (MentionSnapshot(ALICE_ID, "Alice A."),)


def test_role_mentions_come_from_the_content(general: ExportedChannel) -> None:
    message = item(general, 1200000000000000008).message
    assert message.role_mention_ids == (6100000000000000001,)


def test_reply_reference(general: ExportedChannel) -> None:
    message = item(general, 1200000000000000003).message
    assert message.type == MessageType.REPLY
    assert message.reference == ReferenceSnapshot(1200000000000000002, GENERAL_ID, GUILD_ID)
    assert message.forwarded is None


def test_forward(general: ExportedChannel) -> None:
    message = item(general, 1200000000000000012).message
    assert message.reference == ReferenceSnapshot(
        1200000000000000004, GENERAL_ID, GUILD_ID, forward=True
    )
    assert message.forwarded == ForwardedSnapshot(
        content="Meeting is at 10, not 9", timestamp_ms=1704099780000
    )


def test_mention_without_nickname_uses_the_name(tmp_path: Path) -> None:
    mention = {"id": str(BOB_ID), "name": "bob", "discriminator": "0000", "isBot": False}
    message = one_message(tmp_path, mentions=[mention, mention]).message
    assert message.mentions == (MentionSnapshot(BOB_ID, "bob"),)


# ---- messages: files, stickers, embeds, reactions -----------------------------------------------


def test_attachments_by_url(general: ExportedChannel) -> None:
    found = item(general, 1200000000000000005)
    photo, spoiler = found.message.attachments
    assert photo == AttachmentSnapshot(
        id=4100000000000000001,
        filename="photo.png",
        url=(
            "https://cdn.discordapp.com/attachments/1100000000000000001/4100000000000000001/"
            "photo.png?ex=66000000&is=65f00000&hm=abc123"
        ),
        size=12345,
        content_type="image/png",
    )
    assert (spoiler.filename, spoiler.spoiler, spoiler.content_type) == (
        "SPOILER_ending.jpg",
        True,
        "image/jpeg",
    )
    assert found.local_files == {}


def test_voice_message_by_its_file_name(tmp_path: Path) -> None:
    voice = {"id": "1", "url": "https://cdn/x/voice-message.ogg", "fileName": "voice-message.ogg"}
    [attachment] = one_message(tmp_path, attachments=[voice]).message.attachments
    assert attachment.voice_message and attachment.content_type == "audio/ogg"
    assert attachment.size == 0


def test_sticker(general: ExportedChannel) -> None:
    assert item(general, 1200000000000000006).message.stickers == (
        StickerSnapshot(
            id=5100000000000000001,
            name="Wumpus wave",
            format=StickerFormat.PNG,
            url="https://media.discordapp.net/stickers/5100000000000000001.png",
        ),
    )


@pytest.mark.parametrize(
    ("written", "number"), [("Png", 1), ("Apng", 2), ("Lottie", 3), ("Gif", 4), ("7", 7)]
)
def test_sticker_formats(tmp_path: Path, written: str, number: int) -> None:
    sticker = {"id": "9", "name": "s", "format": written, "sourceUrl": "https://x/9"}
    [found] = one_message(tmp_path, stickers=[sticker]).message.stickers
    assert found.format == number


def test_rich_embed(general: ExportedChannel) -> None:
    [embed] = item(general, 1200000000000000008).message.embeds
    assert embed.type == "rich"
    assert (embed.title, embed.url) == ("Weekly meeting", "https://example.org/meetings/42")
    assert embed.description == "Agenda: **budget**, _rooms_"
    assert embed.color == 0x5865F2
    assert (embed.author_name, embed.author_url) == ("Helper bot", "https://example.org/helper")
    assert embed.footer_text == "Sent by Helper"
    assert embed.thumbnail_url == "https://example.org/thumb.png"  # the canonical URL
    assert embed.image_url is None and embed.video_url is None
    assert embed.fields == (
        EmbedFieldSnapshot("Where", "Room 1", inline=True),
        EmbedFieldSnapshot("When", "<t:1704189600:F>", inline=False),
    )


def test_embed_of_a_link_in_the_content_is_a_preview(general: ExportedChannel) -> None:
    [embed] = item(general, 1200000000000000009).message.embeds
    assert embed.type == "link"
    assert (embed.title, embed.description) == ("An article", "What it says")
    assert embed.color is None and embed.author_name is None and embed.footer_text is None


def test_embed_images_of_older_exports(tmp_path: Path) -> None:
    embed = {
        "title": "",
        "description": "",
        "images": [{"url": "https://example.org/a.png", "width": 1, "height": 1}],
        "fields": [],
    }
    [found] = one_message(tmp_path, embeds=[embed]).message.embeds
    assert found.image_url == "https://example.org/a.png"
    assert (found.title, found.description) == (None, None)


def test_reactions_with_users(general: ExportedChannel) -> None:
    thumbs, party = item(general, 1200000000000000002).reactions
    assert thumbs == ImportedReaction(
        emoji="👍",
        users=(
            UserSnapshot(id=BOB_ID, username="bob"),
            UserSnapshot(id=CAROL_ID, username="carol"),
        ),
    )  # count 3, two users listed: those two are what can be imported
    assert party == ImportedReaction(
        emoji="party",
        emoji_id=3100000000000000002,
        animated=True,
        users=(UserSnapshot(id=BOB_ID, username="bob"),),
    )


def test_reaction_without_users(tmp_path: Path) -> None:
    reaction = {"emoji": {"id": None, "name": "🎉", "isAnimated": False}, "count": 4}
    [found] = one_message(tmp_path, reactions=[reaction]).reactions
    assert found == ImportedReaction(emoji="🎉")
