"""DiscordChatExporter JSON objects → the snapshots the live relay makes.

DCE writes ids as strings, enums by their C# names (an unnamed value as its number), dates
as ISO 8601, and — with ``--media`` — local file paths where URLs were. Everything here is
pure but for the file-system checks of ``MediaFiles``; a malformed field raises
``InvalidField``, which ``export_reader`` turns into an ``ExportError`` naming the file.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..convert.d2m.embeds import url_in_content
from ..convert.d2m.puppet import user_ghost_id, webhook_ghost_id
from ..convert.message_model import (
    AttachmentSnapshot,
    EmbedFieldSnapshot,
    EmbedSnapshot,
    ForwardedSnapshot,
    MentionSnapshot,
    MessageSnapshot,
    MessageType,
    ReferenceSnapshot,
    StickerSnapshot,
)
from ..convert.model import ChannelType, MemberSnapshot, UserSnapshot
from .export_values import (
    InvalidField,
    MediaFiles,
    color,
    enum_value,
    flag,
    number,
    obj,
    objects,
    opt_snowflake,
    opt_text,
    snowflake,
    text,
    timestamp_ms,
)
from .model import ChannelInfo, GuildInfo, ImportedReaction, ImportItem

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
STICKER_FORMATS: dict[str, int] = {"Png": 1, "Apng": 2, "Lottie": 3, "Gif": 4}
# DCE replaces a system message's content by a made-up sentence; the notice converters write
# their own, so these go back to what Discord has (a thread's name is lost for good).
NOTICE_FALLBACKS: dict[int, frozenset[str]] = {
    MessageType.CHANNEL_PINNED_MESSAGE: frozenset({"Pinned a message."}),
    MessageType.USER_JOIN: frozenset({"Joined the server."}),
    MessageType.THREAD_CREATED: frozenset({"Started a thread."}),
}
# Discord names a voice message's single audio file so; DCE does not keep the message flag.
VOICE_MESSAGE_NAME = "voice-message.ogg"

_AVATAR_HASH = re.compile(r"^(?:a_)?[0-9a-f]{32}$")
# DCE's downloaded file names: "<name, at most 42 chars>-<5 hex of the URL's hash><.ext>".
_MEDIA_NAME_HASH = re.compile(r"-[0-9a-f]{5}$")
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


def _avatar(url: str | None, media: MediaFiles) -> tuple[str, str, bool] | None:
    """(url or local path, hash, is a guild avatar) of a custom avatar; None for Discord's
    default pictures, as the live side gives no avatar then."""
    if not url:
        return None
    if media.is_local(url):
        path = media.local(url)
        if path is None:
            return None
        stem = _MEDIA_NAME_HASH.sub("", path.stem)
        return (str(path), stem, False) if _AVATAR_HASH.match(stem) else None
    parts = urlsplit(url).path.strip("/").split("/")
    avatar_hash = parts[-1].rsplit(".", 1)[0] if parts else ""
    if not _AVATAR_HASH.match(avatar_hash) or len(parts) < 3 or parts[-3] == "embed":
        return None
    return url, avatar_hash, parts[0] == "guilds"


def user_snapshot(raw: Mapping[str, Any], where: str, media: MediaFiles) -> UserSnapshot:
    return _user(raw, where, _avatar(opt_text(raw, "avatarUrl", where), media))


def _user(raw: Mapping[str, Any], where: str, avatar: tuple[str, str, bool] | None) -> UserSnapshot:
    user_avatar = avatar if avatar is not None and not avatar[2] else None
    return UserSnapshot(
        id=snowflake(raw, "id", where),
        username=text(raw, "name", where),
        avatar_url=user_avatar[0] if user_avatar else None,
        avatar_hash=user_avatar[1] if user_avatar else None,
        is_bot=flag(raw, "isBot", where),
    )


def _is_webhook(raw: Mapping[str, Any]) -> bool:
    """Webhook authors are bots with discriminator 0000 (real bots keep a discriminator;
    people on the new usernames have "0000" too, but are no bots)."""
    return raw.get("isBot") is True and raw.get("discriminator") == "0000"


def _author(
    raw: Mapping[str, Any], where: str, media: MediaFiles
) -> tuple[str, UserSnapshot, MemberSnapshot | None, int | None]:
    """(ghost id, user, member, webhook id), as ``author_snapshot`` makes them live.

    DCE's ``nickname`` is the guild nick, else the global name, else the username: it
    becomes the member's nick when it differs from the username (the name shown in the
    guild's rooms either way). Roles become the member's role ids.
    """
    avatar = _avatar(opt_text(raw, "avatarUrl", where), media)
    user = _user(raw, where, avatar)
    if _is_webhook(raw):
        return webhook_ghost_id(user.id, user.username), user, None, user.id
    guild_avatar = avatar if avatar is not None and avatar[2] else None
    nickname = opt_text(raw, "nickname", where)
    member = MemberSnapshot(
        user_id=user.id,
        role_ids=tuple(
            snowflake(role, "id", f"{where}.roles[{i}]")
            for i, role in enumerate(objects(raw, "roles", where))
        ),
        nick=nickname if nickname and nickname != user.username else None,
        guild_avatar_url=guild_avatar[0] if guild_avatar else None,
        guild_avatar_hash=guild_avatar[1] if guild_avatar else None,
    )
    return user_ghost_id(user.id), user, member, None


def _attachments(
    parent: Mapping[str, Any], where: str, media: MediaFiles, files: dict[int, Path]
) -> tuple[AttachmentSnapshot, ...]:
    result = []
    for i, raw in enumerate(objects(parent, "attachments", where)):
        here = f"{where}.attachments[{i}]"
        attachment_id = snowflake(raw, "id", here)
        url = opt_text(raw, "url", here) or ""
        name = opt_text(raw, "fileName", here) or url.replace("\\", "/").rsplit("/", 1)[-1]
        path = media.local(url)
        if path is not None:
            files[attachment_id] = path
        result.append(
            AttachmentSnapshot(
                id=attachment_id,
                filename=name,
                url=url,
                size=number(raw, "fileSizeBytes", here),
                content_type=mimetypes.guess_type(name)[0],
                spoiler=name.startswith("SPOILER_"),
                voice_message=name == VOICE_MESSAGE_NAME,
            )
        )
    return tuple(result)


def _stickers(
    parent: Mapping[str, Any], where: str, media: MediaFiles, files: dict[int, Path]
) -> tuple[StickerSnapshot, ...]:
    result = []
    for i, raw in enumerate(objects(parent, "stickers", where)):
        here = f"{where}.stickers[{i}]"
        sticker_id = snowflake(raw, "id", here)
        url = opt_text(raw, "sourceUrl", here) or ""
        path = media.local(url)
        if path is not None:
            files[sticker_id] = path
        result.append(
            StickerSnapshot(
                id=sticker_id,
                name=opt_text(raw, "name", here) or "",
                format=enum_value(raw.get("format"), STICKER_FORMATS, 1),
                url=url,
            )
        )
    return tuple(result)


def _image_url(parent: Mapping[str, Any], key: str, where: str, media: MediaFiles) -> str | None:
    """An embed image's original URL (``canonicalUrl``, newer DCE), else what ``url`` holds:
    a web URL, or a usable local file's path."""
    raw = parent.get(key)
    if raw is None:
        return None
    image = obj(raw, f"{where}.{key}")
    canonical = opt_text(image, "canonicalUrl", f"{where}.{key}")
    if canonical and not media.is_local(canonical):
        return canonical
    return media.url_or_path(opt_text(image, "url", f"{where}.{key}"))


def _embed(
    raw: Mapping[str, Any], where: str, content: str, kind: int, media: MediaFiles
) -> EmbedSnapshot:
    """DCE does not keep an embed's type: one whose URL the content shows is taken for the
    link preview Discord made of it (the converter then skips it), a poll result message's
    for its data, any other for a rich embed."""
    url = opt_text(raw, "url", where)
    author = obj(raw["author"], f"{where}.author") if raw.get("author") is not None else {}
    footer = obj(raw["footer"], f"{where}.footer") if raw.get("footer") is not None else {}
    images = objects(raw, "images", where)
    image = _image_url(raw, "image", where, media)
    if image is None and images:
        image = _image_url({"image": images[0]}, "image", f"{where}.images", media)
    if kind == MessageType.POLL_RESULT:
        embed_type = "poll_result"
    elif url and url_in_content(url, content):
        embed_type = "link"
    else:
        embed_type = "rich"
    return EmbedSnapshot(
        type=embed_type,
        title=opt_text(raw, "title", where),
        description=opt_text(raw, "description", where),
        url=url,
        author_name=opt_text(author, "name", f"{where}.author"),
        author_url=opt_text(author, "url", f"{where}.author"),
        footer_text=opt_text(footer, "text", f"{where}.footer"),
        image_url=image,
        thumbnail_url=_image_url(raw, "thumbnail", where, media),
        video_url=_image_url(raw, "video", where, media),
        color=color(raw.get("color")),
        fields=tuple(
            EmbedFieldSnapshot(
                name=opt_text(f, "name", f"{where}.fields[{i}]") or "",
                value=opt_text(f, "value", f"{where}.fields[{i}]") or "",
                inline=flag(f, "isInline", f"{where}.fields[{i}]"),
            )
            for i, f in enumerate(objects(raw, "fields", where))
        ),
    )


def _embeds(
    parent: Mapping[str, Any], where: str, content: str, kind: int, media: MediaFiles
) -> tuple[EmbedSnapshot, ...]:
    return tuple(
        _embed(raw, f"{where}.embeds[{i}]", content, kind, media)
        for i, raw in enumerate(objects(parent, "embeds", where))
    )


def _custom_emoji_file(
    raw: Mapping[str, Any], where: str, media: MediaFiles, files: dict[int, Path]
) -> tuple[int | None, str | None]:
    """(custom emoji id, its image as URL or local path); a unicode emoji has no id, and
    its Twemoji picture is of no use to Matrix."""
    emoji_id = opt_snowflake(raw, "id", where)
    if emoji_id is None:
        return None, None
    image = opt_text(raw, "imageUrl", where)
    path = media.local(image)
    if path is not None:
        files[emoji_id] = path
        return emoji_id, str(path)
    return emoji_id, image if image and not media.is_local(image) else None


def _reactions(
    parent: Mapping[str, Any], where: str, media: MediaFiles, files: dict[int, Path]
) -> tuple[ImportedReaction, ...]:
    """Reactions with whoever DCE listed (``users`` may be missing or shorter than
    ``count``: only those can be imported)."""
    result = []
    for i, raw in enumerate(objects(parent, "reactions", where)):
        here = f"{where}.reactions[{i}]"
        emoji = obj(raw.get("emoji"), f"{here}.emoji")
        emoji_id, image = _custom_emoji_file(emoji, f"{here}.emoji", media, files)
        users: dict[int, UserSnapshot] = {}
        for j, user in enumerate(objects(raw, "users", here)):
            snapshot = user_snapshot(user, f"{here}.users[{j}]", media)
            users.setdefault(snapshot.id, snapshot)
        result.append(
            ImportedReaction(
                emoji=text(emoji, "name", f"{here}.emoji"),
                emoji_id=emoji_id,
                animated=flag(emoji, "isAnimated", f"{here}.emoji"),
                image_url=image,
                users=tuple(users.values()),
            )
        )
    return tuple(result)


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


def _forwarded(
    parent: Mapping[str, Any], where: str, media: MediaFiles, files: dict[int, Path]
) -> ForwardedSnapshot | None:
    raw = parent.get("forwardedMessage")
    if raw is None:
        return None
    here = f"{where}.forwardedMessage"
    forwarded = obj(raw, here)
    content = opt_text(forwarded, "content", here) or ""
    return ForwardedSnapshot(
        content=content,
        attachments=_attachments(forwarded, here, media, files),
        embeds=_embeds(forwarded, here, content, MessageType.DEFAULT, media),
        timestamp_ms=timestamp_ms(forwarded, "timestamp", here),
    )


def _inline_emoji_files(
    parent: Mapping[str, Any], where: str, media: MediaFiles, files: dict[int, Path]
) -> None:
    for i, raw in enumerate(objects(parent, "inlineEmojis", where)):
        _custom_emoji_file(raw, f"{where}.inlineEmojis[{i}]", media, files)


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
    ghost_id, author, member, webhook_id = _author(
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
        attachments=_attachments(raw, where, media, files),
        stickers=_stickers(raw, where, media, files),
        embeds=_embeds(raw, where, content, kind, media),
        reference=_reference(raw, where),
        forwarded=_forwarded(raw, where, media, files),
        mentions=_mentions(raw, where),
        role_mention_ids=tuple(dict.fromkeys(int(i) for i in _ROLE_MENTION.findall(content))),
        pinned=flag(raw, "isPinned", where),
    )
    reactions = _reactions(raw, where, media, files)
    _inline_emoji_files(raw, where, media, files)
    return ImportItem(message=message, reactions=reactions, local_files=files)


def pinned_ids(items: Iterable[ImportItem]) -> tuple[int, ...]:
    return tuple(item.message.id for item in items if item.message.pinned)
