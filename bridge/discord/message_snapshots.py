"""Snapshots of discord.py messages: copies of what the message converters read, nothing more.

Live relay and API import both go through :func:`message_snapshot`, so the converters never
touch a discord.py object (and DiscordChatExporter imports can build the same snapshots).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import discord

from ..convert.message_model import (
    AttachmentSnapshot,
    EmbedFieldSnapshot,
    EmbedSnapshot,
    ForwardedSnapshot,
    MentionSnapshot,
    MessageSnapshot,
    PollAnswerSnapshot,
    PollSnapshot,
    ReferenceSnapshot,
    StickerSnapshot,
)
from .user_snapshots import author_snapshot, member_snapshot


def _ms(moment: datetime.datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def micros(moment: datetime.datetime) -> int:
    """An aware time as µs since the Unix epoch, exactly (no float rounding).

    Discord's timestamps (ISO 8601) carry microseconds, e.g. ``edited_timestamp``
    ``2024-05-01T12:00:12.250100+00:00``.
    """
    return (moment - _EPOCH) // datetime.timedelta(microseconds=1)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def attachment_snapshot(
    attachment: discord.Attachment, *, voice_flag: bool = False
) -> AttachmentSnapshot:
    """``voice_flag``: the message carries Discord's IS_VOICE_MESSAGE flag, which marks its
    single audio attachment as a voice message even when the waveform is missing."""
    content_type = attachment.content_type
    is_audio = (content_type or "").startswith("audio/")
    return AttachmentSnapshot(
        id=attachment.id,
        filename=attachment.filename,
        url=attachment.url,
        size=attachment.size,
        content_type=content_type,
        width=attachment.width,
        height=attachment.height,
        duration_seconds=attachment.duration,
        description=attachment.description,
        spoiler=attachment.is_spoiler(),
        voice_message=attachment.is_voice_message() or (voice_flag and is_audio),
    )


def embed_snapshot(embed: discord.Embed) -> EmbedSnapshot:
    """Every part of an embed a reader sees; discord.py's proxies give None for missing ones."""
    return EmbedSnapshot(
        type=embed.type or "rich",
        title=embed.title,
        description=embed.description,
        url=embed.url,
        author_name=embed.author.name,
        author_url=embed.author.url,
        provider_name=embed.provider.name,
        footer_text=embed.footer.text,
        image_url=embed.image.url,
        thumbnail_url=embed.thumbnail.url,
        video_url=embed.video.url,
        color=embed.colour.value if embed.colour is not None else None,
        fields=tuple(
            EmbedFieldSnapshot(
                name=field.name or "", value=field.value or "", inline=bool(field.inline)
            )
            for field in embed.fields
        ),
    )


def _emoji_text(emoji: discord.PartialEmoji | discord.Emoji | None) -> str | None:
    if emoji is None:
        return None
    if emoji.id is None:
        return emoji.name  # a unicode emoji
    return f":{emoji.name}:"


def poll_snapshot(poll: discord.Poll) -> PollSnapshot:
    """Vote counts are approximate until the poll is finalised; the converter shows them only
    then."""
    return PollSnapshot(
        question=poll.question or "",
        answers=tuple(
            PollAnswerSnapshot(
                text=answer.text or "", emoji=_emoji_text(answer.emoji), votes=answer.vote_count
            )
            for answer in poll.answers
        ),
        multiple=poll.multiple,
        finished=poll.is_finalised(),
    )


def reference_snapshot(reference: discord.MessageReference) -> ReferenceSnapshot:
    return ReferenceSnapshot(
        message_id=reference.message_id,
        channel_id=reference.channel_id,
        guild_id=reference.guild_id,
        forward=reference.type is discord.MessageReferenceType.forward,
    )


def forwarded_snapshot(snapshot: discord.MessageSnapshot) -> ForwardedSnapshot:
    voice = snapshot.flags.voice
    return ForwardedSnapshot(
        content=snapshot.content,
        attachments=tuple(attachment_snapshot(a, voice_flag=voice) for a in snapshot.attachments),
        embeds=tuple(embed_snapshot(e) for e in snapshot.embeds),
        timestamp_ms=_ms(snapshot.created_at),
    )


def _shown_name(user: discord.abc.User) -> str:
    """The name Discord shows for a user where the message is: nick, global name, username."""
    nick = user.nick if isinstance(user, discord.Member) else None
    return nick or user.global_name or user.name


def _mentions(users: Iterable[discord.abc.User]) -> tuple[MentionSnapshot, ...]:
    seen: dict[int, MentionSnapshot] = {}
    for user in users:
        seen.setdefault(user.id, MentionSnapshot(user_id=user.id, display_name=_shown_name(user)))
    return tuple(seen.values())


def _role_mention_ids(message: discord.Message) -> tuple[int, ...]:
    """Roles mentioned in the content; resolved roles need the guild cache, raw ids do not."""
    ids = dict.fromkeys(message.raw_role_mentions)
    ids.update(dict.fromkeys(role.id for role in message.role_mentions))
    return tuple(ids)


def message_snapshot(message: discord.Message) -> MessageSnapshot:
    """A discord.py message as the converters read it (live events and API history alike)."""
    ghost_id, author = author_snapshot(message)
    member = message.author if isinstance(message.author, discord.Member) else None
    voice = message.flags.voice
    thread = message.thread
    forwarded = message.message_snapshots[0] if message.message_snapshots else None
    return MessageSnapshot(
        id=message.id,
        channel_id=message.channel.id,
        author=author,
        ghost_id=ghost_id,
        timestamp_ms=_ms(message.created_at) or 0,
        content=message.content,
        type=message.type.value,
        guild_id=message.guild.id if message.guild is not None else None,
        member=member_snapshot(member)
        if member is not None and message.webhook_id is None
        else None,
        webhook_id=message.webhook_id,
        application_id=message.application_id,
        edited_ms=_ms(message.edited_at),
        edited_us=micros(message.edited_at) if message.edited_at is not None else None,
        attachments=tuple(attachment_snapshot(a, voice_flag=voice) for a in message.attachments),
        stickers=tuple(
            StickerSnapshot(id=s.id, name=s.name, format=s.format.value, url=s.url)
            for s in message.stickers
        ),
        embeds=tuple(embed_snapshot(e) for e in message.embeds),
        poll=poll_snapshot(message.poll) if message.poll is not None else None,
        reference=reference_snapshot(message.reference) if message.reference else None,
        forwarded=forwarded_snapshot(forwarded) if forwarded is not None else None,
        mentions=_mentions(message.mentions),
        role_mention_ids=_role_mention_ids(message),
        mention_everyone=message.mention_everyone,
        pinned=message.pinned,
        flags=message.flags.value,
        thread_id=thread.id if thread is not None else None,
    )
