"""DiscordChatExporter JSON exports → ExportedChannel, from hand-written exports in DCE's format.

The fixtures are synthetic (made-up people, ids and texts) and laid out as DCE 2.4x writes
JSON with ``--markdown false --utc`` (and ``--media`` for the one under ``media/``).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.convert.d2m.context import MessageContext
from bridge.convert.d2m.message import convert_message
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
from bridge.convert.model import ChannelType, MemberSnapshot, UserSnapshot
from bridge.importer.export_reader import ExportError, find_exports, read_export
from bridge.importer.model import ExportedChannel, ImportedReaction, ImportItem

FIXTURES = Path(__file__).parent / "fixtures"
GENERAL = FIXTURES / "Test Guild - Text Channels - general [1100000000000000001].json"
THREAD = FIXTURES / "Test Guild - Text Channels - general - Planning [1100000000000000050].json"
MEDIA_NAME = "Test Guild - Text Channels - media [1100000000000000002].json"
MEDIA = FIXTURES / "media" / MEDIA_NAME
MEDIA_FILES = FIXTURES / "media" / f"{MEDIA_NAME}_Files"

GUILD_ID = 1000000000000000001
GENERAL_ID = 1100000000000000001
THREAD_ID = 1100000000000000050
ALICE_ID, BOB_ID, HELPER_ID, HOOK_ID, CAROL_ID = (
    2100000000000000001,
    2100000000000000002,
    2100000000000000003,
    2100000000000000004,
    2100000000000000005,
)
ALICE_AVATAR = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def general() -> ExportedChannel:
    return read_export(GENERAL)


def item(export: ExportedChannel, message_id: int) -> ImportItem:
    return next(i for i in export.items if i.message.id == message_id)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def variant(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the general export with ``change`` applied to its data."""
    data = copy.deepcopy(load(GENERAL))
    change(data)
    return write(tmp_path / "variant.json", data)


def one_message(tmp_path: Path, **fields: Any) -> ImportItem:
    """The general export cut to its second message, with ``fields`` replaced."""

    def change(data: dict[str, Any]) -> None:
        message = data["messages"][1]
        message.update(fields)
        data["messages"] = [message]

    [only] = read_export(variant(tmp_path, change)).items
    return only


# ---- the channel, the guild, the order -----------------------------------------------------


def test_guild_and_channel(general: ExportedChannel) -> None:
    assert general.source == GENERAL
    assert general.guild.id == GUILD_ID
    assert general.guild.name == "Test Guild"
    assert general.guild.icon_url is not None
    assert general.guild.icon_url.startswith("https://cdn.discordapp.com/icons/")
    channel = general.channel
    assert (channel.id, channel.name, channel.type) == (GENERAL_ID, "general", ChannelType.TEXT)
    assert channel.guild_id == GUILD_ID
    assert (channel.parent_id, channel.parent_name) == (1050000000000000001, "Text Channels")
    assert channel.topic == "Chat about anything"
    assert general.unresolved_files == ()


def test_messages_oldest_first_and_pins(general: ExportedChannel) -> None:
    ids = [i.message.id for i in general.items]
    assert ids == sorted(ids) and len(ids) == 12
    assert all(i.message.channel_id == GENERAL_ID for i in general.items)
    assert all(i.message.guild_id == GUILD_ID for i in general.items)
    assert general.pinned_ids == (1200000000000000002,)


def test_messages_are_sorted_by_id_whatever_the_file_order(tmp_path: Path) -> None:
    export = read_export(variant(tmp_path, lambda data: data["messages"].reverse()))
    ids = [i.message.id for i in export.items]
    assert ids == sorted(ids)


def test_thread_export_names_its_parent_channel() -> None:
    thread = read_export(THREAD)
    assert thread.channel.id == THREAD_ID
    assert thread.channel.type == ChannelType.PUBLIC_THREAD
    assert (thread.channel.parent_id, thread.channel.parent_name) == (GENERAL_ID, "general")
    assert thread.channel.topic is None
    reply = item(thread, 1200000000000000052).message
    assert reply.channel_id == THREAD_ID
    assert reply.reference == ReferenceSnapshot(1200000000000000051, THREAD_ID, GUILD_ID)


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("GuildTextChat", 0),
        ("GuildNews", 5),
        ("GuildNewsThread", 10),
        ("GuildPublicThread", 11),
        ("GuildPrivateThread", 12),
        ("GuildForum", 15),
        ("GuildMedia", 16),
        ("DirectTextChat", 1),
        ("14", 14),
        ("SomethingNew", 0),
    ],
)
def test_channel_types(tmp_path: Path, name: str, number: int) -> None:
    export = read_export(variant(tmp_path, lambda data: data["channel"].update(type=name)))
    assert export.channel.type == number
    assert type(export.channel.type) is int


def test_channel_without_category(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["channel"].update(categoryId=None, category=None)

    export = read_export(variant(tmp_path, change))
    assert (export.channel.parent_id, export.channel.parent_name) == (None, None)


def test_guild_without_icon(tmp_path: Path) -> None:
    icon = "https://cdn.discordapp.com/embed/avatars/0.png"
    export = read_export(variant(tmp_path, lambda data: data["guild"].update(iconUrl=icon)))
    assert export.guild.icon_url is None


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
        image_url="https://cdn.discordapp.com/emojis/3100000000000000002.gif",
        users=(UserSnapshot(id=BOB_ID, username="bob"),),
    )


def test_reaction_without_users(tmp_path: Path) -> None:
    reaction = {"emoji": {"id": None, "name": "🎉", "isAnimated": False}, "count": 4}
    [found] = one_message(tmp_path, reactions=[reaction]).reactions
    assert found == ImportedReaction(emoji="🎉")


# ---- --media exports -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def media() -> ExportedChannel:
    return read_export(MEDIA)


def test_media_paths_with_either_slash(media: ExportedChannel) -> None:
    pixel = item(media, 1200000000000000101)
    [attachment] = pixel.message.attachments
    assert "\\" in attachment.url  # written with backslashes
    assert pixel.local_files[attachment.id] == (MEDIA_FILES / "pixel-1a2b3.png").resolve()
    sticker_item = item(media, 1200000000000000102)
    [sticker] = sticker_item.message.stickers
    assert "/" in sticker.url
    expected = (MEDIA_FILES / "5100000000000000001-7e8f9.png").resolve()
    assert sticker_item.local_files == {sticker.id: expected}


def test_media_custom_emoji_avatar_and_icon(media: ExportedChannel) -> None:
    pixel = item(media, 1200000000000000101)
    emoji_file = (MEDIA_FILES / "3100000000000000002-4c5d6.png").resolve()
    [reaction] = pixel.reactions
    assert reaction.emoji_id == 3100000000000000002
    assert reaction.image_url == str(emoji_file)
    assert pixel.local_files[3100000000000000002] == emoji_file
    author = pixel.message.author
    assert author.avatar_hash == ALICE_AVATAR
    avatar_file = MEDIA_FILES / f"{ALICE_AVATAR}-9f8e7.png"
    assert author.avatar_url == str(avatar_file.resolve())
    icon_file = MEDIA_FILES / "00112233445566778899aabbccddeeff-0a1b2.png"
    assert media.guild.icon_url == str(icon_file.resolve())


def test_media_download_failure_keeps_the_url(media: ExportedChannel) -> None:
    failed = item(media, 1200000000000000103)
    assert failed.message.attachments[0].url.startswith("https://cdn.discordapp.com/")
    assert failed.local_files == {}


def test_media_path_escaping_the_folder_is_ignored(media: ExportedChannel) -> None:
    crafted = item(media, 1200000000000000104)
    assert crafted.local_files == {}
    assert crafted.message.attachments[0].url == "../../../etc/hostname"
    assert media.unresolved_files == ("../../../etc/hostname",)


def test_inline_emoji_files(tmp_path: Path) -> None:
    (tmp_path / "x.json_Files").mkdir()
    shutil.copy(MEDIA_FILES / "pixel-1a2b3.png", tmp_path / "x.json_Files" / "wave-00000.png")
    emoji = {
        "id": "31",
        "name": "wave",
        "isAnimated": False,
        "imageUrl": "x.json_Files/wave-00000.png",
    }
    found = one_message(tmp_path, inlineEmojis=[emoji])
    assert found.local_files == {31: (tmp_path / "x.json_Files" / "wave-00000.png").resolve()}


def _media_copy(tmp_path: Path, url: str) -> ExportedChannel:
    data = load(MEDIA)
    data["messages"][0]["attachments"][0]["url"] = url
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    return read_export(write(folder / "copy.json", data))


def test_absolute_path_outside_is_ignored_unless_allowed(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "pic.png"
    outside.parent.mkdir()
    shutil.copy(MEDIA_FILES / "pixel-1a2b3.png", outside)
    export = _media_copy(tmp_path, str(outside))
    assert 4100000000000000101 not in item(export, 1200000000000000101).local_files
    assert str(outside) in export.unresolved_files
    allowed = read_export(tmp_path / "export" / "copy.json", media_roots=[outside.parent])
    assert item(allowed, 1200000000000000101).local_files[4100000000000000101] == outside


def test_symlink_out_of_the_folder_is_ignored(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (tmp_path / "export").mkdir()
    os.symlink(secret, tmp_path / "export" / "link.png")
    export = _media_copy(tmp_path, "link.png")
    assert 4100000000000000101 not in item(export, 1200000000000000101).local_files


def test_missing_local_file_is_reported(tmp_path: Path) -> None:
    export = _media_copy(tmp_path, "copy.json_Files\\gone-12345.png")
    assert 4100000000000000101 not in item(export, 1200000000000000101).local_files
    assert "copy.json_Files\\gone-12345.png" in export.unresolved_files


def test_windows_drive_path_is_ignored(tmp_path: Path) -> None:
    export = _media_copy(tmp_path, "C:\\Exports\\media\\pixel.png")
    assert 4100000000000000101 not in item(export, 1200000000000000101).local_files


# ---- the same converters work -----------------------------------------------------------------


def test_converters_take_the_snapshots(general: ExportedChannel) -> None:
    ctx = MessageContext(domain="example.org")
    parts = {i.message.id: convert_message(i.message, ctx) for i in general.items}
    assert parts[1200000000000000001][0].content["body"] == "bob joined the server."
    assert parts[1200000000000000007][0].content["body"] == "Alice A. pinned a message."
    assert parts[1200000000000000011][0].content["body"] == "Alice A. started a thread."
    [preview_skipped] = parts[1200000000000000009]
    assert preview_skipped.content["body"] == "see https://example.org/article"
    assert all(parts.values())


# ---- bad input -------------------------------------------------------------------------------


def _error(path: Path) -> ExportError:
    with pytest.raises(ExportError) as caught:
        read_export(path)
    assert str(path) in str(caught.value)
    assert caught.value.path == path
    assert caught.value.__cause__ is None  # no traceback of the parser for bad input
    return caught.value


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not valid JSON"),
        (b"<html></html>", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[1, 2]", "not a DiscordChatExporter JSON export"),
        (b'{"name": "package.json"}', 'no "guild", "channel", "messages"'),
        (b'{"guild": {}, "channel": {}, "messages": {}}', '"messages" is not an array'),
        (b'{"guild": [], "channel": {}, "messages": []}', '"guild" is not an object'),
    ],
)
def test_not_an_export(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert problem in _error(path).problem


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "no such file" in _error(tmp_path / "nope.json").problem
    assert "folder" in _error(tmp_path).problem


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["messages"][0].pop("id"), "messages[0].id: missing"),
        (lambda d: d["messages"][1].update(id="12ab"), "not an id"),
        (lambda d: d["messages"][1].pop("author"), "message 1200000000000000002.author: missing"),
        (lambda d: d["messages"][1]["author"].pop("id"), ".author.id: missing"),
        (lambda d: d["messages"][1].update(timestamp="yesterday"), ".timestamp: not a date"),
        (lambda d: d["messages"][1].pop("timestamp"), ".timestamp: missing"),
        (lambda d: d["messages"][1].update(attachments={}), ".attachments: not an array"),
        (lambda d: d["messages"][1].update(isPinned="yes"), ".isPinned: not true or false"),
        (lambda d: d["messages"].append("text"), "messages[12]: not an object"),
        (lambda d: d["channel"].pop("id"), "channel.id: missing"),
        (lambda d: d["channel"].pop("name"), "channel.name: missing"),
        (lambda d: d["guild"].pop("name"), "guild.name: missing"),
        (lambda d: d["messages"][1]["reactions"][0].pop("emoji"), ".reactions[0].emoji: missing"),
    ],
)
def test_missing_or_wrong_fields(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], problem: str
) -> None:
    assert problem in _error(variant(tmp_path, change)).problem


# ---- finding exports -------------------------------------------------------------------------


def test_find_exports_in_the_fixtures() -> None:
    found = find_exports([FIXTURES])
    assert found == [GENERAL.resolve(), MEDIA.resolve(), THREAD.resolve()]


def test_find_exports_puts_threads_after_their_parent(tmp_path: Path) -> None:
    shutil.copy(THREAD, tmp_path / "a-thread.json")  # sorts first by name
    shutil.copy(GENERAL, tmp_path / "b-general.json")
    assert [p.name for p in find_exports([tmp_path])] == ["b-general.json", "a-thread.json"]
    # A thread whose parent is not exported is ordered like any channel.
    assert find_exports([tmp_path / "a-thread.json"]) == [(tmp_path / "a-thread.json").resolve()]


def test_find_exports_skips_media_folders_and_other_json(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "all")
    media_folder = tmp_path / "all" / "media" / f"{MEDIA_NAME}_Files"
    shutil.copy(GENERAL, media_folder / "looks-like-an-export.json")
    write(tmp_path / "all" / "package.json", {"name": "x"})
    write(tmp_path / "all" / "list.json", [1, 2])
    (tmp_path / "all" / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "all" / "notes.txt").write_text("hi", encoding="utf-8")
    found = find_exports([tmp_path / "all", tmp_path / "all" / GENERAL.name])
    assert [p.name for p in found] == [GENERAL.name, MEDIA_NAME, THREAD.name]


def test_find_exports_refuses_a_named_file_that_is_not_an_export(tmp_path: Path) -> None:
    path = write(tmp_path / "package.json", {"name": "x"})
    with pytest.raises(ExportError, match="package.json"):
        find_exports([path])
    with pytest.raises(ExportError, match="no such file or folder"):
        find_exports([tmp_path / "missing"])


def test_find_exports_orders_partitions_by_number(tmp_path: Path) -> None:
    for part in (10, 2, 1):
        shutil.copy(GENERAL, tmp_path / f"general [part {part}].json")
    names = [p.name for p in find_exports([tmp_path])]
    assert names == ["general [part 1].json", "general [part 2].json", "general [part 10].json"]


def test_find_exports_reads_exports_laid_out_otherwise(tmp_path: Path) -> None:
    """Messages first (another tool re-wrote the file), or a header longer than the peek."""
    data = load(GENERAL)
    reordered = {"messages": data.pop("messages"), **data}
    first = write(tmp_path / "messages-first.json", reordered)
    data = load(GENERAL)
    data["channel"]["topic"] = "x" * 300_000
    long_header = write(tmp_path / "long-topic.json", data)
    assert set(find_exports([tmp_path])) == {first.resolve(), long_header.resolve()}
    assert read_export(first).channel.id == GENERAL_ID


def test_find_exports_with_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + GENERAL.read_bytes())
    assert find_exports([path]) == [path.resolve()]
    assert read_export(path).channel.id == GENERAL_ID
