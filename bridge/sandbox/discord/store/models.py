"""Plain records of the emulated Discord state. Ids are ints; times are aware UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..events import Intents


class ChannelType:
    """Discord channel types (only the guild ones are emulated)."""

    TEXT = 0
    VOICE = 2
    CATEGORY = 4
    ANNOUNCEMENT = 5
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    STAGE = 13
    FORUM = 15
    MEDIA = 16

    THREADS = frozenset({10, 11, 12})
    MESSAGEABLE = frozenset({0, 2, 5, 10, 11, 12, 13})
    THREAD_PARENTS = frozenset({0, 5, 15, 16})


class MessageType:
    DEFAULT = 0
    CHANNEL_PINNED_MESSAGE = 6
    USER_JOIN = 7
    THREAD_CREATED = 18
    REPLY = 19
    CHAT_INPUT_COMMAND = 20
    THREAD_STARTER_MESSAGE = 21


@dataclass
class User:
    id: int
    username: str
    global_name: str | None = None
    discriminator: str = "0"
    avatar: str | None = None  # hash of a blob in Store.blobs
    banner: str | None = None
    bot: bool = False
    system: bool = False
    public_flags: int = 0


@dataclass
class Application:
    """A bot's application. ``privileged_intents``: the privileged intents switched on for it."""

    id: int
    name: str
    bot_id: int
    owner_id: int
    token: str
    description: str = ""
    icon: str | None = None
    verify_key: str = ""
    bot_public: bool = True
    privileged_intents: Intents = Intents(0)
    flags: int = 0


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False
    icon: str | None = None
    unicode_emoji: str | None = None
    flags: int = 0
    tags: dict[str, Any] | None = None  # e.g. {"bot_id": "…"} for a bot's managed role


@dataclass
class Member:
    user_id: int
    guild_id: int
    joined_at: datetime
    nick: str | None = None
    roles: list[int] = field(default_factory=list)  # without @everyone
    avatar: str | None = None  # guild avatar hash
    banner: str | None = None
    premium_since: datetime | None = None
    pending: bool = False
    flags: int = 0
    communication_disabled_until: datetime | None = None
    mute: bool = False
    deaf: bool = False


@dataclass
class Emoji:
    id: int
    guild_id: int
    name: str
    animated: bool = False
    roles: list[int] = field(default_factory=list)
    user_id: int | None = None
    require_colons: bool = True
    managed: bool = False
    available: bool = True
    data: bytes = b""
    content_type: str = "image/png"


@dataclass
class Sticker:
    id: int
    guild_id: int
    name: str
    tags: str
    format_type: int = 1  # PNG 1, APNG 2, LOTTIE 3, GIF 4
    description: str | None = None
    available: bool = True
    user_id: int | None = None
    data: bytes = b""


@dataclass
class Ban:
    """A guild ban: the user may not (re)join until unbanned."""

    user_id: int
    reason: str | None = None


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    icon: str | None = None
    banner: str | None = None
    splash: str | None = None
    description: str | None = None
    features: list[str] = field(default_factory=list)
    preferred_locale: str = "en-US"
    system_channel_id: int | None = None
    rules_channel_id: int | None = None
    afk_channel_id: int | None = None
    afk_timeout: int = 300
    verification_level: int = 0
    default_message_notifications: int = 0
    explicit_content_filter: int = 0
    premium_tier: int = 0
    nsfw_level: int = 0
    roles: dict[int, Role] = field(default_factory=dict)  # includes @everyone (id == guild id)
    members: dict[int, Member] = field(default_factory=dict)
    emojis: dict[int, Emoji] = field(default_factory=dict)
    stickers: dict[int, Sticker] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)  # channels and threads, creation order
    bans: dict[int, Ban] = field(default_factory=dict)  # user id → ban


@dataclass
class ThreadMetadata:
    archived: bool = False
    auto_archive_duration: int = 1440
    archive_timestamp: datetime | None = None
    locked: bool = False
    invitable: bool = True
    create_timestamp: datetime | None = None


@dataclass
class ThreadMember:
    user_id: int
    join_timestamp: datetime
    flags: int = 0


@dataclass
class Channel:
    """A guild channel or a thread (``thread`` is set for threads)."""

    id: int
    guild_id: int
    type: int
    name: str
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    rate_limit_per_user: int = 0
    bitrate: int = 64000
    user_limit: int = 0
    flags: int = 0
    permission_overwrites: list[dict[str, Any]] = field(default_factory=list)
    last_message_id: int | None = None
    last_pin_timestamp: datetime | None = None
    default_auto_archive_duration: int | None = None
    available_tags: list[dict[str, Any]] = field(default_factory=list)
    # threads only
    owner_id: int | None = None
    thread: ThreadMetadata | None = None
    thread_members: dict[int, ThreadMember] = field(default_factory=dict)
    message_count: int = 0
    total_message_sent: int = 0
    applied_tags: list[int] = field(default_factory=list)


@dataclass
class Attachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None
    width: int | None = None
    height: int | None = None
    duration_secs: float | None = None  # voice messages (with ``waveform``, base64)
    waveform: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Reaction:
    """One emoji on a message; ``emoji_id`` None for a unicode emoji (then ``name`` is it)."""

    emoji_id: int | None
    name: str
    animated: bool = False
    user_ids: list[int] = field(default_factory=list)  # in reaction order

    @property
    def key(self) -> str:
        return str(self.emoji_id) if self.emoji_id else self.name


@dataclass
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author_id: int  # the webhook id for webhook messages
    content: str = ""
    type: int = MessageType.DEFAULT
    timestamp: datetime | None = None  # None: taken from the id
    edited_timestamp: datetime | None = None
    tts: bool = False
    mention_everyone: bool = False
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    sticker_ids: list[int] = field(default_factory=list)
    message_reference: dict[str, Any] | None = (
        None  # {"type", "message_id", "channel_id", "guild_id"}
    )
    webhook_id: int | None = None
    webhook_name: str | None = None  # author override of webhook messages
    webhook_avatar: str | None = None  # author avatar hash of webhook messages
    webhook_avatar_url: str | None = None  # the avatar_url the webhook was executed with
    application_id: int | None = None
    interaction: dict[str, Any] | None = None
    pinned: bool = False
    flags: int = 0
    nonce: str | int | None = None
    reactions: list[Reaction] = field(default_factory=list)
    thread_id: int | None = None  # a thread started from this message
    poll: dict[str, Any] | None = None  # as Discord returns it (PollResponse)
    # Forwards: copies of the forwarded message ({"message": {…}}), frozen when forwarded.
    message_snapshots: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Webhook:
    id: int
    guild_id: int
    channel_id: int
    name: str
    token: str
    type: int = 1  # incoming
    avatar: str | None = None
    user_id: int | None = None  # creator
    application_id: int | None = None


@dataclass
class Interaction:
    id: int
    application_id: int
    token: str
    type: int
    data: dict[str, Any]
    guild_id: int | None
    channel_id: int | None
    user_id: int
    responded: bool = False
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)  # follow-up messages, oldest first


@dataclass
class ApplicationCommand:
    id: int
    application_id: int
    name: str
    guild_id: int | None = None
    description: str = ""
    type: int = 1
    options: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # other fields as given, echoed back
