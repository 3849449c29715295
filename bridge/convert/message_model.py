"""Snapshots of Discord messages, the input of the message converters.

Built from discord.py messages (live relay and API import) or from DiscordChatExporter JSON
(import from exports); converters never see where a message came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from .model import MemberSnapshot, UserSnapshot


class MessageType(IntEnum):
    """Discord message types the bridge treats specially (others are relayed as text)."""

    DEFAULT = 0
    RECIPIENT_ADD = 1
    RECIPIENT_REMOVE = 2
    CALL = 3
    CHANNEL_NAME_CHANGE = 4
    CHANNEL_ICON_CHANGE = 5
    CHANNEL_PINNED_MESSAGE = 6
    USER_JOIN = 7
    GUILD_BOOST = 8
    GUILD_BOOST_TIER_1 = 9
    GUILD_BOOST_TIER_2 = 10
    GUILD_BOOST_TIER_3 = 11
    CHANNEL_FOLLOW_ADD = 12
    THREAD_CREATED = 18
    REPLY = 19
    CHAT_INPUT_COMMAND = 20
    THREAD_STARTER_MESSAGE = 21
    CONTEXT_MENU_COMMAND = 23
    POLL_RESULT = 46


class StickerFormat(IntEnum):
    PNG = 1
    APNG = 2
    LOTTIE = 3
    GIF = 4


@dataclass(frozen=True)
class AttachmentSnapshot:
    id: int
    filename: str
    url: str
    size: int
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None  # voice messages
    description: str | None = None  # alt text
    spoiler: bool = False
    voice_message: bool = False


@dataclass(frozen=True)
class StickerSnapshot:
    id: int
    name: str
    format: int
    url: str


@dataclass(frozen=True)
class EmbedFieldSnapshot:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class EmbedSnapshot:
    """A rich embed or a link preview (``type`` "rich", "link", "image", "video", "gifv", …)."""

    type: str = "rich"
    title: str | None = None
    description: str | None = None
    url: str | None = None
    author_name: str | None = None
    author_url: str | None = None
    provider_name: str | None = None
    footer_text: str | None = None
    image_url: str | None = None
    thumbnail_url: str | None = None
    video_url: str | None = None
    color: int | None = None
    fields: tuple[EmbedFieldSnapshot, ...] = ()


@dataclass(frozen=True)
class PollAnswerSnapshot:
    text: str
    emoji: str | None = None  # a unicode emoji, or ":name:" for a custom one
    votes: int | None = None


@dataclass(frozen=True)
class PollSnapshot:
    question: str
    answers: tuple[PollAnswerSnapshot, ...] = ()
    multiple: bool = False
    finished: bool = False


@dataclass(frozen=True)
class ReferenceSnapshot:
    """What a message points at: the message it replies to, or the one it forwards."""

    message_id: int | None
    channel_id: int | None = None
    guild_id: int | None = None
    forward: bool = False


@dataclass(frozen=True)
class ForwardedSnapshot:
    """The content of a forwarded message, as Discord copies it into the forward."""

    content: str = ""
    attachments: tuple[AttachmentSnapshot, ...] = ()
    embeds: tuple[EmbedSnapshot, ...] = ()
    timestamp_ms: int | None = None


@dataclass(frozen=True)
class MentionSnapshot:
    """A user mentioned in the message, with the name Discord shows for them there."""

    user_id: int
    display_name: str


@dataclass(frozen=True)
class MessageSnapshot:
    id: int
    channel_id: int
    author: UserSnapshot
    ghost_id: str  # the author's ghost: a user id, or a webhook author's ghost id
    timestamp_ms: int
    content: str = ""
    type: int = MessageType.DEFAULT
    guild_id: int | None = None
    member: MemberSnapshot | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    edited_ms: int | None = None  # the last edit, ms since the epoch (a Matrix event's ts)
    # The last edit at Discord's full precision, µs since the epoch: what tells edits apart.
    edited_us: int | None = None
    attachments: tuple[AttachmentSnapshot, ...] = ()
    stickers: tuple[StickerSnapshot, ...] = ()
    embeds: tuple[EmbedSnapshot, ...] = ()
    poll: PollSnapshot | None = None
    reference: ReferenceSnapshot | None = None
    forwarded: ForwardedSnapshot | None = None
    mentions: tuple[MentionSnapshot, ...] = ()
    role_mention_ids: tuple[int, ...] = ()
    mention_everyone: bool = False
    pinned: bool = False
    flags: int = 0
    # A thread started from this message (its id equals the message id on Discord).
    thread_id: int | None = None

    @property
    def edit_time_us(self) -> int | None:
        """The last edit in µs since the epoch: `edited_us`, else `edited_ms` (an export's
        precision), None if never edited."""
        if self.edited_us is not None:
            return self.edited_us
        return None if self.edited_ms is None else self.edited_ms * 1000

    @property
    def is_system(self) -> bool:
        return self.type not in (
            MessageType.DEFAULT,
            MessageType.REPLY,
            MessageType.CHAT_INPUT_COMMAND,
            MessageType.CONTEXT_MENU_COMMAND,
            MessageType.THREAD_STARTER_MESSAGE,
        )
