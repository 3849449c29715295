"""Looking up everything a Discord message refers to, so its conversion can stay pure.

Mentioned users get their ghosts (lazily created here), custom emoji, attachments and stickers
are uploaded (once each, through the media cache), the replied-to and thread events are found
in the message mappings.
"""

from __future__ import annotations

import asyncio
import logging

from ...convert.d2m.context import (
    ChannelTarget,
    MessageContext,
    ReplyTarget,
    RoleTarget,
    ThreadTarget,
    UploadedMedia,
)
from ...convert.d2m.markdown import custom_emoji_in, mentioned_channel_ids, mentioned_role_ids
from ...convert.message_model import MessageSnapshot, StickerFormat
from ...convert.model import UserSnapshot
from ...db.rows import MessagePartRow
from ...discord.user_snapshots import user_snapshot
from ...matrix.media import MediaError
from .routing import Destination
from .services import RelayServices

log = logging.getLogger("bridge.relay.lookups")


async def message_context(
    services: RelayServices, message: MessageSnapshot, where: Destination
) -> MessageContext:
    """The context for converting ``message`` into the room of ``where``."""
    texts = [message.content]
    texts += [embed.description or "" for embed in message.embeds]
    if message.forwarded:
        texts.append(message.forwarded.content)
    user_mxids, user_names = await _mentioned_users(services, message)
    emoji, media = await _uploads(services, message, texts)
    return MessageContext(
        domain=services.options.domain,
        user_mxids=user_mxids,
        user_names=user_names,
        roles=_roles(services, message, texts, where),
        channels=await _channels(services, texts),
        emoji=emoji,
        media=media,
        reply_to=await reply_target(services, message, where.room_id),
        thread=await thread_target(services, message, where),
        allow_room_mention=services.options.room_mentions,
    )


async def _mentioned_users(
    services: RelayServices, message: MessageSnapshot
) -> tuple[dict[int, str], dict[int, str]]:
    """Who each mention pills to, and the name it shows: a member who linked a Matrix account
    is pilled to that account (so Matrix notifies them, ``m.mentions``), anyone else to their
    ghost, made here if needed."""
    mxids: dict[int, str] = {}
    names: dict[int, str] = {}
    for mention in message.mentions:
        if (linked := services.puppets.links.mxid_for(mention.user_id)) is not None:
            mxids[mention.user_id] = linked
            names[mention.user_id] = mention.display_name
            continue
        cached = services.discord.get_user(mention.user_id)
        user = (
            user_snapshot(cached) if cached else UserSnapshot(mention.user_id, mention.display_name)
        )
        try:
            intent = await services.puppets.ensure(user)
        except Exception as error:  # a mention must not stop the message
            log.warning("Could not create the ghost of mentioned %s: %s", mention.user_id, error)
            continue
        mxids[mention.user_id] = str(intent.mxid)
        names[mention.user_id] = mention.display_name
    return mxids, names


def bracketed(texts: list[str]) -> list[str]:
    """The texts that may hold a mention or a custom emoji: Discord writes every one of them
    in angle brackets (``<@&id>``, ``<#id>``, ``<:name:id>``), so a text without ``<`` is not
    parsed for them (the parse showed in the import's profile; the result is the same)."""
    return [text for text in texts if "<" in text]


def _roles(
    services: RelayServices, message: MessageSnapshot, texts: list[str], where: Destination
) -> dict[int, RoleTarget]:
    guild = services.discord.get_guild(where.guild_id) if where.guild_id else None
    if guild is None:
        return {}
    wanted = set(message.role_mention_ids)
    for text in bracketed(texts):
        wanted.update(mentioned_role_ids(text))
    roles = {}
    for role_id in wanted:
        role = guild.get_role(role_id)
        if role is not None:
            roles[role_id] = RoleTarget(role.name, role.color.value)
    return roles


async def _channels(services: RelayServices, texts: list[str]) -> dict[int, ChannelTarget]:
    targets = {}
    for text in bracketed(texts):
        for channel_id in mentioned_channel_ids(text):
            row = await services.tables.portals.get(channel_id)
            channel = services.discord.get_channel(channel_id)
            name = row.name if row else getattr(channel, "name", None)
            if name is None:
                continue
            targets[channel_id] = ChannelTarget(name, row.room_id if row else None)
    return targets


async def _uploads(
    services: RelayServices, message: MessageSnapshot, texts: list[str]
) -> tuple[dict[int, UploadedMedia], dict[int, UploadedMedia]]:
    """(custom emoji, attachments and stickers) uploaded, in parallel when there are both;
    a message with neither (most) costs no task."""
    with_emoji = bracketed(texts)
    has_media = bool(
        message.attachments
        or message.stickers
        or (message.forwarded and message.forwarded.attachments)
    )
    if with_emoji and has_media:
        return await asyncio.gather(
            _upload_emoji(services, with_emoji), _upload_media(services, message)
        )
    if has_media:
        return {}, await _upload_media(services, message)
    if with_emoji:
        return await _upload_emoji(services, with_emoji), {}
    return {}, {}


async def _upload_emoji(services: RelayServices, texts: list[str]) -> dict[int, UploadedMedia]:
    found: dict[int, UploadedMedia] = {}
    for text in bracketed(texts):
        for emoji_id, name, animated in custom_emoji_in(text):
            if emoji_id in found:
                continue
            uploaded = await upload_custom_emoji(services, emoji_id, name, animated)
            if uploaded:
                found[emoji_id] = uploaded
    return found


async def upload_custom_emoji(
    services: RelayServices, emoji_id: int, name: str, animated: bool
) -> UploadedMedia | None:
    """A custom emoji's image (from Discord's CDN, or an export's copy), uploaded once;
    None (logged) if it failed."""
    ext = "gif" if animated else "png"
    url = (
        services.emoji_images.get(emoji_id) or f"{services.options.cdn_url}/emojis/{emoji_id}.{ext}"
    )
    return await _upload(services, url, f"{name}.{ext}")


async def _upload_media(
    services: RelayServices, message: MessageSnapshot
) -> dict[int, UploadedMedia]:
    """Attachments and stickers, uploaded in parallel; a failed one is left out (a link)."""
    jobs: dict[int, tuple[str, str]] = {a.id: (a.url, a.filename) for a in message.attachments}
    if message.forwarded:
        jobs |= {a.id: (a.url, a.filename) for a in message.forwarded.attachments}
    for sticker in message.stickers:
        if sticker.format != StickerFormat.LOTTIE:
            jobs[sticker.id] = (sticker.url, f"{sticker.name}.png")
    ids = list(jobs)
    results = await asyncio.gather(*(_upload(services, *jobs[i]) for i in ids))
    return {media_id: result for media_id, result in zip(ids, results, strict=True) if result}


async def _upload(services: RelayServices, url: str, filename: str) -> UploadedMedia | None:
    try:
        row = await services.media.upload_from_url(url, services.bot, filename=filename)
    except MediaError as error:
        log.warning("Not uploading %s: %s", url, error)
        return None
    return UploadedMedia(row.mxc, row.mimetype, row.size)


async def first_part(services: RelayServices, discord_message_id: int) -> MessagePartRow | None:
    parts = await services.tables.message_parts_of(discord_message_id)
    return parts[0] if parts else None


async def reply_target(
    services: RelayServices, message: MessageSnapshot, room_id: str | None = None
) -> ReplyTarget | None:
    """The Matrix event a reply points at, and whether a Matrix user posted it (through the
    webhook: its parts are ``matrix:<n>``; a double-puppeted member's own Discord message is
    not, though its sender is a real account).

    None for a message bridged into another room than ``room_id`` (a room the channel's room
    replaced, ``handover``): Matrix replies and relations stay within one room."""
    reference = message.reference
    if reference is None or reference.forward or reference.message_id is None:
        return None
    target = await first_part(services, reference.message_id)
    if target is None or (room_id is not None and target.room_id != room_id):
        return None
    sender = target.sender_mxid
    from_matrix = target.kind.startswith("matrix:")
    return ReplyTarget(target.event_id, sender, from_matrix=from_matrix)


async def thread_target(
    services: RelayServices, message: MessageSnapshot, where: Destination
) -> ThreadTarget | None:
    """For a message of a Discord thread: the Matrix thread root and its newest event.

    A thread started from a message roots on that message (same id). A thread started on its
    own roots on its first bridged message, which is sent as a plain message.
    """
    if where.thread_id is None:
        return None
    root = await first_part(services, where.thread_id)
    if root is not None and root.room_id != where.room_id:
        root = None  # in a room this one replaced (handover): the thread starts again here
    first_in_thread = await services.tables.message_parts.find_one(
        "thread_id = $1 AND room_id = $2 ORDER BY discord_message_id, part LIMIT 1",
        where.thread_id,
        where.room_id,
    )
    if root is None:
        if first_in_thread is None or first_in_thread.discord_message_id == message.id:
            return None
        root = first_in_thread
    latest = await services.tables.message_parts.find_one(
        "thread_id = $1 AND room_id = $2 ORDER BY discord_message_id DESC, part DESC LIMIT 1",
        where.thread_id,
        where.room_id,
    )
    latest = latest or root
    return ThreadTarget(root.event_id, latest.event_id)
