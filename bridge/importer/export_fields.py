"""DiscordChatExporter JSON objects → the snapshots the live relay makes.

DCE writes ids as strings, enums by their C# names (an unnamed value as its number), dates
as ISO 8601, and — with ``--media`` — local file paths where URLs were. Everything here is
pure but for the file-system checks of ``MediaFiles``; a malformed field raises
``InvalidField``, which ``export_reader`` turns into an ``ExportError`` naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..convert.message_model import (
    MentionSnapshot,
    MessageSnapshot,
    MessageType,
    ReferenceSnapshot,
)
from ..convert.model import ChannelType
from .export_authors import export_author
from .export_authors import user_snapshot as user_snapshot
from .export_embeds import embeds, forwarded
from .export_media import STICKER_FORMATS as STICKER_FORMATS
from .export_media import VOICE_MESSAGE_NAME as VOICE_MESSAGE_NAME
from .export_media import attachments, inline_emoji_files, reactions, stickers
from .export_values import (
    InvalidField,
    MediaFiles,
    enum_value,
    flag,
    obj,
    objects,
    opt_snowflake,
    opt_text,
    snowflake,
    text,
    timestamp_ms,
)
from .model import ChannelInfo, GuildInfo, ImportItem

# DCE's MessageKind names (newer DCE versions may name more; unnamed values come as numbers).
MESSAGE_TYPES: dict[str, int] = {
    "Default": MessageType.DEFAULT,
    "RecipientAdd": MessageType.RECIPIENT_ADD,
    "RecipientRemove": MessageType.RECIPIENT_REMOVE,
    "Call": MessageType.CALL,
    "ChannelNameChange": MessageType.CHANNEL_NAME_CHANGE,
    "ChannelIconChange": MessageType.CHANNEL_ICON_CHANGE,
    "ChannelPinnedMessage": MessageType.CHANNEL_PINNED_MESSAGE,
    "GuildMemberJoin": MessageType.USER_JOIN,
    "GuildBoost": MessageType.GUILD_BOOST,
    "GuildBoostTier1": MessageType.GUILD_BOOST_TIER_1,
    "GuildBoostTier2": MessageType.GUILD_BOOST_TIER_2,
    "GuildBoostTier3": MessageType.GUILD_BOOST_TIER_3,
    "ChannelFollowAdd": MessageType.CHANNEL_FOLLOW_ADD,
    "ThreadCreated": MessageType.THREAD_CREATED,
    "Reply": MessageType.REPLY,
    "ChatInputCommand": MessageType.CHAT_INPUT_COMMAND,
    "ThreadStarterMessage": MessageType.THREAD_STARTER_MESSAGE,
    "ContextMenuCommand": MessageType.CONTEXT_MENU_COMMAND,
    "PollResult": MessageType.POLL_RESULT,
}
# DCE's ChannelKind names.
CHANNEL_TYPES: dict[str, int] = {
    "GuildTextChat": ChannelType.TEXT,
    "DirectTextChat": ChannelType.DM,
    "GuildVoiceChat": ChannelType.VOICE,
    "DirectGroupTextChat": ChannelType.GROUP_DM,
    "GuildCategory": ChannelType.CATEGORY,
    "GuildNews": ChannelType.ANNOUNCEMENT,
    "GuildNewsThread": ChannelType.ANNOUNCEMENT_THREAD,
    "GuildPublicThread": ChannelType.PUBLIC_THREAD,
    "GuildPrivateThread": ChannelType.PRIVATE_THREAD,
    "GuildStageVoice": ChannelType.STAGE,
    "GuildDirectory": ChannelType.DIRECTORY,
    "GuildForum": ChannelType.FORUM,
    "GuildMedia": ChannelType.MEDIA,
}
# DCE replaces a system message's content by a made-up sentence; the notice converters write
# their own, so these go back to what Discord has (a thread's name is lost for good).
NOTICE_FALLBACKS: dict[int, frozenset[str]] = {
    MessageType.CHANNEL_PINNED_MESSAGE: frozenset({"Pinned a message."}),
    MessageType.USER_JOIN: frozenset({"Joined the server."}),
    MessageType.THREAD_CREATED: frozenset({"Started a thread."}),
}
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


# --- objects -----------------------------------------------------------------------------


def guild_info(raw: Mapping[str, Any], media: MediaFiles) -> GuildInfo:
    icon = opt_text(raw, "iconUrl", "guild")
    if icon is not None and "/embed/avatars/" in icon:
        icon = None  # DCE's stand-in for a guild without an icon
    return GuildInfo(
        id=opt_snowflake(raw, "id", "guild") or 0,
        name=text(raw, "name", "guild"),
        icon_url=media.url_or_path(icon),
    )


def channel_info(raw: Mapping[str, Any], guild_id: int | None) -> ChannelInfo:
    """``categoryId``/``category`` are a thread's parent channel (DCE's naming predates
    threads), else the channel's category."""
    return ChannelInfo(
        id=snowflake(raw, "id", "channel"),
        name=text(raw, "name", "channel"),
        type=enum_value(raw.get("type"), CHANNEL_TYPES, ChannelType.TEXT),
        guild_id=guild_id,
        parent_id=opt_snowflake(raw, "categoryId", "channel"),
        parent_name=opt_text(raw, "category", "channel"),
        topic=opt_text(raw, "topic", "channel"),
    )


def _mentions(parent: Mapping[str, Any], where: str) -> tuple[MentionSnapshot, ...]:
    seen: dict[int, MentionSnapshot] = {}
    for i, raw in enumerate(objects(parent, "mentions", where)):
        here = f"{where}.mentions[{i}]"
        user_id = snowflake(raw, "id", here)
        name = opt_text(raw, "nickname", here) or opt_text(raw, "name", here) or str(user_id)
        seen.setdefault(user_id, MentionSnapshot(user_id=user_id, display_name=name))
    return tuple(seen.values())


def _reference(parent: Mapping[str, Any], where: str) -> ReferenceSnapshot | None:
    raw = parent.get("reference")
    if raw is None:
        return None
    ref = obj(raw, f"{where}.reference")
    return ReferenceSnapshot(
        message_id=opt_snowflake(ref, "messageId", f"{where}.reference"),
        channel_id=opt_snowflake(ref, "channelId", f"{where}.reference"),
        guild_id=opt_snowflake(ref, "guildId", f"{where}.reference"),
        forward=ref.get("type") == "Forward",
    )


def import_item(
    raw: Mapping[str, Any],
    where: str,
    channel: ChannelInfo,
    media: MediaFiles,
) -> ImportItem:
    """One exported message as the import sends it (``where`` names it in errors)."""
    message_id = snowflake(raw, "id", where)
    where = f"message {message_id}"
    kind = enum_value(raw.get("type"), MESSAGE_TYPES, MessageType.DEFAULT)
    content = opt_text(raw, "content", where) or ""
    if content in NOTICE_FALLBACKS.get(kind, ()):
        content = ""
    ghost_id, author, member, webhook_id = export_author(
        obj(raw.get("author"), f"{where}.author"), f"{where}.author", media
    )
    created = timestamp_ms(raw, "timestamp", where)
    if created is None:
        raise InvalidField(f"{where}.timestamp", "missing")
    files: dict[int, Path] = {}
    message = MessageSnapshot(
        id=message_id,
        channel_id=channel.id,
        author=author,
        ghost_id=ghost_id,
        timestamp_ms=created,
        content=content,
        type=kind,
        guild_id=channel.guild_id,
        member=member,
        webhook_id=webhook_id,
        edited_ms=timestamp_ms(raw, "timestampEdited", where),
        attachments=attachments(raw, where, media, files),
        stickers=stickers(raw, where, media, files),
        embeds=embeds(raw, where, content, kind, media),
        reference=_reference(raw, where),
        forwarded=forwarded(raw, where, media, files),
        mentions=_mentions(raw, where),
        role_mention_ids=tuple(dict.fromkeys(int(i) for i in _ROLE_MENTION.findall(content))),
        pinned=flag(raw, "isPinned", where),
    )
    emoji_files: dict[int, Path] = {}
    message_reactions = reactions(raw, where, media, emoji_files)
    inline_emoji_files(raw, where, media, emoji_files)
    return ImportItem(message, message_reactions, local_files=files, emoji_files=emoji_files)


def pinned_ids(items: Iterable[ImportItem]) -> tuple[int, ...]:
    return tuple(item.message.id for item in items if item.message.pinned)
