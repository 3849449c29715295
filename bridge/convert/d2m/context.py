"""What a message converter needs to know beyond the message: looked up before converting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class UploadedMedia:
    """A file already in the Matrix media repository."""

    mxc: str
    mimetype: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class ReplyTarget:
    """The Matrix event a Discord reply points at."""

    event_id: str
    sender_mxid: str
    body: str = ""  # an excerpt, for fallbacks
    # Posted from Matrix (through the webhook) by ``sender_mxid``, a real Matrix user: Discord
    # never lists a webhook message's author in a reply's ``mentions``, so the reply pings them.
    from_matrix: bool = False


@dataclass(frozen=True)
class ThreadTarget:
    """Where a message of a Discord thread goes in its parent room."""

    root_event_id: str  # the event of the message the thread started from
    latest_event_id: str  # the newest event in the thread, for the reply fallback


@dataclass(frozen=True)
class ChannelTarget:
    """A Discord channel as a mention links to it."""

    name: str
    room_id: str | None = None  # None: not bridged, the mention shows as plain text
    alias: str | None = None


@dataclass(frozen=True)
class RoleTarget:
    name: str
    color: int = 0


@dataclass(frozen=True)
class MessageContext:
    """Everything about the world that converting one Discord message depends on.

    Mappings hold only what the message refers to; anything missing gets a readable fallback.
    """

    domain: str  # the homeserver's server name, for matrix.to links
    # Discord user id → the Matrix user a mention pills to (a ghost, or a linked real user).
    user_mxids: Mapping[int, str] = field(default_factory=dict)
    # Discord user id → the name Discord shows for them.
    user_names: Mapping[int, str] = field(default_factory=dict)
    roles: Mapping[int, RoleTarget] = field(default_factory=dict)
    channels: Mapping[int, ChannelTarget] = field(default_factory=dict)
    # Custom emoji id → uploaded image; a missing one shows as :name:.
    emoji: Mapping[int, UploadedMedia] = field(default_factory=dict)
    # Attachment id, or sticker id, → uploaded file; a missing one becomes a link.
    media: Mapping[int, UploadedMedia] = field(default_factory=dict)
    reply_to: ReplyTarget | None = None
    thread: ThreadTarget | None = None
    # @everyone/@here become @room only if the author may mention everyone and config allows.
    allow_room_mention: bool = False
    # What the homeserver accepts for an upload (None: unknown).
    max_upload_size: int | None = None
